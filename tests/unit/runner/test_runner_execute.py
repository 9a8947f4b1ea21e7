"""How a cell ended, where its environment lives, and a nox cell's one command."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.run_record import CellStatus
from pytest_pipeline.runner.context import env_folder
from pytest_pipeline.runner.execute import (
    classify,
    classify_by_exit_code,
    record_of,
)
from pytest_pipeline.runner.tox_setup import interpreter_of


@pytest.mark.parametrize(
    ("exit_code", "junit", "cancelled", "status"),
    [
        (0, True, None, CellStatus.PASSED),
        (1, True, None, CellStatus.FAILED),
        (5, True, None, CellStatus.NO_TESTS),
        (2, True, None, CellStatus.FAILED),  # collection errors: the report says which
        (3, True, None, CellStatus.CRASHED),
        (4, True, None, CellStatus.CRASHED),
        (1, False, None, CellStatus.CRASHED),
        (-9, False, None, CellStatus.CRASHED),
        (0, False, None, CellStatus.CRASHED),
        (None, False, None, CellStatus.CRASHED),
        (-15, False, "interrupted", CellStatus.INTERRUPTED),
        (-15, True, "fail-fast", CellStatus.CANCELLED),
        (-15, False, "timed-out", CellStatus.TIMED_OUT),
    ],
)
def test_classify(exit_code: int | None, junit: bool, cancelled: str | None, status: CellStatus) -> None:
    got, message = classify(exit_code=exit_code, junit=junit, cancelled=cancelled)  # type: ignore[arg-type]
    assert got is status
    assert (message == "") == (status is CellStatus.PASSED)


def test_classify_says_when_it_trusts_the_exit_code() -> None:
    assert classify(exit_code=1, junit=False, cancelled=None)[1] == "no report: exit code 1"
    assert classify(exit_code=-9, junit=False, cancelled=None)[1] == "no report: killed by SIGKILL (exit -9)"
    assert classify(exit_code=-9, junit=True, cancelled=None)[1].startswith("pytest killed by SIGKILL")


def test_env_folder_is_the_env_dir_tox_resolved_with_our_workdir(tmp_path: Path) -> None:
    # discovery asked tox with --workdir .tox/.pipeline: env_dir is already ours
    env_dir = tmp_path / ".tox" / ".pipeline" / "py312-x"
    assert (
        env_folder(Cell("py312-x", "tox", "py312-x", config={"env_dir": str(env_dir)}), tmp_path) == env_dir
    )
    assert env_folder(Cell("a", "tox", "a"), tmp_path) == tmp_path / ".tox" / ".pipeline" / "a"
    assert env_folder(Cell("s", "nox", "s"), tmp_path) == tmp_path / ".nox" / ".pipeline" / "s"
    assert env_folder(Cell("s+attrs23.2", "nox", "s"), tmp_path).name == "s+attrs23.2"


def test_nox_env_folders_have_plain_names_of_their_own(tmp_path: Path) -> None:
    # a venv's scripts fail under a folder named like a call, once its path is long
    names = ("tests-3.12(attrs='24.2')", "tests-3.12(attrs='24-2')", 'tests-3.12(attrs="24.2")')
    folders = {env_folder(Cell(name, "nox", name), tmp_path).name for name in names}
    assert len(folders) == len(names)
    for folder in folders:
        assert re.fullmatch(r"tests-3\.12-attrs-24.2-[0-9a-f]{6}", folder), folder


def test_a_cell_record_carries_tox_s_ignore_outcome() -> None:
    assert record_of(
        Cell("py312", "tox", "py312", config={"ignore_outcome": True}), CellStatus.FAILED
    ).ignore_outcome
    assert not record_of(Cell("py312", "tox", "py312", config={}), CellStatus.FAILED).ignore_outcome
    assert not record_of(
        Cell("tests", "nox", "tests", config={"ignore_outcome": True}), CellStatus.FAILED
    ).ignore_outcome


def test_interpreter_of_uses_discovery_answer() -> None:
    cell = Cell("c", "tox", "c", python="3.12", python_path="/x/python3.12", python_version="3.12.1")
    assert interpreter_of(cell) == ("/x/python3.12", "3.12.1")


def test_cells_without_per_test_results_are_judged_by_exit_code() -> None:
    assert classify_by_exit_code(0) == (CellStatus.PASSED, "runs no pytest: judged by its exit code")
    assert classify_by_exit_code(2) == (CellStatus.FAILED, "runs no pytest: exited with 2")
    status, message = classify_by_exit_code(0, runs_pytest=True)
    assert status is CellStatus.PASSED
    assert message.startswith("no per-test results")


def test_a_nox_cell_is_one_nox_run_with_its_own_envdir_and_pins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """nox installs and runs the session in one go (a session may use what session.run
    printed while installing); pins reach its installers through their variables. Every
    command a cell runs, with a fake in place of the process."""
    from pytest_pipeline.runner import context, envs, execute
    from pytest_pipeline.runner.backends import nox as nox_backend
    from pytest_pipeline.runner.inject import Injection
    from pytest_pipeline.runner.outputs import Reports
    from pytest_pipeline.runner.process import CommandResult

    project = tmp_path / "proj"
    project.mkdir()
    reports = Reports(tmp_path / "reports")
    commands: list[tuple[list[str], dict[str, str]]] = []

    def fake_run(argv: list[str], *, env: dict[str, str], **_: object) -> CommandResult:
        commands.append((list(argv), dict(env)))
        # what the in-cell plugin does: a JUnit file in the sessions folder, an event
        sessions = Path(env["PYTEST_PIPELINE_JUNIT_DIR"])
        sessions.mkdir(parents=True)
        (sessions / "pytest-1.xml").write_text("<testsuite/>")
        Path(env["PYTEST_PIPELINE_EVENTS"]).write_text('{"event":"collected"}\n')
        return CommandResult(tuple(argv), 0)

    monkeypatch.setattr(nox_backend, "run_command", fake_run)
    ctx = context.RunContext(
        project=project,
        reports=reports,
        injection=Injection(tmp_path / "inject"),
        wheel=None,
        installer=envs.Installer("/bin/uv"),
        environ={"PATH": "/usr/bin", "PYTHONPATH": "/theirs"},
        tool_config=project / "noxfile.py",
    )
    envdirs = []
    for value in ("23.2", "24.2"):
        cell = Cell(f"tests-3.12+attrs{value}", "nox", "tests-3.12", pins=(f"attrs=={value}.*",))
        commands.clear()
        record = execute.run_cell(ctx, cell, context.Cancel(), lambda **_: None)
        assert record.status is CellStatus.PASSED, record
        assert record.junit == f"cells/{cell.name}/junit.xml"
        assert f"pinned attrs=={value}.*" in record.message
        assert "not the run's wheel" in record.message
        ((nox, env),) = commands
        assert nox[nox.index("-s") + 1] == "tests-3.12"
        assert "--install-only" not in nox
        assert "--no-install" not in nox
        envdir = Path(nox[nox.index("--envdir") + 1])
        assert envdir == (project / ".nox" / ".pipeline" / cell.name).resolve()
        assert Path(env["PIP_CONSTRAINT"]).read_text() == f"attrs=={value}.*\n"
        assert env["UV_OVERRIDE"] == env["PIP_CONSTRAINT"]
        assert env["PYTHONPATH"] == os.pathsep.join([str(tmp_path / "inject"), "/theirs"])
        assert "-p pipeline" in env["PYTEST_ADDOPTS"]
        envdirs.append(envdir)
    assert envdirs[0] != envdirs[1]  # two axis cells of one session never share a venv
