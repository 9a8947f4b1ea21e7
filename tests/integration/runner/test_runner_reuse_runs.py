"""Reused results, for real: an unchanged project reuses, every kind of change runs again,
a damaged store is ignored, and a failing cell stays failing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline_testkit import clean_environ, git, pipeline_cli, pyenv_path
from pytest_pipeline.runner import reuse

TOX_INI = """
[tox]
env_list = py312
[testenv]
skip_install = true
deps =
    pytest>=8
    iniconfig=={iniconfig}
pass_env = REUSE_*
commands = pytest {{posargs}} -p no:cacheprovider
"""

TEST = """
import os
from pathlib import Path

def test_data():
    assert Path(__file__).with_name("data.txt").read_text().strip() in ("1", "2")

def test_variable():
    assert os.environ.get("REUSE_FLAG", "on") in ("on", "off")
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "tests").mkdir(parents=True)
    (root / "tox.ini").write_text(TOX_INI.format(iniconfig="2.0.0"))
    (root / "tests" / "test_it.py").write_text(TEST)
    (root / "tests" / "data.txt").write_text("1\n")
    (root / ".gitignore").write_text(".tox/\n__pycache__/\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "-c", "user.email=a@b", "-c", "user.name=n", "commit", "-qm", "init")
    return root


@pytest.fixture
def environ() -> dict[str, str]:
    try:
        return clean_environ(PATH=pyenv_path("3.12"), NO_COLOR="1")
    except LookupError as missing:
        pytest.skip(str(missing))


def run(project: Path, environ: dict[str, str], *args: str) -> dict[str, object]:
    done = pipeline_cli("run", "-e", "py312", *args, cwd=project, env=environ)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    (cell,) = json.loads((project / "pipeline-reports" / "run.json").read_text())["cells"]
    return dict(cell, output=done.stdout)


def test_nothing_changed_reuses_and_every_change_runs_again(project: Path, environ: dict[str, str]) -> None:
    first = run(project, environ)
    assert first["status"] == "passed"
    assert first["reused_from"] is None
    again = run(project, environ)
    assert again["reused_from"] is not None, again["output"]
    assert again["status"] == "passed"
    assert "reused from run" in str(again["message"])
    assert (project / "pipeline-reports" / "cells" / "py312" / "junit.xml").is_file()

    def ran_again(change: str) -> None:
        cell = run(project, environ)
        assert cell["reused_from"] is None, (change, cell["message"])
        assert run(project, environ)["reused_from"] is not None, change  # and is reused after

    (project / "tests" / "data.txt").write_text("2\n")  # a data file a test reads
    ran_again("data file")
    (project / "tests" / "test_it.py").write_text(TEST + "\ndef test_more():\n    pass\n")
    ran_again("test file")
    environ["REUSE_FLAG"] = "off"  # a variable the configuration passes
    ran_again("passed variable")
    environ["OTHER_VARIABLE"] = "x"  # one it does not pass: no input
    assert run(project, environ)["reused_from"] is not None
    (project / "tox.ini").write_text(TOX_INI.format(iniconfig="2.1.0"))  # a dependency's version
    ran_again("dependency version")
    assert run(project, environ, "--fresh")["reused_from"] is None


def test_a_failing_cell_is_reused_as_failing(project: Path, environ: dict[str, str]) -> None:
    (project / "tests" / "data.txt").write_text("3\n")
    assert run(project, environ)["status"] == "failed"
    again = run(project, environ)
    assert (again["status"], again["reused_from"] is not None) == ("failed", True)
    assert "GATE CLOSED (1)" in str(again["output"])  # never open where a fresh run closes


def test_a_damaged_store_is_ignored_with_a_note(project: Path, environ: dict[str, str]) -> None:
    run(project, environ)
    (entry,) = [path for path in reuse.store_dir(project).iterdir() if not path.name.startswith(".")]
    (entry / "result.json").write_text("{half")
    cell = run(project, environ)
    assert cell["reused_from"] is None
    log = (project / "pipeline-reports" / "cells" / "py312" / "log.txt").read_text()
    assert "ignored a damaged stored result" in log


def test_reused_results_are_labelled_and_the_policy_decides(project: Path, environ: dict[str, str]) -> None:
    run(project, environ)
    again = run(project, environ)
    assert "passed (reused)" in str(again["output"])  # the summary table
    gate = json.loads((project / "pipeline-reports" / "gate.json").read_text())
    (cell,) = gate["cells"]
    assert cell["reused_from"] == again["reused_from"]
    assert [note["cell"] for note in gate["notes"] if note["kind"] == "reused-results"] == ["py312"]
    assert gate["code"] == 0
    # The same reports under a policy that refuses reused results: incomplete.
    refused = pipeline_cli("gate", "--reused-results", "refuse", cwd=project, env=environ)
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "the policy refuses reused results" in refused.stdout
    # A project whose policy refuses them: run runs the cell rather than reuse it.
    (project / "pyproject.toml").write_text('[tool.pytest-pipeline.gate]\nreused-results = "refuse"\n')
    git(project, "add", "-A")
    git(project, "-c", "user.email=a@b", "-c", "user.name=n", "commit", "-qm", "refuse")
    run(project, environ)  # the pyproject.toml is an input: this one runs anyway
    fresh = run(project, environ)  # unchanged inputs, but the policy refuses reuse
    assert fresh["reused_from"] is None
    assert json.loads((project / "pipeline-reports" / "gate.json").read_text())["code"] == 0
