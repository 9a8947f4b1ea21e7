"""``pytest-pipeline run`` options: how -e/-m values become cell patterns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_pipeline import cli
from pytest_pipeline.commands.run import RunOptions, options_from


def parse(*argv: str) -> RunOptions:
    pm = cli.plugin_manager(load_entry_points=False)
    args = cli.build_parser(pm).parse_args(["run", *argv])
    args.plugin_manager = pm  # as cli.main hands it to every command
    options = options_from(args)
    assert isinstance(options, RunOptions)
    return options


@pytest.mark.parametrize(
    ("argv", "cells"),
    [
        (["-e", "py310,py312", "-e", "lint"], ("py310", "py312", "lint")),
        (["-e", " py310 , ,py312 "], ("py310", "py312")),
        # a nox session name keeps the commas inside its parentheses
        (["-e", "tests-3.10(attrs='23.2', extra='x')"], ("tests-3.10(attrs='23.2', extra='x')",)),
        (
            ["-e", "tests(python='3.10', attrs='23.2'),lint"],
            ("tests(python='3.10', attrs='23.2')", "lint"),
        ),
        (["--cell", "py312@windows-latest"], ("py312@windows-latest",)),
        ([], ()),
    ],
)
def test_cell_patterns(tmp_path: Path, argv: list[str], cells: tuple[str, ...]) -> None:
    assert parse("--project", str(tmp_path), *argv).cells == cells


@pytest.mark.parametrize(
    ("argv", "timeout", "run_timeout"),
    [
        ([], None, None),  # the configuration decides
        (["--timeout", "10m", "--run-timeout", "1h"], 600.0, 3600.0),
        (["--timeout", "none", "--run-timeout", "0"], 0.0, 0.0),  # no limit, whatever is configured
    ],
)
def test_time_limits(
    tmp_path: Path, argv: list[str], timeout: float | None, run_timeout: float | None
) -> None:
    options = parse("--project", str(tmp_path), *argv)
    assert (options.timeout, options.run_timeout) == (timeout, run_timeout)


def test_a_wrong_time_limit_is_a_usage_error_naming_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["run", "--project", str(tmp_path), "--timeout", "forever"])
    assert code == 4
    assert capsys.readouterr().err.startswith(
        "pytest-pipeline: error: --timeout: 'forever' is not a duration"
    )


def test_labels_are_comma_lists(tmp_path: Path) -> None:
    assert parse("--project", str(tmp_path), "-m", "fast,slow", "-m", "ci").labels == ("fast", "slow", "ci")


@pytest.mark.parametrize(
    ("environ", "provider"),
    [({"GITHUB_ACTIONS": "true"}, "github"), ({"TF_BUILD": "True"}, "azure"), ({}, None)],
)
def test_the_ci_is_detected_so_that_cell_logs_are_folded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], provider: str | None
) -> None:
    for name in ("GITHUB_ACTIONS", "TF_BUILD", "GITLAB_CI"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    found = parse("--project", str(tmp_path)).ci
    assert (found.name if found else None) == provider


def test_the_previous_runs_durations_order_the_next(tmp_path: Path) -> None:
    from pytest_pipeline.commands._durations import previous_durations

    assert previous_durations(tmp_path) == {}  # no earlier run: the configuration's order
    (tmp_path / "run.json").write_text('{"cells": [{"name": "a", "duration": 3.5}, {"name": "b"}]}')
    assert previous_durations(tmp_path) == {"a": 3.5}
    cells = [{"name": "a", "duration": 0.1, "reused_from": {"run": "r1"}}, {"name": "b", "duration": 9}]
    (tmp_path / "run.json").write_text(json.dumps({"cells": cells}))
    assert previous_durations(tmp_path) == {"b": 9.0}  # a reused cell counts as the mean
    (tmp_path / "run.json").write_text('{"cells": [')  # torn: ignored, not an error
    assert previous_durations(tmp_path) == {}


def test_run_html_loads_the_configuration_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``run --html``: the run and its report read one configuration, loaded once."""
    from pytest_pipeline import config as config_mod
    from pytest_pipeline.commands import report, run
    from pytest_pipeline.exitcodes import ExitCode
    from pytest_pipeline.run_record import RunRecord

    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest-pipeline]\nstages = ["unit", "smoke"]\ndefault-stage = "smoke"\n'
    )
    real_load = config_mod.load
    loaded: list[config_mod.PipelineConfig] = []
    given: list[object] = []
    report_stages: list[str] = []

    def counting_load(path: Path | None) -> config_mod.PipelineConfig:
        loaded.append(real_load(path))
        return loaded[-1]

    def fake_run_pipeline(options: RunOptions, **kwargs: object) -> run.RunResult:
        given.append(kwargs.get("config"))
        return run.RunResult(ExitCode.OK, RunRecord(cells=(), stages=("unit",)), None, tmp_path / "reports")

    def fake_write_html(root: Path, output: Path, *, default_stage: str) -> Path:
        report_stages.append(default_stage)
        return output

    monkeypatch.setattr(config_mod, "load", counting_load)
    monkeypatch.setattr(run, "run_pipeline", fake_run_pipeline)
    monkeypatch.setattr(report, "write_html", fake_write_html)
    assert cli.main(["run", "--project", str(tmp_path), "--html"]) == 0
    assert len(loaded) == 1
    assert given == loaded  # the run got the configuration that was loaded
    assert report_stages == ["smoke"]  # and the report its default stage
