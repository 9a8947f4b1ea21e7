"""New environments begun while the package builds.

A cold run's cells used to wait for the package build (with uv: a new build environment,
then the build, about a second) before making their environments, although the first
steps of a tox environment do not need the package: the virtual environment, then
``deps``. So while the build runs, :class:`Ahead` takes those two steps for the cells
whose environments will certainly be made anew (no fingerprint, another fingerprint,
``--recreate``), a few at a time, each under the environment's lock, exactly as
:func:`.tox_setup.prepare` would run them (:func:`.tox_setup.begin`).

The cell then takes over what was done, and only if it is exactly what it would do
itself: the same settings fingerprint, the same steps, and the environment still marked
by this run (:meth:`Ahead.take`); anything else, and it makes the environment from
scratch, as without this. Once the package is built no environment is begun here any
more (:meth:`Ahead.stop`): the cells do the rest as before.
"""

from __future__ import annotations

import contextlib
import secrets
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_pipeline.runner import locks, tox_setup
from pytest_pipeline.runner.context import env_lock

if TYPE_CHECKING:
    from pytest_pipeline.matrix.model import Cell
    from pytest_pipeline.runner.context import RunContext
    from pytest_pipeline.runner.tox_install import Step


_POLL = 0.05


@dataclass(frozen=True)
class Begun:
    base: Mapping[str, Any]
    """The settings fingerprint the steps were made for."""
    steps: tuple[Step, ...]
    output: bytes
    """What the steps wrote, for the cell's log."""


class Ahead:
    """Begins environments in ``lanes`` threads until :meth:`stop`; see the module."""

    def __init__(self, ctx: RunContext, cells: Sequence[Cell], *, lanes: int) -> None:
        self.ctx = ctx
        self.token = secrets.token_hex(8)
        self._queue = [cell for cell in cells if cell.tool == "tox" and not cell.missing]
        self._lanes = max(1, min(lanes, len(self._queue)))
        self._lock = threading.Lock()
        self._stopped = False
        self._cancel = threading.Event()
        self._working: dict[str, threading.Event] = {}
        self._begun: dict[Path, Begun] = {}
        self._threads: list[threading.Thread] = []

    def start(self) -> Ahead:
        for index in range(self._lanes):
            thread = threading.Thread(target=self._lane, name=f"ahead-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """No new environment from now on (the cells start): the ones begun finish."""
        with self._lock:
            self._stopped = True

    def cancel(self) -> None:
        """Stop now (Ctrl-C, a failed build): running steps are cancelled; wait for them."""
        self.stop()
        self._cancel.set()
        self.join()

    def join(self) -> None:
        """Wait until every environment begun is done (or :meth:`stop` left the rest)."""
        for thread in self._threads:
            thread.join()

    def settle(self, cell: str, cancel: threading.Event) -> None:
        """Wait until ``cell``'s environment is no longer being begun here (call after
        :meth:`stop`), or until ``cancel`` is set."""
        with self._lock:
            working = self._working.get(cell)
        while working is not None and not working.wait(_POLL):
            if cancel.is_set():
                return

    def take(self, env_dir: Path, base: Mapping[str, Any], steps: Sequence[Step]) -> bytes | None:
        """The output of ``steps`` when they were done ahead for ``base`` in ``env_dir`` and
        the environment is still as they left it; None: make it from scratch."""
        with self._lock:
            begun = self._begun.pop(env_dir, None)
        marker = env_dir / tox_setup.BEGUN_MARKER
        try:
            mark = marker.read_text(encoding="utf-8")
            marker.unlink()
        except OSError:
            return None
        if begun is None or mark != self.token or begun.base != base or begun.steps != tuple(steps):
            return None
        return begun.output

    # ------------------------------------------------------------------ the threads

    def _next(self) -> Cell | None:
        with self._lock:
            if self._stopped or not self._queue:
                return None
            cell = self._queue.pop(0)
            self._working[cell.name] = threading.Event()
            return cell

    def _lane(self) -> None:
        while (cell := self._next()) is not None:
            try:
                with contextlib.suppress(Exception):  # only a head start: the cell does it all itself
                    self._begin(cell)
            finally:
                self._working[cell.name].set()

    def _begin(self, cell: Cell) -> None:
        ctx = self.ctx
        route = ctx.route(cell)
        if route.kind != "native":
            return  # tox makes the environment: nothing to split
        folder = tox_setup.env_of(cell, ctx.project).env_dir
        with locks.hold(env_lock(folder)), tempfile.TemporaryFile() as log:
            done = tox_setup.begin(
                tox_setup.tox_cell(ctx), cell, route, log=log, cancel=self._cancel, token=self.token
            )
            if done is not None:
                base, steps = done
                log.seek(0)
                with self._lock:
                    self._begun[folder] = Begun(base=base, steps=steps, output=log.read())
