"""Scheduling with fake cells: worker limit, order, fail-fast, interrupt, crashes.

Jobs synchronise on events the test controls; nothing sleeps.
"""

from __future__ import annotations

import errno
import json
import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.run_record import CellRecord, CellStatus
from pytest_pipeline.runner import cores, process, scheduler, watchdog
from pytest_pipeline.runner.context import Cancel, Notify
from pytest_pipeline.runner.execute import classify
from pytest_pipeline.runner.scheduler import Job, Listener, Scheduler
from pytest_pipeline.runner.slots import worker_count

WAIT = 30.0


def record(name: str, status: CellStatus, message: str = "") -> CellRecord:
    return CellRecord(name=name, status=status, message=message)


def job(name: str, fn: Callable[[Cancel], CellStatus], events: Path | None = None) -> Job:
    def run(cancel: Cancel, notify: Notify) -> CellRecord:
        notify(phase="tests")
        return record(name, fn(cancel))

    return Job(Cell(name, "tox", name), run, events=events)


def until_cancelled(cancel: Cancel) -> CellStatus:
    assert cancel.event.wait(WAIT), "never cancelled"
    return CellStatus.INTERRUPTED if cancel.reason == "interrupted" else CellStatus.CANCELLED


def as_classified(cancel: Cancel) -> CellStatus:
    """Wait to be cancelled, then end as a cell does (timed-out, interrupted, cancelled)."""
    assert cancel.event.wait(WAIT), "never cancelled"
    return classify(exit_code=-15, junit=False, cancelled=cancel.reason)[0]


class Recorder(Listener):
    def __init__(self) -> None:
        self.notes: list[tuple[str, str]] = []
        self.started_names: list[str] = []
        self.finished_names: list[str] = []
        self.updates: list[tuple[str, dict[str, Any]]] = []
        self.events: list[tuple[str, dict[str, Any]]] = []

    def started(self, cell: str) -> None:
        self.started_names.append(cell)

    def update(self, cell: str, **changes: Any) -> None:
        self.updates.append((cell, changes))

    def event(self, cell: str, event: dict[str, Any]) -> None:
        self.events.append((cell, event))

    def finished(self, record: CellRecord) -> None:
        self.finished_names.append(record.name)

    def note(self, cell: str, text: str) -> None:
        self.notes.append((cell, text))


def test_worker_limit_and_plan_order() -> None:
    lock = threading.Lock()
    running = {"now": 0, "max": 0}
    started: queue.Queue[str] = queue.Queue()
    release = {name: threading.Event() for name in "abcd"}

    def work(name: str) -> Callable[[Cancel], CellStatus]:
        def fn(cancel: Cancel) -> CellStatus:
            with lock:
                running["now"] += 1
                running["max"] = max(running["max"], running["now"])
            started.put(name)
            assert release[name].wait(WAIT)
            with lock:
                running["now"] -= 1
            return CellStatus.PASSED

        return fn

    listener = Recorder()
    scheduler = Scheduler([job(n, work(n)) for n in "abcd"], workers=2, listener=listener)
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(scheduler.run()))
    thread.start()
    order = [started.get(timeout=WAIT), started.get(timeout=WAIT)]
    for name in "abcd":
        release[name].set()
        if len(order) < 4:
            order.append(started.get(timeout=WAIT))
    thread.join(WAIT)
    assert sorted(order[:2]) == ["a", "b"]
    assert order[2:] == ["c", "d"]
    assert running["max"] == 2
    outcome = result[0]
    assert [r.name for r in outcome.records] == list("abcd")
    assert all(r.status is CellStatus.PASSED for r in outcome.records)
    assert not outcome.interrupted
    assert listener.started_names == list("abcd")
    assert ("a", {"phase": "tests"}) in listener.updates


def test_fail_fast_cancels_running_and_pending() -> None:
    b_started = threading.Event()

    def slow(cancel: Cancel) -> CellStatus:
        b_started.set()
        return until_cancelled(cancel)

    def failing(cancel: Cancel) -> CellStatus:
        assert b_started.wait(WAIT)
        return CellStatus.FAILED

    jobs = [job("b", slow), job("a", failing), job("c", lambda c: CellStatus.PASSED)]
    outcome = Scheduler(jobs, workers=2, fail_fast=True).run()
    statuses = {r.name: (r.status, r.message) for r in outcome.records}
    assert statuses["a"][0] is CellStatus.FAILED
    assert statuses["b"][0] is CellStatus.CANCELLED
    assert statuses["c"] == (CellStatus.CANCELLED, "not started: --fail-fast")
    assert outcome.stopped_by == "a"
    assert not outcome.interrupted


def test_without_fail_fast_a_failure_stops_nothing() -> None:
    jobs = [job("a", lambda c: CellStatus.FAILED), job("b", lambda c: CellStatus.PASSED)]
    outcome = Scheduler(jobs, workers=1).run()
    assert [r.status for r in outcome.records] == [CellStatus.FAILED, CellStatus.PASSED]


def test_fail_fast_ignores_a_tox_ignore_outcome_cell(tmp_path: Path) -> None:
    events = tmp_path / "a.jsonl"

    def failing(cancel: Cancel) -> CellStatus:
        events.write_text(json.dumps({"event": "test", "outcome": "failed", "stage": "unit"}) + "\n")
        return CellStatus.FAILED

    ignored = Job(
        Cell("a", "tox", "a", config={"ignore_outcome": True}),
        lambda cancel, notify: record("a", failing(cancel)),
        events=events,
    )
    listener = Recorder()
    outcome = Scheduler(
        [ignored, job("b", lambda c: CellStatus.PASSED)], workers=1, fail_fast=True, listener=listener
    ).run()
    assert [r.status for r in outcome.records] == [CellStatus.FAILED, CellStatus.PASSED]
    assert outcome.stopped_by is None
    assert ("a", {"event": "test", "outcome": "failed", "stage": "unit"}) in listener.events


def test_fail_fast_on_a_failed_test_event_spares_the_failing_cell(tmp_path: Path) -> None:
    events = tmp_path / "a.jsonl"
    b_cancelled = threading.Event()
    b_started = threading.Event()

    def failing_then_waits(cancel: Cancel) -> CellStatus:
        assert b_started.wait(WAIT)
        events.write_text(json.dumps({"event": "test", "outcome": "failed", "stage": "unit"}) + "\n")
        assert b_cancelled.wait(WAIT)
        assert not cancel.event.is_set()
        return CellStatus.FAILED

    def slow(cancel: Cancel) -> CellStatus:
        b_started.set()
        status = until_cancelled(cancel)
        b_cancelled.set()
        return status

    listener = Recorder()
    jobs = [job("a", failing_then_waits, events=events), job("b", slow)]
    outcome = Scheduler(jobs, workers=2, fail_fast=True, listener=listener).run()
    assert [r.status for r in outcome.records] == [CellStatus.FAILED, CellStatus.CANCELLED]
    assert outcome.stopped_by == "a"
    assert ("a", {"event": "test", "outcome": "failed", "stage": "unit"}) in listener.events


def test_interrupt_cancels_everything_and_keeps_finished_results() -> None:
    a_done = threading.Event()

    class InterruptOnThirdStart(Recorder):
        def started(self, cell: str) -> None:
            super().started(cell)
            if cell == "c":
                raise KeyboardInterrupt

    def quick(cancel: Cancel) -> CellStatus:
        a_done.set()
        return CellStatus.PASSED

    def slow(cancel: Cancel) -> CellStatus:
        assert a_done.wait(WAIT)
        return until_cancelled(cancel)

    jobs = [job("a", quick), job("b", slow), job("c", slow), job("d", slow)]
    listener = InterruptOnThirdStart()
    scheduler = Scheduler(jobs, workers=2, listener=listener)
    outcome = scheduler.run()
    statuses = {r.name: r.status for r in outcome.records}
    assert outcome.interrupted
    assert statuses["a"] is CellStatus.PASSED
    assert statuses["b"] is CellStatus.INTERRUPTED
    assert statuses["c"] is CellStatus.INTERRUPTED
    assert statuses["d"] is CellStatus.CANCELLED
    assert sorted(listener.finished_names) == list("abcd")


def test_a_crashing_worker_becomes_a_crashed_cell(capsys: pytest.CaptureFixture[str]) -> None:
    def boom(cancel: Cancel) -> CellStatus:
        raise RuntimeError("bug")

    outcome = Scheduler([job("a", boom)], workers=1).run()
    assert outcome.records[0].status is CellStatus.CRASHED
    assert outcome.records[0].message == "internal error: RuntimeError: bug"
    assert "RuntimeError: bug" in capsys.readouterr().err


def test_records_the_scheduler_writes_name_the_cell_as_a_run_record_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A lint cell that never started, or whose worker crashed, is still a lint cell."""
    lint = Cell("lint", "tox", "lint", python="3.12", factors={"x": "1"}, stages=("unit",), runs_pytest=False)

    def boom(cancel: Cancel, notify: Notify) -> CellRecord:
        raise RuntimeError("bug")

    crashed = Scheduler([Job(lint, boom)], workers=1).run().records[0]
    jobs = [job("a", lambda c: CellStatus.FAILED), Job(lint, boom)]
    not_started = Scheduler(jobs, workers=1, fail_fast=True).run().records[1]
    capsys.readouterr()
    assert (crashed.status, not_started.status) == (CellStatus.CRASHED, CellStatus.CANCELLED)
    for made in (crashed, not_started):
        assert (made.name, made.tool, made.env, made.python) == ("lint", "tox", "lint", "3.12")
        assert (dict(made.factors), made.stages, made.runs_pytest) == ({"x": "1"}, ("unit",), False)


@pytest.mark.parametrize(("value", "expected"), [("3", 3), (2, 2)])
def test_worker_count(value: str | int, expected: int) -> None:
    assert worker_count(value) == expected


def test_worker_count_auto_and_invalid(monkeypatch: pytest.MonkeyPatch) -> None:
    assert worker_count("auto") >= 1
    assert worker_count(None) >= 1
    # auto is what the OS grants (affinity, cgroup quota), not the machine's CPUs
    monkeypatch.setattr(cores, "count", lambda: cores.Cores(3, 8, 2.5))
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert worker_count("auto") == worker_count(None) == 3
    with pytest.raises(ValueError, match="at least 1"):
        worker_count(0)


# --------------------------------------------------------------------------- time limits


def test_a_cell_over_its_time_limit_is_timed_out_and_the_others_go_on() -> None:
    jobs = [job("hung", as_classified), job("quick", lambda cancel: CellStatus.PASSED)]
    outcome = Scheduler(jobs, workers=2, cell_timeout=0.05).run()
    hung, quick = outcome.records
    assert (hung.status, hung.message) == (CellStatus.TIMED_OUT, "timed out after 0.05s")
    assert quick.status is CellStatus.PASSED
    assert not outcome.interrupted
    assert not outcome.timed_out


def test_the_run_s_time_limit_ends_the_running_cells_and_starts_no_more() -> None:
    jobs = [job("hung", as_classified), job("later", lambda cancel: CellStatus.PASSED)]
    outcome = Scheduler(jobs, workers=1, run_timeout=0.05).run()
    hung, later = outcome.records
    assert (hung.status, hung.message) == (
        CellStatus.TIMED_OUT,
        "timed out: the run's time limit of 0.05s passed",
    )
    assert (later.status, later.message) == (CellStatus.CANCELLED, "not started: the run timed out")
    assert outcome.timed_out
    assert not outcome.interrupted


def test_a_run_already_over_its_time_limit_starts_nothing() -> None:
    listener = Recorder()
    jobs = [job("a", lambda cancel: CellStatus.PASSED)]
    outcome = Scheduler(
        jobs, workers=1, run_timeout=5, started=time.monotonic() - 10, listener=listener
    ).run()
    assert [r.message for r in outcome.records] == ["not started: the run timed out"]
    assert listener.started_names == []


def test_waiting_for_a_test_slot_does_not_count_against_a_cell_s_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [100.0]
    monkeypatch.setattr(scheduler.time, "monotonic", lambda: now[0])
    clock = scheduler._Clock(started=now[0])
    now[0] = 102.0
    clock.phase("ready")  # environment ready: waits for a test slot
    now[0] = 150.0
    assert clock.elapsed(now[0]) == 2.0
    clock.phase("tests")
    now[0] = 153.0
    assert clock.elapsed(now[0]) == 5.0


def test_a_quiet_cell_is_reported_after_each_quiet_period() -> None:
    quiet = threading.Event()

    class Watching(Recorder):
        def update(self, cell: str, **changes: Any) -> None:
            super().update(cell, **changes)
            if changes.get("quiet"):
                quiet.set()

    def silent(cancel: Cancel) -> CellStatus:
        assert quiet.wait(WAIT), "never reported quiet"
        return CellStatus.PASSED

    listener = Watching()
    Scheduler([job("a", silent)], workers=1, listener=listener, quiet_after=0.05).run()
    # the first report: a whole number of quiet periods (the view shows how long)
    reported = [changes["quiet"] for _, changes in listener.updates if "quiet" in changes]
    assert reported[0] >= 0.05
    assert round(reported[0] / 0.05, 6).is_integer()


def test_a_full_disk_stops_the_run_and_is_raised() -> None:
    full = OSError(errno.ENOSPC, "No space left on device", "reports/cells/a/log.txt")
    b_running = threading.Event()
    reasons: list[str | None] = []

    def fills_the_disk(cancel: Cancel) -> CellStatus:
        assert b_running.wait(WAIT)
        raise full

    def other(cancel: Cancel) -> CellStatus:
        b_running.set()
        status = as_classified(cancel)
        reasons.append(cancel.reason)
        return status

    with pytest.raises(OSError, match="No space left") as info:
        Scheduler([job("a", fills_the_disk), job("b", other), job("c", other)], workers=2).run()
    assert info.value is full
    assert reasons == ["interrupted"]  # b was stopped; c never started


def test_what_a_cell_leaves_running_is_ended_and_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    swept: list[tuple[str, str | None]] = []

    def end_marked(run_id: str, *, cell: str | None = None, grace: float) -> int:
        swept.append((run_id, cell))
        return 2 if cell == "a" else 0

    monkeypatch.setattr(process, "current_run_id", lambda: "run-1")
    monkeypatch.setattr(watchdog, "end_marked", end_marked)
    listener = Recorder()
    jobs = [job("a", lambda cancel: CellStatus.PASSED), job("b", lambda cancel: CellStatus.PASSED)]
    Scheduler(jobs, workers=1, listener=listener).run()
    assert swept == [("run-1", "a"), ("run-1", "b")]
    assert listener.notes == [("a", "ended 2 processes left by cell a")]


# --------------------------------------------------------------------------- longest first


def test_longest_cells_first_with_history() -> None:
    durations = {"a": 5.0, "b": 40.0, "c": 12.0}
    assert scheduler.longest_first(["a", "b", "c"], durations) == ["b", "c", "a"]


def test_config_order_without_history() -> None:
    assert scheduler.longest_first(["c", "a", "b"], {}) == ["c", "a", "b"]
    assert scheduler.longest_first(["c", "a"], {"gone": 9.0}) == ["c", "a"]  # no cell of these


def test_without_history_the_cells_of_one_interpreter_take_turns_with_the_others() -> None:
    names = ["py310-a", "py310-b", "py312-a", "py312-b", "py313-a"]
    pythons = {name: name.split("-")[0] for name in names}
    turns = ["py310-a", "py312-a", "py313-a", "py310-b", "py312-b"]
    assert scheduler.longest_first(names, {}, pythons) == turns
    one = dict.fromkeys(names, "3.12")
    assert scheduler.longest_first(names, {}, one) == names  # one interpreter: the config's order


def test_with_history_the_interpreters_do_not_change_the_order() -> None:
    durations = {"py310-a": 1.0, "py310-b": 3.0, "py312-a": 2.0}
    pythons = {"py310-a": "3.10", "py310-b": "3.10", "py312-a": "3.12"}
    assert scheduler.longest_first(list(durations), durations, pythons) == ["py310-b", "py312-a", "py310-a"]


def test_schedule_spreads_a_new_matrix_by_interpreter(tmp_path: Path) -> None:
    cells = [
        Cell(name=f"py{python.replace('.', '')}-{dep}", tool="tox", env="x", python=python)
        for python in ("3.10", "3.12")
        for dep in ("a", "b")
    ]
    found = scheduler.schedule(cells, pool=2, project=tmp_path, environ={})
    assert found.order == ("py310-a", "py312-a", "py310-b", "py312-b")


def test_a_new_cell_counts_as_the_mean_and_ties_keep_the_config_order() -> None:
    durations = {"a": 10.0, "b": 30.0}  # "new" has no record: it counts 20 s
    assert scheduler.longest_first(["a", "new", "b", "d"], {**durations, "d": 10.0}) == ["b", "new", "a", "d"]


def test_cells_start_in_the_given_order_and_are_reported_in_plan_order() -> None:
    started: list[str] = []
    jobs = [job(name, lambda cancel, name=name: started.append(name) or CellStatus.PASSED) for name in "abc"]
    outcome = Scheduler(jobs, workers=1, order=["c", "a", "b"]).run()
    assert started == ["c", "a", "b"]
    assert [record.name for record in outcome.records] == ["a", "b", "c"]


def test_the_schedule_of_a_run(tmp_path: Path) -> None:
    """plan and run ask the same function: the order from the recorded durations, each
    cell's xdist workers and the slots it holds."""
    cells = [
        Cell("quick", "tox", "quick", config={"commands": ["pytest -n auto"]}),
        Cell("slow", "tox", "slow", config={"commands": ["pytest -n auto"]}),
        Cell("fixed", "tox", "fixed", config={"commands": ["pytest -n 3"]}),
        Cell("lint", "tox", "lint", config={"commands": ["ruff check"]}, runs_pytest=False),
        Cell("gone", "tox", "gone", python="3.7", python_found=False),
    ]
    found = scheduler.schedule(
        cells, pool=4, project=tmp_path, environ={}, durations={"slow": 50.0, "quick": 5.0, "fixed": 20.0}
    )
    assert found.order == ("slow", "lint", "fixed", "quick")  # lint: the mean (25 s); gone runs nothing
    assert found.allotments["slow"].workers == 1  # 4 slots for 4 cells: one each
    assert found.allotments["fixed"].slots == 3
    assert found.workers["lint"] is None
    assert found.allotments["quick"].workers == found.allotments["quick"].slots
    assert "gone" not in found.allotments
