"""``--config PYPROJECT``: every command that takes it reads it the same way, and a
file that is not there is a usage error naming it (not the defaults, silently)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_pipeline import cli


@pytest.mark.parametrize(
    "argv",
    [
        ["gate"],
        ["publish"],
        ["report", "--html"],
        ["status"],
        ["ci-report"],
        ["install-hook"],
    ],
    ids=lambda argv: argv[0],
)
def test_a_missing_config_file_is_a_usage_error(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    tail = ["--", "true"] if argv == ["publish"] else []
    assert cli.main([*argv, "--config", "nope.toml", *tail]) == 4
    err = capsys.readouterr().err
    assert "--config nope.toml: no such file; point it at the project's pyproject.toml" in err
    assert not (tmp_path / ".git").exists()


def test_the_given_file_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[tool.pytest-pipeline]\nreports-dir = "elsewhere"\n')
    monkeypatch.chdir(tmp_path)
    assert cli.main(["status", "--config", "project/pyproject.toml"]) == 4
    err = capsys.readouterr().err
    assert "no results in project/elsewhere (no gate.json, run.json or history.jsonl)" in err
