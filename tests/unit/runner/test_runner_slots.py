"""Test slots: environments are prepared outside them, tests run inside them.

The environment and the commands are fakes that synchronise on events the test controls,
and the clock is a fake one, so nothing sleeps and no time is measured.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.run_record import CellRecord, CellStatus
from pytest_pipeline.runner import envs, execute, outputs, slots, tox_commands, tox_setup
from pytest_pipeline.runner.context import Cancel, RunContext
from pytest_pipeline.runner.execute import run_cell
from pytest_pipeline.runner.inject import Injection
from pytest_pipeline.runner.slots import Slots, lanes

WAIT = 30.0


@pytest.mark.parametrize(
    ("workers", "cells", "expected"),
    [(2, 4, 4), (2, 1, 1), (1, 5, 2), (16, 100, 16 + slots.PREPARE_AHEAD_MAX), (3, 4, 4)],
)
def test_lanes_add_a_few_preparing_cells_to_the_testing_ones(workers: int, cells: int, expected: int) -> None:
    assert lanes(workers, cells) == expected


def test_a_slot_is_taken_released_and_given_to_the_next() -> None:
    pool = Slots(1)
    never = threading.Event()
    assert pool.acquire(never) is not None
    got: list[float | None] = []
    waiter = threading.Thread(target=lambda: got.append(pool.acquire(never)))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()
    assert not got
    pool.release()
    waiter.join(WAIT)
    assert got
    assert got[0] is not None
    pool.release()
    with pytest.raises(RuntimeError, match="not taken"):
        pool.release()
    with pytest.raises(ValueError, match="at least one"):
        Slots(0)


def test_a_cancel_ends_the_wait_for_a_slot() -> None:
    pool = Slots(1)
    assert pool.acquire(threading.Event()) is not None
    cancel = threading.Event()
    got: list[float | None] = []
    waiter = threading.Thread(target=lambda: got.append(pool.acquire(cancel)))
    waiter.start()
    cancel.set()
    waiter.join(WAIT)
    assert got == [None]
    pool.release()  # the cancelled waiter took nothing: the holder's slot is the only one out


class Clock:
    """``time.monotonic`` for the modules under test: moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now


class Cells:
    """Fakes for a cell's environment and commands, each step released by the test."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.prepared: dict[str, threading.Event] = {}
        self.testing: dict[str, threading.Event] = {}
        self.finish: dict[str, threading.Event] = {}
        self.in_tests: set[str] = set()
        self.most_at_once = 0
        self.lock = threading.Lock()

    def add(self, name: str) -> None:
        self.prepared[name] = threading.Event()
        self.testing[name] = threading.Event()
        self.finish[name] = threading.Event()

    def prepare(self, run: Any, cell: Cell, route: Any, **kwargs: Any) -> str:
        self.prepared[cell.name].set()
        return "reused"

    def commands(self, env: Any, *, environ: Mapping[str, str], **kwargs: Any) -> tox_commands.Outcome:
        name = env.name
        with self.lock:
            self.in_tests.add(name)
            self.most_at_once = max(self.most_at_once, len(self.in_tests))
        self.testing[name].set()
        assert self.finish[name].wait(WAIT), f"{name} never released"
        self.clock.now += 10.0  # the tests took ten (fake) seconds
        with self.lock:
            self.in_tests.discard(name)
        sessions = Path(environ["PYTEST_PIPELINE_JUNIT_DIR"])
        sessions.mkdir(parents=True)
        (sessions / "pytest-1.xml").write_text("<testsuites/>")
        return tox_commands.Outcome(exit_code=0)


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Cells:
    clock = Clock()
    cells = Cells(clock)
    monkeypatch.setattr(execute, "time", clock)
    monkeypatch.setattr(slots, "time", clock)
    monkeypatch.setattr(tox_setup, "prepare", cells.prepare)
    monkeypatch.setattr(tox_setup, "install_plugin", lambda injection, env: None)
    monkeypatch.setattr(tox_commands, "run_all", cells.commands)
    return cells


def cell(name: str) -> Cell:
    return Cell(
        name,
        "tox",
        name,
        config={
            "name": name,
            "commands": ["pytest"],
            "skip_install": True,
            "install_command": "python -I -m pip install {packages}",
        },
        python_path=sys.executable,
        python_version="3.99.0",
    )


def context(tmp_path: Path, pool: Slots) -> RunContext:
    return RunContext(
        project=tmp_path,
        reports=outputs.Reports(tmp_path / "reports"),
        injection=Injection(tmp_path / "inject"),
        wheel=None,
        installer=envs.Installer(None),
        environ={"PATH": ""},
        slots=pool,
    )


def start(
    ctx: RunContext, name: str, cancel: Cancel, phases: list[tuple[str, str]]
) -> Callable[[], CellRecord]:
    done: list[CellRecord] = []

    def notify(**changes: Any) -> None:
        phases.append((name, str(changes.get("phase"))))

    thread = threading.Thread(target=lambda: done.append(run_cell(ctx, cell(name), cancel, notify)))
    thread.start()

    def result() -> CellRecord:
        thread.join(WAIT)
        assert done, f"{name} did not finish"
        return done[0]

    return result


def test_environments_are_prepared_while_another_cell_tests(tmp_path: Path, fakes: Cells) -> None:
    ctx = context(tmp_path, Slots(1))
    phases: list[tuple[str, str]] = []
    for name in ("a", "b"):
        fakes.add(name)
    first = start(ctx, "a", Cancel(), phases)
    assert fakes.testing["a"].wait(WAIT)
    second = start(ctx, "b", Cancel(), phases)
    assert fakes.prepared["b"].wait(WAIT)  # b's environment is made while a holds the slot
    assert not fakes.testing["b"].wait(0.2)  # ... but b's tests wait for it
    fakes.finish["a"].set()
    a = first()
    assert fakes.testing["b"].wait(WAIT)
    fakes.finish["b"].set()
    b = second()
    assert (a.status, b.status) == (CellStatus.PASSED, CellStatus.PASSED)
    assert fakes.most_at_once == 1
    assert ("b", "ready") in phases
    # b waited the ten seconds a tested: a cell's time is its own work, not its wait
    assert (a.duration, b.duration) == (10.0, 10.0)
    assert a.message == b.message == "environment reused"


def test_a_cell_cancelled_while_waiting_for_a_slot_never_tests(tmp_path: Path, fakes: Cells) -> None:
    ctx = context(tmp_path, Slots(1))
    phases: list[tuple[str, str]] = []
    for name in ("a", "b"):
        fakes.add(name)
    first = start(ctx, "a", Cancel(), phases)
    assert fakes.testing["a"].wait(WAIT)
    cancel = Cancel()
    second = start(ctx, "b", cancel, phases)
    assert fakes.prepared["b"].wait(WAIT)
    cancel.set("fail-fast")
    b = second()
    assert (b.status, b.message) == (CellStatus.CANCELLED, "stopped by --fail-fast")
    assert not fakes.testing["b"].is_set()
    fakes.finish["a"].set()
    assert first().status is CellStatus.PASSED
