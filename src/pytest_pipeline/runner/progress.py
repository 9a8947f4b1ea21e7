"""Live progress of a run: a rich table on a terminal, one plain line per event elsewhere.

In CI (``CI`` set) or when the output is piped, a redrawn table is noise in the log, so
each event (cell started, stage reached, test failed, cell finished) is one line.

A running cell that has printed nothing for a while (see ``QUIET_AFTER`` in
:mod:`.scheduler`) shows how long (``quiet 5m12s``); in plain lines, one each time it
has been quiet for another such while (which also keeps a CI job's log from going silent).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from pytest_pipeline.config import format_duration
from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.run_record import CellRecord, CellStatus
from pytest_pipeline.runner.scheduler import Listener

# Phases the live table shows but a log does not need a line for: they follow each
# other within milliseconds on a warm run. How a cell runs (tox, nox) and waiting for
# another run's lock are worth a line.
_QUIET_PHASES = frozenset({"environment", "ready", "tests", "commands_pre", "commands_post"})


@dataclass
class CellView:
    name: str
    status: CellStatus = CellStatus.QUEUED
    phase: str = ""
    stage: str | None = None
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    blocked: int = 0
    started: float | None = None
    duration: float | None = None
    message: str = ""
    quiet_since: float | None = None
    """When it last printed, while it has been quiet for long (None: it is not)."""
    reused: bool = False
    """Its results came from an earlier run with the same inputs (see runner/reuse.py)."""

    def elapsed(self, now: float) -> float:
        if self.duration is not None:
            return self.duration
        return now - self.started if self.started is not None else 0.0


class Board(Listener):
    """The state of every cell, updated from the scheduler and the workers."""

    def __init__(self, cells: Sequence[Cell]) -> None:
        self.views = {cell.name: CellView(cell.name) for cell in cells}
        self.lock = threading.Lock()
        self.start = time.monotonic()

    def started(self, cell: str) -> None:
        with self.lock:
            view = self.views[cell]
            view.status, view.started = CellStatus.RUNNING, time.monotonic()
        self.changed(cell, "started")

    def update(self, cell: str, **changes: Any) -> None:
        if "quiet" in changes:
            self._quiet(cell, changes["quiet"])
        phase = changes.get("phase")
        with self.lock:
            view = self.views[cell]
            if phase is None or phase == view.phase:
                return
            view.phase = str(phase)
        if phase not in _QUIET_PHASES:
            self.changed(cell, str(phase))

    def _quiet(self, cell: str, seconds: float | None) -> None:
        with self.lock:
            view = self.views[cell]
            view.quiet_since = None if seconds is None else time.monotonic() - seconds
        if seconds is not None:
            self.changed(cell, f"quiet for {format_duration(seconds)}: no output")

    def note(self, cell: str, text: str) -> None:
        self.changed(cell, text)

    def event(self, cell: str, event: Mapping[str, Any]) -> None:
        kind = event.get("event")
        with self.lock:
            view = self.views[cell]
            if kind == "stage":
                view.stage = str(event.get("stage"))
            elif kind == "test":
                outcome = event.get("outcome")
                if outcome == "passed":
                    view.passed += 1
                elif outcome in ("failed", "error"):
                    view.failed += 1
                elif outcome == "skipped":
                    view.skipped += 1
                elif outcome == "blocked":
                    view.blocked += 1
        if kind == "stage":
            self.changed(cell, f"stage {event.get('stage')}")
        elif kind == "test" and event.get("outcome") in ("failed", "error"):
            stage = f" ({event['stage']})" if event.get("stage") else ""
            self.changed(cell, f"{str(event.get('outcome')).upper()} {event.get('nodeid')}{stage}")

    def finished(self, record: CellRecord) -> None:
        with self.lock:
            view = self.views[record.name]
            view.status, view.message = record.status, record.message
            view.reused = record.reused_from is not None
            view.duration = record.duration if view.started is not None else None
            view.quiet_since = None
        self.changed(record.name, "finished")

    def changed(self, cell: str, what: str) -> None:
        """Called after every change; the views draw from here."""

    def __enter__(self) -> Board:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class PlainProgress(Board):
    """One line per event, for CI logs and pipes."""

    def __init__(self, cells: Sequence[Cell], stream: IO[str]) -> None:
        super().__init__(cells)
        self.stream = stream
        width = max((len(cell.name) for cell in cells), default=4)
        self.width = min(width, 40)

    def changed(self, cell: str, what: str) -> None:
        with self.lock:
            view = self.views[cell]
            stamp = f"[{time.monotonic() - self.start:6.1f}s]"
            if what == "finished":
                counts = _counts(view)
                extra = f" - {view.message}" if view.message else ""
                text = f"{view.status.value}{counts}{extra}"
                if view.duration is not None:
                    text += f" ({view.duration:.1f}s)"
            else:
                text = what
            self.stream.write(f"{stamp} {cell:<{self.width}} {text}\n")
            self.stream.flush()


def _counts(view: CellView) -> str:
    parts = [
        f"{n} {label}"
        for n, label in ((view.passed, "passed"), (view.failed, "failed"), (view.blocked, "blocked"))
        if n
    ]
    return f" [{', '.join(parts)}]" if parts else ""


_STYLE = {
    CellStatus.QUEUED: "dim",
    CellStatus.RUNNING: "cyan",
    CellStatus.PASSED: "green",
    CellStatus.FAILED: "red",
    CellStatus.NO_TESTS: "yellow",
    CellStatus.ENV_ERROR: "red",
    CellStatus.CRASHED: "red",
    CellStatus.MISSING_INTERPRETER: "yellow",
    CellStatus.INTERRUPTED: "magenta",
    CellStatus.TIMED_OUT: "red",
    CellStatus.CANCELLED: "dim",
}


class LiveProgress(Board):
    """A table redrawn in place (rich ``Live``): queued, running and in which stage, done."""

    def __init__(self, cells: Sequence[Cell], stream: IO[str]) -> None:
        super().__init__(cells)
        from rich.console import Console
        from rich.live import Live

        self.console = Console(file=stream)
        self.live = Live(
            console=self.console, refresh_per_second=4, transient=False, get_renderable=self.render
        )

    def render(self) -> Any:
        """Fixed, narrow columns (fits 80 characters for usual cell names): while a cell
        prepares, the stage column shows what it is doing (``environment``, ``tox``)."""
        from rich.table import Table

        table = Table(box=None, pad_edge=False, show_edge=False)
        numbers = ("passed", "failed", "blocked", "skipped", "time")
        for column in ("cell", "status", "stage", *numbers):
            table.add_column(column, justify="right" if column in numbers else "left", no_wrap=True)
        now = time.monotonic()
        with self.lock:
            for view in self.views.values():
                stage = view.stage or ""
                if view.status is CellStatus.RUNNING and not view.stage and view.phase not in ("", "tests"):
                    stage = f"({view.phase})"
                if view.status is CellStatus.RUNNING and view.quiet_since is not None:
                    quiet = f"[yellow]quiet {format_duration(now - view.quiet_since)}[/]"
                    stage = f"{stage}, {quiet}" if stage else quiet
                reused = " (reused)" if view.reused else ""
                table.add_row(
                    view.name,
                    f"[{_STYLE[view.status]}]{view.status.value}[/]{reused}",
                    stage,
                    str(view.passed or ""),
                    f"[red]{view.failed}[/]" if view.failed else "",
                    f"[yellow]{view.blocked}[/]" if view.blocked else "",
                    str(view.skipped or ""),
                    f"{view.elapsed(now):.1f}s" if view.started is not None else "",
                )
        return table

    def note(self, cell: str, text: str) -> None:
        self.console.print(f"pytest-pipeline: {text}", markup=False, highlight=False)

    def __enter__(self) -> LiveProgress:
        self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.stop()


def choose(cells: Sequence[Cell], stream: IO[str], environ: Mapping[str, str] | None = None) -> Board:
    """Live table on an interactive terminal; plain lines in CI or when piped."""
    env = os.environ if environ is None else environ
    interactive = stream.isatty() and not env.get("CI") and env.get("TERM") != "dumb"
    return LiveProgress(cells, stream) if interactive else PlainProgress(cells, stream)
