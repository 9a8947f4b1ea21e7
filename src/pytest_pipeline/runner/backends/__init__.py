"""How one cell runs, behind one Protocol: :class:`Backend`.

``plan`` decides the way (:mod:`pytest_pipeline.runner.tox_route`); each way is a backend:

* :mod:`.native` (``native`` and ``tox-env``): the environment made as tox makes it (by us,
  or by ``tox run --notest``), the commands run as tox runs them, by us;
* :mod:`.tox` (``tox``): tox runs the commands too;
* :mod:`.nox` (``nox``): ``nox -s SESSION``, as nox runs it.

A backend gets a :class:`CellJob` and answers an :class:`Attempt`: what the commands
did; :func:`pytest_pipeline.runner.execute.run_cell` turns it into the cell's record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Protocol

from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.runner.context import Cancel, Notify, RunContext
from pytest_pipeline.runner.tox_route import Kind, Route


@dataclass
class Attempt:
    exit_code: int | None = None
    env_error: str | None = None
    cancelled: bool = False
    """A command (or the wait for the environment's lock) was stopped by a cancel."""
    notes: list[str] = field(default_factory=list)
    waited: float = 0.0
    """Seconds spent ready, waiting for a test slot: not part of the cell's duration."""


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

    def in_test_slot(self, notes: list[str], run: Callable[[], Attempt]) -> Attempt:
        """``run()`` while holding one of the run's test slots; the seconds waited for the
        slot go to the attempt (they are not the cell's time). A cell cancelled while it
        waits never runs."""
        slots, cancel = self.ctx.slots, self.cancel
        waited = 0.0
        if slots is not None:
            self.notify(phase="ready")
            acquired = slots.acquire(cancel.event)
            if acquired is None:
                return Attempt(cancelled=True, notes=notes)
            waited = acquired
        try:
            attempt = run()
        finally:
            if slots is not None:
                slots.release()
        attempt.waited = waited
        return attempt


class Backend(Protocol):
    def run(self, job: CellJob) -> Attempt: ...


def for_route(kind: Kind) -> Backend:
    from pytest_pipeline.runner.backends import native, nox, tox

    backends: Mapping[Kind, Backend] = {
        "native": native.BACKEND,
        "tox-env": native.BACKEND,
        "tox": tox.BACKEND,
        "nox": nox.BACKEND,
    }
    return backends[kind]
