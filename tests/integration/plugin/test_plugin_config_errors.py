"""Bad input is a one-line usage error (exit 4) naming the file, key or option and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_pipeline.config import CONFIG_ENV


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            'stages = ["unit", "smoke", "unit"]',
            "ERROR: */pyproject.toml: [[]tool.pytest-pipeline[]] stages: stage 'unit' is listed twice; "
            "keep one",
        ),
        (
            '[tool.pytest-pipeline.paths]\n"/abs/**" = "smoke"',
            "ERROR: */pyproject.toml: [[]tool.pytest-pipeline.paths[]] '/abs/**': "
            "path rule '/abs/**' must be a relative glob*",
        ),
        (
            '[tool.pytest-pipeline.paths]\n"tests/[e2e/**" = "smoke"',
            "ERROR: *: path rule 'tests/[[]e2e/**' has an unbalanced '[[]'*",
        ),
        (
            '[tool.pytest-pipeline.stage.unit]\nbudget = "fast"',
            "ERROR: *: [[]tool.pytest-pipeline.stage.unit[]] budget: 'fast' is not a duration; "
            "write seconds*",
        ),
        (
            '[tool.pytest-pipeline.stage.smoke]\nready = "ftp://host:21"',
            "ERROR: *: [[]tool.pytest-pipeline.stage.smoke[]] ready: unsupported scheme 'ftp'*",
        ),
        (
            '[tool.pytest-pipeline.stage.smoke]\nready = "localhost"',
            "ERROR: *ready: 'localhost' needs both a host and a port*",
        ),
        (
            'default-stage = "nightly"',
            "ERROR: *default-stage: 'nightly' is not a declared stage; choose one of*",
        ),
        ('stages = ["unit", "all"]', "ERROR: *stages: 'all' is reserved*"),
        (
            "[tool.pytest-pipeline.stage.smoke]\nready-timeout = nan",
            "ERROR: */pyproject.toml: [[]tool.pytest-pipeline.stage.smoke[]] ready-timeout: "
            "must be a finite, non-negative number, got nan",
        ),
        (
            "[tool.pytest-pipeline.stage.unit]\nbudget = inf",
            "ERROR: *[[]tool.pytest-pipeline.stage.unit[]] budget: must be a finite, non-negative number, "
            "got inf",
        ),
        (
            "[tool.pytest-pipeline.stage.unit]\nretries = -1",
            "ERROR: *[[]tool.pytest-pipeline.stage.unit[]] retries: must be a finite, non-negative number, "
            "got -1",
        ),
    ],
)
def test_bad_config_is_one_line(pytester: pytest.Pytester, table: str, message: str) -> None:
    header = "" if table.startswith("[") else "[tool.pytest-pipeline]\n"
    pytester.makepyprojecttoml(header + table + "\n")
    pytester.makepyfile(test_x="def test_x(): pass\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert len([line for line in result.stderr.lines if line.startswith("ERROR")]) == 1


def test_config_env_points_at_another_pyproject(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere" / "pyproject.toml"
    elsewhere.parent.mkdir()
    elsewhere.write_text('[tool.pytest-pipeline]\nstages = ["quick", "slow"]\n')
    pytester.makepyfile(test_x="def test_x(): pass\n")
    monkeypatch.setenv(CONFIG_ENV, str(elsewhere))
    result = pytester.runpytest("--list-stages")
    result.stdout.fnmatch_lines(
        ["pipeline: stages quick > slow; *config: */elsewhere/pyproject.toml", "quick: 1 test"]
    )


def test_config_env_to_a_missing_file_is_an_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CONFIG_ENV, str(pytester.path / "nope.toml"))
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"ERROR: {CONFIG_ENV}=*nope.toml: no such file; point it at the project's pyproject.toml"]
    )


def test_pyproject_at_rootdir_is_read_when_the_ini_is_elsewhere(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\naddopts = --strict-markers\n")
    pytester.makepyprojecttoml('[tool.pytest-pipeline]\nstages = ["fast", "slow"]\n')
    pytester.makepyfile(test_x="import pytest\n\n@pytest.mark.slow\ndef test_x(): pass\n")
    result = pytester.runpytest("--list-stages")
    result.stdout.fnmatch_lines(["fast: 0 tests", "slow: 1 test"])


def test_help_still_works_with_a_broken_config(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml('[tool.pytest-pipeline]\nstages = ["unit", "unit"]\n')
    result = pytester.runpytest("--help")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*--stage=NAME*"])
