"""An install that fails (a ``deps`` entry the index does not have) makes that cell
``env-error``, named in one line, on the ``native`` route, on the ``tox-env`` route
(``dependency_groups``: tox makes the environment) and on the ``tox`` route (tox does
everything); the other cells still run, and the
gate is incomplete (3), as the README says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mini_project import write_project

from pipeline_testkit import pipeline_cli
from pytest_pipeline.runner import envs

MISSING = "pytest-pipeline-no-such-dist-xyz==0.0.1"

TOX_INI = f"""
[tox]
env_list = good, bad, badgroup

[testenv]
deps = pytest>=8.2
commands = pytest {{posargs}}

[testenv:bad]
deps =
    pytest>=8.2
    {MISSING}

[testenv:badgroup]
dependency_groups = test
deps = {MISSING}
"""

GROUPS = """
[dependency-groups]
test = ["pytest>=8.2"]
"""


def run(project: Path, reports: Path, *args: str) -> tuple[str, dict[str, Any], dict[str, str]]:
    """``pytest-pipeline run ARGS`` that must close the gate as incomplete (3): its output,
    its cells by name and their logs."""
    done = pipeline_cli("run", "--reports-dir", str(reports), *args, cwd=project)
    assert done.returncode == 3, done.stdout + done.stderr
    record = json.loads((reports / "run.json").read_text())
    cells = {cell["name"]: cell for cell in record["cells"]}
    assert cells["good"]["status"] == "passed", cells["good"]
    logs = {name: (reports / cell["log"]).read_text() for name, cell in cells.items()}
    return done.stdout, cells, logs


def test_a_failed_install_is_an_env_error_of_that_cell_alone(tmp_path: Path) -> None:
    if envs.find_uv() is None:
        pytest.skip("uv keeps this test fast")
    project = write_project(tmp_path / "proj")
    (project / "tox.ini").write_text(TOX_INI)
    with (project / "pyproject.toml").open("a") as pyproject:
        pyproject.write(GROUPS)

    output, cells, logs = run(project, tmp_path / "reports")
    assert "runs native:" in logs["bad"]
    assert "runs tox-env:" in logs["badgroup"]
    assert_env_errors(output, cells, logs, "bad", "badgroup")

    output, cells, logs = run(
        project, tmp_path / "through-tox", "--backend", "tox", "-e", "good", "-e", "bad"
    )
    assert "runs tox:" in logs["bad"]
    assert_env_errors(output, cells, logs, "bad")


def assert_env_errors(output: str, cells: dict[str, Any], logs: dict[str, str], *names: str) -> None:
    for name in names:
        cell = cells[name]
        assert cell["status"] == "env-error", (cell, logs[name][-2000:])
        # one line of the run's summary names the cell, what went wrong and the installer's
        # own verdict (what would fix it); the log has the rest
        line = f"{name}: env-error: {cell['message']}"
        assert " ".join(line.split()) in " ".join(output.split()), output  # however the terminal wraps it
        assert "failed" in cell["message"] or "could not" in cell["message"], cell
        assert "pytest-pipeline-no-such-dist-xyz" in cell["message"], cell
        assert "pytest-pipeline-no-such-dist-xyz" in logs[name]


def test_an_environment_whose_runner_is_not_installed_fails_as_tox_fails_it(tmp_path: Path) -> None:
    # `tox config -e ALL` leaves it out of its answer (logged as unavailable); `tox run -e
    # py3-norunner` exits 254. It stays a cell, goes to tox, and is env-error in tox's words.
    project = write_project(tmp_path / "proj")
    (project / "tox.ini").write_text(
        "[tox]\nenv_list = good, py3-norunner\n\n[testenv]\ndeps = pytest>=8.2\ncommands = pytest\n\n"
        "[testenv:py3-norunner]\nrunner = pytest-pipeline-no-such-runner\n"
    )
    _, cells, logs = run(project, tmp_path / "reports")
    cell = cells["py3-norunner"]
    assert cell["status"] == "env-error", (cell, logs["py3-norunner"][-2000:])
    assert "runs tox:" in logs["py3-norunner"]
    assert (
        "runner 'pytest-pipeline-no-such-runner' for environment 'py3-norunner' is not available"
        in (cell["message"])
    )
