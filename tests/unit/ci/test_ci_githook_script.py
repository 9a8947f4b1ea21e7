"""The hook script's text: how the command is run, quoting, the marker, the config table."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from pytest_pipeline.ci import githook
from pytest_pipeline.config import from_table
from pytest_pipeline.errors import PipelineError

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("command", "line"),
    [
        ("pytest --stage=unit -x -q", '"$python" -m pytest --stage=unit -x -q'),
        ("py.test", '"$python" -m pytest'),
        ("pytest-pipeline run -e 'py3*'", "\"$python\" -m pytest_pipeline run -e 'py3*'"),
        ("python -m pytest -k 'a or b'", "\"$python\" -m pytest -k 'a or b'"),
        ("python3 tools/check.py", '"$python" tools/check.py'),
        ("tox -e py312 -- -x", "tox -e py312 -- -x"),
        ("./run tests; rm -rf /", "./run 'tests;' rm -rf /"),
    ],
)
def test_invocation(command: str, line: str) -> None:
    assert githook.invocation(command) == line


@pytest.mark.parametrize("command", ["", "   ", "pytest 'unclosed"])
def test_bad_commands(command: str) -> None:
    with pytest.raises(PipelineError, match="hook command"):
        githook.invocation(command)


def test_script_is_valid_sh_and_records_the_interpreter(tmp_path: Path) -> None:
    command = "pytest -k 'it''s'"
    text = githook.script(command, "/opt/my env/bin/python")
    assert text.splitlines()[:2] == ["#!/bin/sh", githook.MARKER]
    assert "python='/opt/my env/bin/python'" in text
    assert "command=" + shlex.quote(command) in text
    path = tmp_path / "pre-push"
    path.write_text(text, encoding="utf-8")
    assert subprocess.run(["sh", "-n", str(path)], check=False).returncode == 0


def test_is_ours_reads_the_marker_near_the_top(tmp_path: Path) -> None:
    ours = tmp_path / "ours"
    ours.write_text(githook.script("pytest", "/usr/bin/python3"), encoding="utf-8")
    theirs = tmp_path / "theirs"
    theirs.write_text("#!/bin/sh\n" + "\n" * 10 + githook.MARKER + "\n", encoding="utf-8")
    assert githook.is_ours(ours)
    assert not githook.is_ours(theirs)
    assert not githook.is_ours(tmp_path / "missing")


def test_configured_command() -> None:
    source = Path("pyproject.toml")
    assert githook.configured_command(from_table({}, source)) is None
    table = {"hook": {"command": "pytest -q"}}
    assert githook.configured_command(from_table(table, source)) == "pytest -q"
    with pytest.raises(PipelineError, match=r"\[tool.pytest-pipeline.hook\] command: expected a string"):
        githook.configured_command(from_table({"hook": {"command": ["pytest"]}}, source))
    with pytest.raises(PipelineError, match="command: is empty"):
        githook.configured_command(from_table({"hook": {"command": " "}}, source))


def test_pre_commit_manifest_offers_the_same_command_at_pre_push() -> None:
    hooks = YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    [hook] = hooks
    assert hook["id"] == "pytest-pipeline-unit"
    assert hook["language"] == "system", "the tests need the project's own environment"
    assert hook["stages"] == ["pre-push"]
    assert hook["pass_filenames"] is False
    assert hook["always_run"] is True
    assert shlex.split(hook["entry"]) == ["python", "-m", *shlex.split(githook.DEFAULT_COMMAND)]
    assert set(hook) <= {
        "id", "name", "description", "entry", "language", "pass_filenames", "always_run",
        "require_serial", "stages", "minimum_pre_commit_version",
    }  # fmt: skip
