"""Test slots: environments are prepared outside them, tests run inside them.

The environment and the commands are fakes that synchronise on events the test controls,
and the clock is a fake one, so nothing sleeps and no time is measured.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.run_record import CellRecord, CellStatus
from pytest_pipeline.runner import envs, execute, outputs, slots, tox_commands, tox_setup
from pytest_pipeline.runner.context import Cancel, RunContext
from pytest_pipeline.runner.execute import run_cell
from pytest_pipeline.runner.inject import Injection
from pytest_pipeline.runner.slots import Allotment, Need, Slots, allot, lanes

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
        self.environ: dict[str, Mapping[str, str]] = {}
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
        self.environ[name] = environ
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


# --------------------------------------------------------------------------- xdist cells: slots by workers


def auto(cap: int | None = None) -> Need:
    return Need(auto=True, cap=cap)


def most_held(allotted: Mapping[str, Allotment], durations: Mapping[str, float]) -> int:
    """The most slots held at once in the expected timeline of ``allotted``."""
    edges = sorted(
        [(a.start, a.slots) for a in allotted.values()]
        + [(a.start + durations.get(name, 1.0), -a.slots) for name, a in allotted.items()],
        key=lambda edge: (edge[0], edge[1]),  # an end before a start at the same moment
    )
    held = most = 0
    for _, change in edges:
        held += change
        most = max(most, held)
    return most


def test_auto_cells_share_the_pool_cells_first() -> None:
    """4 cells with -n auto on 2 slots: two cells at a time, one worker each; never
    four workers on two cores (cells x workers <= the pool)."""
    names = ["a", "b", "c", "d"]
    allotted = allot(names, {name: auto() for name in names}, 2)
    assert {name: (a.slots, a.workers) for name, a in allotted.items()} == {
        "a": (1, 1),
        "b": (1, 1),
        "c": (1, 1),
        "d": (1, 1),
    }
    assert [allotted[name].start for name in names] == [0.0, 0.0, 1.0, 1.0]
    assert most_held(allotted, {}) == 2


def test_the_last_auto_cell_gets_the_cores_the_others_left() -> None:
    """3 cells on 2 slots: the third runs alone, so it gets both (no idle core in the tail)."""
    allotted = allot(["a", "b", "c"], {name: auto() for name in "abc"}, 2)
    assert [(allotted[n].slots, allotted[n].workers) for n in "abc"] == [(1, 1), (1, 1), (2, 2)]


def test_one_auto_cell_gets_the_pool_up_to_its_maxprocesses() -> None:
    assert allot(["a"], {"a": auto()}, 4)["a"] == Allotment(slots=4, workers=4)
    assert allot(["a"], {"a": auto(cap=3)}, 4)["a"] == Allotment(slots=3, workers=3)
    assert allot(["a", "b"], {"a": auto()}, 8)["a"] == Allotment(slots=4, workers=4)
    assert allot(["a", "b"], {"a": auto()}, 8)["b"] == Allotment(slots=1)  # no xdist: one slot


def test_a_fixed_count_takes_its_slots_capped_at_the_pool() -> None:
    allotted = allot(["big", "small"], {"big": Need(slots=8), "small": Need()}, 2)
    assert allotted["big"] == Allotment(slots=2)
    assert allotted["small"] == Allotment(slots=1, start=1.0)  # after big: nothing overtakes it


def test_expected_starts_follow_recorded_durations() -> None:
    allotted = allot(["long", "x", "y"], {}, 2, {"long": 10.0, "x": 2.0, "y": 2.0})
    assert [allotted[n].start for n in ("long", "x", "y")] == [0.0, 0.0, 2.0]


@given(
    needs=st.lists(
        st.one_of(
            st.builds(Need, slots=st.integers(1, 12)),
            st.builds(Need, auto=st.just(True), cap=st.one_of(st.none(), st.integers(1, 6))),
        ),
        min_size=1,
        max_size=12,
    ),
    size=st.integers(1, 16),
    durations=st.lists(st.floats(0.5, 100.0), min_size=12, max_size=12),
)
def test_allotments_never_exceed_the_pool(needs: list[Need], size: int, durations: list[float]) -> None:
    names = [f"c{i}" for i in range(len(needs))]
    recorded = dict(zip(names, durations, strict=False))
    allotted = allot(names, dict(zip(names, needs, strict=True)), size, recorded)
    assert set(allotted) == set(names)  # every cell gets its turn
    assert all(1 <= a.slots <= size for a in allotted.values())
    assert most_held(allotted, recorded) <= size
    for name, need in zip(names, needs, strict=True):
        if need.auto:
            assert allotted[name].workers == allotted[name].slots


def test_weighted_slots_never_exceed_the_pool_and_a_big_cell_is_not_starved() -> None:
    """Pool of 2: ``small1`` holds 1; ``big`` (needs 2) waits; ``small2`` (ranked after big)
    does not slip past it into the free slot, so big is not starved; big gets both slots
    when small1 is done, and small2 follows."""
    allotted = {"small1": Allotment(1), "big": Allotment(2), "small2": Allotment(1)}
    pool = Slots(2, allotted, order=["small1", "big", "small2"])
    never = threading.Event()
    assert pool.acquire(never, "small1") is not None
    got: dict[str, threading.Event] = {name: threading.Event() for name in ("big", "small2")}

    def take(name: str) -> None:
        assert pool.acquire(never, name) is not None
        got[name].set()

    big = threading.Thread(target=take, args=("big",))
    big.start()
    assert pool.waiting_for(["big"], WAIT)
    small2 = threading.Thread(target=take, args=("small2",))
    small2.start()
    assert pool.waiting_for(["big", "small2"], WAIT)
    assert pool.held == 1
    assert not got["big"].is_set()
    assert not got["small2"].is_set()
    pool.release("small1")
    assert got["big"].wait(WAIT)
    assert pool.held == 2
    assert not got["small2"].is_set()
    pool.release("big")
    assert got["small2"].wait(WAIT)
    pool.release("small2")
    big.join(WAIT)
    small2.join(WAIT)
    assert pool.held == 0
    with pytest.raises(RuntimeError, match="not taken"):
        pool.release("big")


def test_waiting_cells_get_their_slots_in_the_expected_order() -> None:
    pool = Slots(1, {}, order=["first", "second", "third"])
    never = threading.Event()
    assert pool.acquire(never, "holder") is not None
    taken: list[str] = []
    lock = threading.Lock()

    def take(name: str) -> None:
        assert pool.acquire(never, name) is not None
        with lock:
            taken.append(name)
        pool.release(name)

    threads = []
    for name in ("third", "first", "second"):  # ready in another order than expected
        threads.append(threading.Thread(target=take, args=(name,)))
        threads[-1].start()
    assert pool.waiting_for(["third", "first", "second"], WAIT)
    pool.release("holder")
    for thread in threads:
        thread.join(WAIT)
    assert taken == ["first", "second", "third"]


def test_a_cancelled_waiter_lets_the_next_one_through() -> None:
    pool = Slots(2, {"big": Allotment(2), "small": Allotment(1)}, order=["big", "small"])
    never = threading.Event()
    assert pool.acquire(never, "holder") is not None
    cancel = threading.Event()
    got: list[float | None] = []
    big = threading.Thread(target=lambda: got.append(pool.acquire(cancel, "big")))
    big.start()
    assert pool.waiting_for(["big"], WAIT)
    small_got = threading.Event()
    small = threading.Thread(target=lambda: (pool.acquire(never, "small"), small_got.set()))
    small.start()
    assert pool.waiting_for(["big", "small"], WAIT)
    cancel.set()  # big gives up: small, behind it, now fits in the free slot
    assert small_got.wait(WAIT)
    big.join(WAIT)
    small.join(WAIT)
    assert got == [None]
    assert pool.workers("big") is None


def test_the_xdist_budget_reaches_the_cells_commands(tmp_path: Path, fakes: Cells) -> None:
    """An auto cell's commands get PYTEST_XDIST_AUTO_NUM_WORKERS = its slots (over the
    caller's, which tox would not pass anyway); a cell with no budget is left alone."""
    pool = Slots(3, {"a": Allotment(2, workers=2)}, order=["a", "b"])
    ctx = context(tmp_path, pool)
    phases: list[tuple[str, str]] = []
    for name in ("a", "b"):
        fakes.add(name)
        fakes.finish[name].set()
        assert start(ctx, name, Cancel(), phases)().status is CellStatus.PASSED
    assert fakes.environ["a"]["PYTEST_XDIST_AUTO_NUM_WORKERS"] == "2"
    assert "PYTEST_XDIST_AUTO_NUM_WORKERS" not in fakes.environ["b"]
    assert pool.held == 0


# --------------------------------------------------------------------------- new environments


FOUR = ["a310", "a312", "b310", "b312"]
PYTHONS = {"a310": "3.10", "b310": "3.10", "a312": "3.12", "b312": "3.12"}


def compiling_310() -> Slots:
    """Two slots, one held by a310 in a new environment: its pytest compiles now."""
    pool = Slots(2, {}, order=FOUR, interpreters=PYTHONS)
    assert pool.acquire(threading.Event(), "a310", new_env=True) is not None
    return pool


def waiter(pool: Slots, name: str) -> tuple[threading.Thread, threading.Event]:
    """``name`` (a new environment) asking for its slot in a thread; the event: it got it."""
    got = threading.Event()
    thread = threading.Thread(target=lambda: (pool.acquire(threading.Event(), name, new_env=True), got.set()))
    thread.start()
    return thread, got


def test_a_new_environment_lets_a_free_slot_go_while_its_interpreter_compiles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(slots, "COMPILE_TURN", 60.0)  # long enough for any machine
    pool = compiling_310()
    b310, got = waiter(pool, "b310")
    assert pool.waiting_for(["b310"], WAIT)
    # a slot is free, yet b310 lets it go: a312, of another interpreter, takes it
    a312, a312_got = waiter(pool, "a312")
    assert a312_got.wait(WAIT)
    assert not got.is_set()
    pool.release("a310")  # 3.10's bytecode is compiled: b310's turn
    assert got.wait(WAIT)
    for thread in (a312, b310):
        thread.join(WAIT)


def test_the_slot_is_taken_once_no_other_interpreter_will_come(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slots, "COMPILE_TURN", 60.0)
    pool = compiling_310()
    b310, got = waiter(pool, "b310")
    assert pool.waiting_for(["b310"], WAIT)
    pool.retire("a312")  # reused
    assert not got.is_set()  # b312 may still come
    pool.retire("b312")  # failed to prepare
    assert got.wait(WAIT)  # beside a310: nobody else would use the slot
    b310.join(WAIT)


def test_a_slot_is_let_go_for_compile_turn_at_most(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slots, "COMPILE_TURN", 0.0)
    pool = compiling_310()
    assert pool.acquire(threading.Event(), "b310", new_env=True) is not None  # its turn given up at once


def test_a_cell_whose_environment_is_not_new_takes_a_free_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slots, "COMPILE_TURN", 60.0)
    pool = compiling_310()
    assert pool.acquire(threading.Event(), "b310") is not None  # compiles nothing: no reason to wait


def test_a_cell_that_ends_without_testing_is_waited_for_no_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slots, "COMPILE_TURN", 60.0)
    pool = Slots(2, {}, order=["a", "b", "c"], interpreters={"a": "3.10", "b": "3.10", "c": "3.99"})
    never = threading.Event()
    assert pool.acquire(never, "a", new_env=True) is not None
    got = threading.Event()
    b = threading.Thread(target=lambda: (pool.acquire(never, "b", new_env=True), got.set()))
    b.start()
    assert pool.waiting_for(["b"], WAIT)  # lets the free slot go to c, which may come
    missing = dataclasses.replace(cell("c"), python_found=False)  # run_cell ends at once: no interpreter
    record = run_cell(context(tmp_path, pool), missing, Cancel(), lambda **changes: None)
    assert record.status is CellStatus.MISSING_INTERPRETER
    assert got.wait(WAIT)  # c will never test: b takes the slot
    b.join(WAIT)
