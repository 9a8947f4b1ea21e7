"""How many cells run their tests at once, apart from how many prepare environments.

A cold cell spends its first second or so creating its environment: with uv that is
mostly waiting for the disk and the index, with uv's own threads doing the work, while
the tests that follow are what needs a CPU. So the scheduler starts a few more cells than
``-p`` (:func:`lanes`) and each cell takes a test slot (:class:`Slots`) only once its
environment is ready: the next cells' environments are made while other cells test,
and ``-p`` still bounds the test commands running at once. Every cell keeps its
environment's lock from the start of its preparation to the end of its tests, so two
processes never use one environment.
"""

from __future__ import annotations

import threading
import time

PREPARE_AHEAD_MAX = 4
"""At most this many environments are prepared beyond the ``-p`` cells that test: enough
to keep a test slot fed on a small machine, not a crowd of installers on a large one
(uv installs with one thread per CPU already)."""

_POLL = 0.1


def lanes(workers: int, cells: int) -> int:
    """Cells in flight at once: ``workers`` testing plus up to :data:`PREPARE_AHEAD_MAX`
    preparing their environments (never more than there are cells)."""
    ahead = min(workers, PREPARE_AHEAD_MAX)
    return max(1, min(cells, workers + ahead))


class Slots:
    """A counting semaphore whose wait gives up when the cell is cancelled."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("at least one test slot")
        self.size = size
        self._free = size
        self._condition = threading.Condition()

    def acquire(self, cancel: threading.Event) -> float | None:
        """Take a slot; the seconds waited for it, or None when ``cancel`` was set first."""
        started = time.monotonic()
        with self._condition:
            while self._free == 0:
                if cancel.is_set():
                    return None
                self._condition.wait(_POLL)
            if cancel.is_set():
                return None
            self._free -= 1
        return time.monotonic() - started

    def release(self) -> None:
        with self._condition:
            if self._free >= self.size:
                raise RuntimeError("released a test slot that was not taken")
            self._free += 1
            self._condition.notify()
