"""Run cells on N workers, in plan order, and stop them all on interrupt or ``--fail-fast``.

The main thread only schedules and watches: each cell runs in a worker thread that
waits on its child processes. Ctrl-C and SIGTERM reach the main thread (the children are
in their own sessions and never see the terminal's signal), which cancels every running
cell; each cell then stops its process group (SIGTERM, SIGKILL after a grace period) and
returns a record, so what finished before the interrupt is still reported.
"""

from __future__ import annotations

import os
import queue
import threading
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.results import CellRecord, CellStatus
from pytest_pipeline.runner.events import EventTail
from pytest_pipeline.runner.execute import Cancel, Notify, StopReason, record_of

FAIL_FAST_STATUSES = frozenset({CellStatus.FAILED, CellStatus.CRASHED, CellStatus.ENV_ERROR})
_WATCH_INTERVAL = 0.2


def worker_count(value: str | int | None) -> int:
    """``auto`` (or None) is the number of CPUs; anything else a positive integer."""
    if value is None or value == "auto":
        return max(1, os.cpu_count() or 1)
    count = int(value)
    if count < 1:
        raise ValueError("the number of parallel cells must be at least 1")
    return count


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


@dataclass
class Outcome:
    records: list[CellRecord]
    """One per job, in job order."""
    interrupted: bool
    stopped_by: str | None = None
    """The cell whose failure stopped the run under ``--fail-fast``."""


def _not_started(cell: Cell, reason: StopReason | None) -> CellRecord:
    message = "not started: run interrupted" if reason == "interrupted" else "not started: --fail-fast"
    return record_of(cell, CellStatus.CANCELLED, message)


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
    ) -> None:
        self.jobs = list(jobs)
        self.workers = max(1, workers)
        self.fail_fast = fail_fast
        self.listener = listener or Listener()
        self._done: queue.Queue[tuple[str, CellRecord]] = queue.Queue()
        self._cancels: dict[str, Cancel] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._tails: dict[str, EventTail] = {}
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
        if self._reason is None or reason == "interrupted":
            self._reason = reason
            self._stopped_by = self._stopped_by or cell
        if cell is not None and reason == "fail-fast":
            self._spared.add(cell)
        for name, cancel in self._cancels.items():
            if reason == "interrupted" or name not in self._spared:
                cancel.set(reason)

    def run(self) -> Outcome:
        pending = deque(self.jobs)
        results: dict[str, CellRecord] = {}
        try:
            while (pending and self._reason is None) or self._threads:
                while pending and self._reason is None and len(self._threads) < self.workers:
                    self._start(pending.popleft())
                self._collect(results, timeout=_WATCH_INTERVAL)
                self._watch()
        except KeyboardInterrupt:
            self.stop("interrupted")
            self._drain(results)
        for job in self.jobs:
            if job.cell.name not in results:
                record = _not_started(job.cell, self._reason)
                results[job.cell.name] = record
                self.listener.finished(record)
        return Outcome(
            records=[results[job.cell.name] for job in self.jobs],
            interrupted=self._reason == "interrupted",
            stopped_by=self._stopped_by,
        )

    def _drain(self, results: dict[str, CellRecord]) -> None:
        """Wait for every running cell to stop; a second Ctrl-C does not abandon them."""
        while self._threads:
            for name in [n for n, thread in self._threads.items() if thread.ident is None]:
                # interrupted between registering a cell and starting its thread
                del self._threads[name]
                self._cancels.pop(name, None)
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

        def notify(**changes: Any) -> None:
            self.listener.update(name, **changes)

        def work() -> None:
            try:
                record = job.run(cancel, notify)
            except BaseException as error:  # a bug in a worker must not hang the run
                traceback.print_exc()
                record = _crashed(job.cell, error)
            self._done.put((name, record))

        thread = threading.Thread(target=work, name=f"cell-{name}", daemon=True)
        self._threads[name] = thread
        thread.start()
        self.listener.started(name)

    def _collect(self, results: dict[str, CellRecord], *, timeout: float) -> None:
        try:
            name, record = self._done.get(timeout=timeout)
        except queue.Empty:
            return
        while True:
            self._watch_one(name)  # the last events of a finished cell
            self._threads.pop(name).join()
            self._cancels.pop(name, None)
            self._tails.pop(name, None)
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
