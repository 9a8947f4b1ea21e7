"""Environments begun while the package builds: taken over only when exactly what the
cell would do, else made from scratch."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from test_runner_tox_setup import (  # prepare()'s fakes
    NATIVE,
    TOX_ENV,
    Commands,
    fake_commands,
    prepare,
    run_of,
    tox_cell,
)

from pipeline_testkit import make_wheel
from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.runner import ahead, tox_setup
from pytest_pipeline.runner.process import CommandResult


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch) -> Commands:
    return fake_commands(monkeypatch)


@pytest.fixture(autouse=True)
def _interpreter(monkeypatch: pytest.MonkeyPatch) -> None:
    # what prepare() of these tests is given
    monkeypatch.setattr(tox_setup, "interpreter_of", lambda cell: ("/py/python3.12", "3.12.1"))


def begin_all(tmp_path: Path, cells: list[Cell], route: object = NATIVE, **changes: object) -> ahead.Ahead:
    """An :class:`ahead.Ahead` of ``cells`` run to its end, as while a package builds."""
    run = run_of(tmp_path, None, **changes)
    ctx = SimpleNamespace(project=tmp_path, route=lambda cell: route)
    began = ahead.Ahead(ctx, cells, lanes=2)  # type: ignore[arg-type]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tox_setup, "tox_cell", lambda ctx: run)
        began.start().join()
    began.stop()
    return began


def test_the_cell_takes_over_the_venv_and_deps(tmp_path: Path, commands: Commands) -> None:
    cell = tox_cell(tmp_path)
    began = begin_all(tmp_path, [cell])
    assert commands.labels() == ["venv", "pip"]  # no package yet: venv and deps only
    commands.argvs.clear()
    wheel = make_wheel(tmp_path, ("attrs>=23",))
    log = io.BytesIO()
    action = tox_setup.prepare(
        run_of(tmp_path, wheel, ahead=began), cell, NATIVE, interpreter="/py/python3.12",
        interpreter_version="3.12.1", log=log, cancel=threading.Event(),
    )  # fmt: skip
    assert action == "created"
    assert commands.labels() == ["pip", "pip"]  # the package's requirements, the package
    assert b"begun while the package built (venv, install_deps)" in log.getvalue()
    assert not (tmp_path / ".tox" / ".pipeline" / "py312" / tox_setup.BEGUN_MARKER).exists()
    commands.argvs.clear()
    assert prepare(run_of(tmp_path, wheel), cell) == "reused"  # its fingerprint is a whole one


def test_an_environment_remade_by_another_process_meanwhile_is_made_again(
    tmp_path: Path, commands: Commands
) -> None:
    cell = tox_cell(tmp_path)
    began = begin_all(tmp_path, [cell])
    (tmp_path / ".tox" / ".pipeline" / "py312" / tox_setup.BEGUN_MARKER).unlink()  # what its rmtree does
    commands.argvs.clear()
    wheel = make_wheel(tmp_path, ())
    assert prepare(run_of(tmp_path, wheel, ahead=began), cell) == "created"
    assert commands.labels() == ["venv", "pip", "pip"]  # from scratch (no package deps here)


def test_other_settings_than_begun_are_made_from_scratch(tmp_path: Path, commands: Commands) -> None:
    began = begin_all(tmp_path, [tox_cell(tmp_path, deps=["pytest>=8"])])
    commands.argvs.clear()
    changed = tox_cell(tmp_path, deps=["pytest>=9"])
    assert prepare(run_of(tmp_path, make_wheel(tmp_path, ()), ahead=began), changed) == "created"
    assert commands.labels() == ["venv", "pip", "pip"]
    assert any("pytest>=9" in argv for argv in commands.argvs[1])


def test_a_current_environment_is_left_for_the_cell(tmp_path: Path, commands: Commands) -> None:
    cell = tox_cell(tmp_path)
    wheel = make_wheel(tmp_path, ())
    assert prepare(run_of(tmp_path, wheel), cell) == "created"
    commands.argvs.clear()
    begin_all(tmp_path, [cell])
    assert commands.argvs == []  # reused or only the package: that needs the package
    begin_all(tmp_path, [cell], recreate=True)
    assert commands.labels() == ["venv", "pip"]  # --recreate: made anew for certain


def test_environments_tox_makes_are_not_begun(tmp_path: Path, commands: Commands) -> None:
    begin_all(tmp_path, [tox_cell(tmp_path)], route=TOX_ENV)
    assert commands.argvs == []


def test_a_failed_step_leaves_it_all_to_the_cell(
    tmp_path: Path, commands: Commands, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(argv: list[str], **kwargs: object) -> CommandResult:
        if "install" in argv:
            return CommandResult(tuple(argv), 1)
        return commands(argv)

    monkeypatch.setattr(tox_setup, "run_command", failing)
    cell = tox_cell(tmp_path)
    began = begin_all(tmp_path, [cell])
    assert not (tmp_path / ".tox" / ".pipeline" / "py312" / tox_setup.BEGUN_MARKER).exists()
    monkeypatch.setattr(tox_setup, "run_command", commands)
    commands.argvs.clear()
    assert prepare(run_of(tmp_path, make_wheel(tmp_path, ()), ahead=began), cell) == "created"
    assert commands.labels() == ["venv", "pip", "pip"]


def test_nothing_begins_after_stop_and_settle_returns(tmp_path: Path, commands: Commands) -> None:
    ctx = SimpleNamespace(project=tmp_path, route=lambda cell: NATIVE)
    began = ahead.Ahead(ctx, [tox_cell(tmp_path)], lanes=1)  # type: ignore[arg-type]
    began.stop()
    began.start().join()
    began.settle("py312", threading.Event())
    assert commands.argvs == []


def test_settle_waits_for_the_cell_being_begun(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    release, entered = threading.Event(), threading.Event()

    def slow_begin(self: ahead.Ahead, cell: Cell) -> None:
        entered.set()
        release.wait(30)

    monkeypatch.setattr(ahead.Ahead, "_begin", slow_begin)
    ctx = SimpleNamespace(project=tmp_path, route=lambda cell: NATIVE)
    began = ahead.Ahead(ctx, [tox_cell(tmp_path)], lanes=1).start()  # type: ignore[arg-type]
    assert entered.wait(30)
    began.stop()
    settled = threading.Thread(target=began.settle, args=("py312", threading.Event()))
    settled.start()
    settled.join(0.2)
    assert settled.is_alive()  # still being begun
    release.set()
    settled.join(30)
    assert not settled.is_alive()
    cancel = threading.Event()
    cancel.set()
    began.settle("py312", cancel)  # a cancelled cell never waits
