"""Run cells on N workers, longest first, and stop them all on interrupt or ``--fail-fast``.

The order (:func:`schedule`): the cells that took longest in the previous run start first
(its ``run.json``), so the slowest are not left for the end with the other cores idle; a
cell with no recorded time counts as the mean of the others; with no record at all the
configuration's order stays, but for the cells of one interpreter, which take turns with
the others' (:func:`spread`). The same function gives each cell its test slots
(:mod:`.slots`: one, or as many as its xdist workers), so ``plan`` shows what ``run`` does.

The main thread only schedules and watches: each cell runs in a worker thread that
waits on its child processes. Ctrl-C and SIGTERM reach the main thread (the children are
in their own sessions and never see the terminal's signal), which cancels every running
cell; each cell then stops its process group (SIGTERM, SIGKILL after a grace period) and
returns a record, so what finished before the interrupt is still reported.

The main thread also keeps the time limits: a cell that runs longer than ``cell_timeout``
is cancelled as ``timed-out`` and the run goes on; when ``run_timeout`` passes, every
running cell is, and no other starts. It tells the progress view about a cell that has
printed nothing for a while (``quiet``). When a cell's commands are done, whatever they
left running (a daemon in a session of its own) is ended and reported.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_pipeline.config import format_duration
from pytest_pipeline.fileio import describe_disk_full, disk_full
from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.run_record import CellRecord, CellStatus
from pytest_pipeline.runner import process, watchdog
from pytest_pipeline.runner.context import Cancel, Notify, StopReason
from pytest_pipeline.runner.events import EventTail
from pytest_pipeline.runner.execute import record_of
from pytest_pipeline.runner.slots import Allotment, Need, allot
from pytest_pipeline.runner.xdist_workers import Workers, addopts, cell_workers

FAIL_FAST_STATUSES = frozenset(
    {CellStatus.FAILED, CellStatus.CRASHED, CellStatus.ENV_ERROR, CellStatus.TIMED_OUT}
)
QUIET_AFTER = 300.0
"""Seconds without output after which (and after each further such period) the progress
view says that a running cell is quiet."""
_WATCH_INTERVAL = 0.2
# Which reason wins when several stop the run: an interrupt over a time limit over a failure.
_STRENGTH: dict[StopReason, int] = {"fail-fast": 0, "timed-out": 1, "interrupted": 2}
# The phase a cell is in while it waits for a test slot: not its own time (see .slots).
_WAITING_PHASE = "ready"


def longest_first(
    names: Sequence[str], durations: Mapping[str, float], interpreters: Mapping[str, str] | None = None
) -> list[str]:
    """``names``, the longest recorded first; an unrecorded one counts as the mean of the
    recorded ones; ties keep the configuration's order. With no record at all, the
    configuration's order with the cells of one interpreter spread apart (:func:`spread`)."""
    known = {name: durations[name] for name in names if name in durations}
    if not known:
        return spread(names, interpreters or {})
    mean = sum(known.values()) / len(known)
    position = {name: index for index, name in enumerate(names)}
    return sorted(names, key=lambda name: (-known.get(name, mean), position[name]))


def spread(names: Sequence[str], interpreters: Mapping[str, str]) -> list[str]:
    """The cells taking turns by interpreter, each interpreter's in the configuration's
    order (``py310-a, py310-b, py312-a, py312-b`` -> ``py310-a, py312-a, py310-b, py312-b``).

    A run with no record is usually one whose environments are all new: the first cell of
    an interpreter compiles what pytest imports, and the next ones take its bytecode
    (:mod:`.bytecode`) only if they start after it, not beside it."""
    turns: dict[str, list[str]] = {}
    for name in names:
        turns.setdefault(interpreters.get(name, name), []).append(name)
    order: list[str] = []
    for index in range(max((len(group) for group in turns.values()), default=0)):
        order += [group[index] for group in turns.values() if index < len(group)]
    return order


@dataclass(frozen=True)
class Schedule:
    """How a run's cells share the test slots, and the order they start in."""

    pool: int
    """Test slots (``-p``)."""
    order: tuple[str, ...]
    """The cells that run tests, in the order they start."""
    allotments: Mapping[str, Allotment]
    workers: Mapping[str, Workers | None]
    """What each cell's pytest says of xdist (None: no workers)."""
    durations: Mapping[str, float]
    """The recorded durations the order comes from (empty: the configuration's order)."""


def schedule(
    cells: Sequence[Cell],
    *,
    pool: int,
    project: Path,
    environ: Mapping[str, str],
    pytest_args: Sequence[str] = (),
    durations: Mapping[str, float] | None = None,
) -> Schedule:
    """The order and the slots of ``cells`` (a cell whose interpreter is missing runs
    nothing and takes none). ``durations``: each cell's seconds in an earlier run."""
    testing = [cell for cell in cells if not cell.missing]
    names = [cell.name for cell in testing]
    recorded = {name: seconds for name, seconds in (durations or {}).items() if name in names}
    project_addopts = addopts(project)
    workers = {cell.name: cell_workers(cell, project_addopts, environ, pytest_args) for cell in testing}
    needs = {name: _need(found) for name, found in workers.items()}
    order = longest_first(names, recorded, {cell.name: cell.python or "" for cell in testing})
    return Schedule(
        pool=pool,
        order=tuple(order),
        allotments=allot(order, needs, pool, recorded),
        workers=workers,
        durations=recorded,
    )


def _need(workers: Workers | None) -> Need:
    if workers is None:
        return Need()
    if workers.auto:
        return Need(auto=True, cap=workers.cap)
    return Need(slots=workers.count or 1)


@dataclass(frozen=True)
class Job:
    cell: Cell
    run: Callable[[Cancel, Notify], CellRecord]
    events: Path | None = None
    """The cell's events file to watch for stage changes and failures."""


class Listener:
    """What the scheduler tells the progress view; every method is optional to override."""

    def started(self, cell: str) -> None: ...

    def update(self, cell: str, **changes: Any) -> None: ...

    def event(self, cell: str, event: dict[str, Any]) -> None: ...

    def finished(self, record: CellRecord) -> None: ...

    def note(self, cell: str, text: str) -> None:
        """Something worth a line of its own (what a cell left running)."""


@dataclass
class Outcome:
    records: list[CellRecord]
    """One per job, in job order."""
    interrupted: bool
    stopped_by: str | None = None
    """The cell whose failure stopped the run under ``--fail-fast``."""
    timed_out: bool = False
    """The run's own time limit (``run_timeout``) passed before its cells were done."""


_NOT_STARTED: dict[StopReason | None, str] = {
    "interrupted": "not started: run interrupted",
    "fail-fast": "not started: --fail-fast",
    "timed-out": "not started: the run timed out",
}


def _not_started(cell: Cell, reason: StopReason | None) -> CellRecord:
    return record_of(cell, CellStatus.CANCELLED, _NOT_STARTED.get(reason, _NOT_STARTED["fail-fast"]))


@dataclass
class _Clock:
    """A cell's time against its time limit; it stands still while the cell waits for
    a test slot, which is the run's scheduling, not the cell's doing."""

    started: float = field(default_factory=time.monotonic)
    waiting_since: float | None = None
    waited: float = 0.0

    def phase(self, phase: object) -> None:
        now = time.monotonic()
        if phase == _WAITING_PHASE and self.waiting_since is None:
            self.waiting_since = now
        elif phase != _WAITING_PHASE and self.waiting_since is not None:
            self.waited += now - self.waiting_since
            self.waiting_since = None

    def elapsed(self, now: float) -> float:
        return (self.waiting_since or now) - self.started - self.waited


def _crashed(cell: Cell, error: BaseException) -> CellRecord:
    return record_of(cell, CellStatus.CRASHED, f"internal error: {type(error).__name__}: {error}")


class Scheduler:
    def __init__(
        self,
        jobs: Sequence[Job],
        *,
        workers: int,
        fail_fast: bool = False,
        listener: Listener | None = None,
        cell_timeout: float | None = None,
        run_timeout: float | None = None,
        started: float | None = None,
        quiet_after: float = QUIET_AFTER,
        order: Sequence[str] | None = None,
    ) -> None:
        """``cell_timeout``/``run_timeout``: seconds, None for no limit; the run's time
        counts from ``started`` (``time.monotonic()``; default: when :meth:`run` starts).
        ``order``: the cells' names in the order to start them (default: the jobs'); the
        outcome keeps the jobs' order."""
        self.jobs = list(jobs)
        rank = {name: index for index, name in enumerate(order or ())}
        self._start_order = sorted(self.jobs, key=lambda job: rank.get(job.cell.name, len(rank)))
        self.workers = max(1, workers)
        self.fail_fast = fail_fast
        self.listener = listener or Listener()
        self.cell_timeout = cell_timeout
        self.run_timeout = run_timeout
        self.started = started
        self.quiet_after = quiet_after
        self._done: queue.Queue[tuple[str, CellRecord]] = queue.Queue()
        self._cancels: dict[str, Cancel] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._tails: dict[str, EventTail] = {}
        self._clocks: dict[str, _Clock] = {}
        self._activities: dict[str, process.CellActivity] = {}
        self._quiet: dict[str, int] = {}
        """How many quiet periods each running cell has been reported quiet for."""
        self._timed_out: dict[str, str] = {}
        """Cells a time limit ended, with what their record says."""
        self._fatal: OSError | None = None
        """The reports folder cannot be written (disk full): the run stops and raises it."""
        self._reason: StopReason | None = None
        self._stopped_by: str | None = None
        self._spared: set[str] = set()
        # tox's ignore_outcome: a failure there fails nothing, so it stops nothing either.
        self._may_stop = {job.cell.name for job in self.jobs if not job.cell.ignore_outcome}

    def stop(self, reason: StopReason, cell: str | None = None) -> None:
        """Start no more cells and cancel the running ones.

        Under ``--fail-fast`` the cell that failed (``cell``) is left to finish: the
        plugin blocks its later stages, so it ends soon, and its report says what failed.
        """
        if self._reason is None or _STRENGTH[reason] > _STRENGTH[self._reason]:
            self._reason = reason
            self._stopped_by = self._stopped_by or cell
        if cell is not None and reason == "fail-fast":
            self._spared.add(cell)
        for name, cancel in self._cancels.items():
            if reason != "fail-fast" or name not in self._spared:
                cancel.set(reason)

    def run(self) -> Outcome:
        pending = deque(self._start_order)
        results: dict[str, CellRecord] = {}
        if self.started is None:
            self.started = time.monotonic()
        try:
            while (pending and self._reason is None) or self._threads:
                self._keep_time_limits()
                while pending and self._reason is None and len(self._threads) < self.workers:
                    self._start(pending.popleft())
                self._collect(results, timeout=_WATCH_INTERVAL)
                self._watch()
                if self._fatal is not None:
                    self.stop("interrupted")
        except KeyboardInterrupt:
            self.stop("interrupted")
            self._drain(results)
        if self._fatal is not None:
            raise self._fatal
        for job in self.jobs:
            if job.cell.name not in results:
                record = _not_started(job.cell, self._reason)
                results[job.cell.name] = record
                self.listener.finished(record)
        return Outcome(
            records=[results[job.cell.name] for job in self.jobs],
            interrupted=self._reason == "interrupted",
            stopped_by=self._stopped_by,
            timed_out=self._reason == "timed-out",
        )

    def _keep_time_limits(self) -> None:
        now = time.monotonic()
        assert self.started is not None
        run_over = self.run_timeout is not None and now - self.started >= self.run_timeout
        if run_over and self._reason in (None, "fail-fast"):
            assert self.run_timeout is not None
            why = f"timed out: the run's time limit of {format_duration(self.run_timeout)} passed"
            for name in self._threads:
                self._timed_out.setdefault(name, why)
            self.stop("timed-out")
        if self.cell_timeout is not None:
            for name, clock in self._clocks.items():
                if name not in self._timed_out and clock.elapsed(now) >= self.cell_timeout:
                    self._timed_out[name] = f"timed out after {format_duration(self.cell_timeout)}"
                    self._cancels[name].set("timed-out")

    def _drain(self, results: dict[str, CellRecord]) -> None:
        """Wait for every running cell to stop; a second Ctrl-C does not abandon them."""
        while self._threads:
            for name in [n for n, thread in self._threads.items() if thread.ident is None]:
                # interrupted between registering a cell and starting its thread
                del self._threads[name]
                for state in (self._cancels, self._clocks, self._activities):
                    state.pop(name, None)
            try:
                self._collect(results, timeout=_WATCH_INTERVAL)
            except KeyboardInterrupt:
                self.stop("interrupted")

    def _start(self, job: Job) -> None:
        name = job.cell.name
        cancel = Cancel()
        self._cancels[name] = cancel
        if job.events is not None:
            self._tails[name] = EventTail(job.events)
        clock = self._clocks[name] = _Clock()
        activity = self._activities[name] = process.CellActivity(name)

        def notify(**changes: Any) -> None:
            if "phase" in changes:
                clock.phase(changes["phase"])
            self.listener.update(name, **changes)

        def work() -> None:
            try:
                with process.cell_scope(activity):
                    record = job.run(cancel, notify)
            except BaseException as error:  # a bug in a worker must not hang the run
                record = self._failed(job.cell, error)
            try:
                self._end_leftovers(name)
            finally:
                self._done.put((name, record))

        thread = threading.Thread(target=work, name=f"cell-{name}", daemon=True)
        self._threads[name] = thread
        thread.start()
        self.listener.started(name)

    def _failed(self, cell: Cell, error: BaseException) -> CellRecord:
        full = disk_full(error)
        if full is not None:  # not a bug: the run stops and says so in one line
            self._fatal = self._fatal or full
            return record_of(
                cell, CellStatus.CRASHED, f"cannot write its reports: {describe_disk_full(full)}"
            )
        traceback.print_exc()
        return _crashed(cell, error)

    def _end_leftovers(self, name: str) -> None:
        """End what the cell's commands left running outside their process groups."""
        run_id = process.current_run_id()
        if run_id is None:
            return
        ended = watchdog.end_marked(run_id, cell=name, grace=process.GRACE_SECONDS)
        if ended:
            self.listener.note(name, f"ended {watchdog.processes(ended)} left by cell {name}")

    def _collect(self, results: dict[str, CellRecord], *, timeout: float) -> None:
        try:
            name, record = self._done.get(timeout=timeout)
        except queue.Empty:
            return
        while True:
            self._watch_one(name)  # the last events of a finished cell
            self._threads.pop(name).join()
            for state in (self._cancels, self._tails, self._clocks, self._activities, self._quiet):
                state.pop(name, None)
            if record.status is CellStatus.TIMED_OUT and name in self._timed_out:
                record = dataclasses.replace(record, message=self._timed_out[name])
            results[name] = record
            self.listener.finished(record)
            if self.fail_fast and record.status in FAIL_FAST_STATUSES and name in self._may_stop:
                self.stop("fail-fast", name)
            try:
                name, record = self._done.get_nowait()
            except queue.Empty:
                return

    def _watch(self) -> None:
        for name in list(self._tails):
            self._watch_one(name)
        self._watch_quiet()

    def _watch_quiet(self) -> None:
        """Tell the view when a running cell has been quiet for another ``quiet_after``
        seconds, and when it prints again. A cell waiting for a test slot is not quiet."""
        now = time.monotonic()
        for name, activity in self._activities.items():
            waiting = self._clocks[name].waiting_since is not None
            periods = 0 if waiting else int((now - activity.last_output) // self.quiet_after)
            if periods != self._quiet.get(name, 0):
                self._quiet[name] = periods
                self.listener.update(name, quiet=periods * self.quiet_after if periods else None)

    def _watch_one(self, name: str) -> None:
        tail = self._tails.get(name)
        if tail is None:
            return
        for event in tail.read():
            self.listener.event(name, event)
            if (
                self.fail_fast
                and event.get("event") == "test"
                and event.get("outcome") in ("failed", "error")
                and self._reason is None
                and name in self._may_stop
            ):
                self.stop("fail-fast", name)
