"""What a backend gets (:class:`CellJob`) and answers (:class:`Attempt`), and the
:class:`Backend` Protocol itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Protocol

from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.runner.context import Cancel, Notify, RunContext
from pytest_pipeline.runner.reuse import Inputs, Stored
from pytest_pipeline.runner.tox_route import Route


@dataclass
class Attempt:
    exit_code: int | None = None
    env_error: str | None = None
    cancelled: bool = False
    """A command (or the wait for the environment's lock) was stopped by a cancel."""
    notes: list[str] = field(default_factory=list)
    waited: float = 0.0
    """Seconds spent ready, waiting for a test slot: not part of the cell's duration."""
    reuse_inputs: Inputs | None = None
    """The cell's inputs (None: its results are never reused, see :mod:`..reuse`)."""
    reused: Stored | None = None
    """The earlier result used instead of running the commands."""


Inject = Callable[..., dict[str, str]]
"""``inject(variables, python_path=False)``: the variables plus what loads our plugin."""


@dataclass(frozen=True)
class CellJob:
    """One cell to run, with what the run gives every cell."""

    ctx: RunContext
    cell: Cell
    route: Route
    inject: Inject
    log: IO[bytes]
    cancel: Cancel
    notify: Notify

    def in_test_slot(self, notes: list[str], run: Callable[[], Attempt], *, new_env: bool = False) -> Attempt:
        """``run()`` while holding the cell's test slots (one, or its xdist workers'); the
        seconds waited for them go to the attempt (they are not the cell's time). A cell
        cancelled while it waits never runs. ``new_env``: its environment was made in this
        run (see :class:`..slots.Slots`)."""
        slots, cancel, name = self.ctx.slots, self.cancel, self.cell.name
        waited = 0.0
        if slots is not None:
            self.notify(phase="ready")
            acquired = slots.acquire(cancel.event, name, new_env=new_env)
            if acquired is None:
                return Attempt(cancelled=True, notes=notes)
            waited = acquired
        try:
            attempt = run()
        finally:
            if slots is not None:
                slots.release(name)
        attempt.waited = waited
        return attempt


class Backend(Protocol):
    def run(self, job: CellJob) -> Attempt: ...
