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

import heapq
import itertools
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pytest_pipeline.runner import cores

PREPARE_AHEAD_MAX = 4
"""At most this many environments are prepared beyond the ``-p`` cells that test: enough
to keep a test slot fed on a small machine, not a crowd of installers on a large one
(uv installs with one thread per CPU already)."""

OVERSUBSCRIPTION = 1.0
"""``-p auto`` is the usable cores times this: test slots, each one busy process. An
xdist worker running CPU-bound tests keeps a core busy, and the environments are made
outside the slots (:func:`lanes`), so no idle time is left that more processes than
cores would fill; beyond 1.0 they only add context switches, memory and a longer tail."""

_POLL = 0.1
COMPILE_TURN = 0.5
"""Seconds a cell in a new environment lets a free slot go at most (see :class:`Slots`):
about what pytest's start compiles, so that a slot is never idle for longer than
compiling beside the other would have cost."""


def worker_count(value: str | int | None) -> int:
    """``auto`` (or None) is the number of CPUs this process may use (affinity and cgroup
    quota, see :mod:`.cores`); anything else a positive integer."""
    if value is None or value == "auto":
        return max(1, int(cores.count().usable * OVERSUBSCRIPTION))
    count = int(value)
    if count < 1:
        raise ValueError("the number of parallel cells must be at least 1")
    return count


def lanes(workers: int, cells: int) -> int:
    """Cells in flight at once: ``workers`` testing plus up to :data:`PREPARE_AHEAD_MAX`
    preparing their environments (never more than there are cells)."""
    ahead = min(workers, PREPARE_AHEAD_MAX)
    return max(1, min(cells, workers + ahead))


# --------------------------------------------------------------------------- how many slots a cell holds


@dataclass(frozen=True)
class Need:
    """What a cell's tests ask of the pool."""

    slots: int = 1
    """One for a pytest without xdist, N for ``-n N``."""
    auto: bool = False
    """``-n auto``/``-n logical``: the pool decides how many (its budget)."""
    cap: int | None = None
    """``--maxprocesses``: an auto budget never goes above it."""


@dataclass(frozen=True)
class Allotment:
    """The slots a cell holds while it tests."""

    slots: int
    workers: int | None = None
    """The budget of an auto cell (``PYTEST_XDIST_AUTO_NUM_WORKERS``); None for the others."""
    start: float = 0.0
    """Expected start, in seconds after the run's first cell (recorded durations; else
    every cell counts one second)."""


def allot(
    order: Sequence[str],
    needs: Mapping[str, Need],
    size: int,
    durations: Mapping[str, float] | None = None,
) -> dict[str, Allotment]:
    """The slots of each cell in ``order`` (a cell not in ``needs`` takes one).

    The cells are played out in order on ``size`` slots, with their recorded durations:
    each starts when the slots it needs are free and every cell before it has started
    (none overtakes another, so none waits forever). A fixed ``-n N`` takes N slots
    (at most ``size``); an auto cell takes an equal share of the free slots among the
    cells still to start, itself included, at least one (cells first, then workers:
    4 cells on 2 slots run two at a time with one worker each; a cell that starts when
    the others are done gets every free slot). The run holds the cells to what this
    says, so ``plan`` shows exactly what each cell will hold.
    """
    durations = durations or {}
    known = [durations[name] for name in order if name in durations]
    fallback = sum(known) / len(known) if known else 1.0
    running: list[tuple[float, int, int]] = []  # (expected end, tie-break, slots)
    free, now = size, 0.0
    allotted: dict[str, Allotment] = {}
    for position, name in enumerate(order):
        need = needs.get(name, Need())
        wants = 1 if need.auto else min(need.slots, size)
        while free < wants:
            now, _, slots = heapq.heappop(running)
            free += slots
            while running and running[0][0] == now:  # every cell ending now, before sharing
                free += heapq.heappop(running)[2]
        if need.auto:
            budget = max(1, free // (len(order) - position))
            slots = min(budget, need.cap) if need.cap else budget
            allotted[name] = Allotment(slots, workers=slots, start=now)
        else:
            slots = wants
            allotted[name] = Allotment(slots, start=now)
        free -= slots
        heapq.heappush(running, (now + durations.get(name, fallback), position, slots))
    return allotted


# --------------------------------------------------------------------------- the pool


class Slots:
    """The test slots of a run: a counting semaphore whose wait gives up when the cell is
    cancelled. A cell takes its allotment's slots (one when it has none); waiting cells
    are served in ``order`` (the expected order), a cell ranked later never going ahead
    of one that waits for more slots than are free.

    One exception to first come, first served: a cell whose environment is new (its
    pytest will compile what it imports) lets a free slot go, for at most
    :data:`COMPILE_TURN` seconds, while a new environment of its interpreter is testing
    and a cell of another interpreter has yet to start: it then takes the bytecode the
    other compiled (:mod:`.bytecode`) instead of compiling the same modules beside it."""

    def __init__(
        self,
        size: int,
        allotments: Mapping[str, Allotment] | None = None,
        order: Sequence[str] = (),
        interpreters: Mapping[str, str] | None = None,
    ) -> None:
        if size < 1:
            raise ValueError("at least one test slot")
        self.size = size
        self.allotments = dict(allotments or {})
        self._rank = {name: index for index, name in enumerate(order)}
        self._interpreters = dict(interpreters or {})
        self._free = size
        self._held: dict[str | None, list[int]] = {}
        self._waiting: dict[tuple[int, int], str | None] = {}
        self._letting_go: set[tuple[int, int]] = set()
        self._compiling: dict[str | None, str] = {}
        """Cells in a new environment, testing now: their interpreter."""
        self._gone: set[str | None] = set()
        """Cells that took their slots, or will never ask for them."""
        self._arrivals = itertools.count()
        self._condition = threading.Condition()

    def workers(self, cell: str) -> int | None:
        """The xdist budget of ``cell`` (``PYTEST_XDIST_AUTO_NUM_WORKERS``), if it has one."""
        allotment = self.allotments.get(cell)
        return allotment.workers if allotment is not None else None

    @property
    def held(self) -> int:
        with self._condition:
            return self.size - self._free

    def acquire(
        self, cancel: threading.Event, cell: str | None = None, *, new_env: bool = False
    ) -> float | None:
        """Take ``cell``'s slots; the seconds waited for them, or None when ``cancel`` was
        set first. ``new_env``: the cell's environment was made in this run."""
        started = time.monotonic()
        need = self._need(cell)
        ticket = (
            self._rank.get(cell, len(self._rank)) if cell is not None else len(self._rank),
            next(self._arrivals),
        )
        interpreter = self._interpreters.get(cell) if new_env and cell is not None else None
        with self._condition:
            self._waiting[ticket] = cell
            self._condition.notify_all()
            try:
                while True:
                    if cancel.is_set():
                        return None
                    self._let_go(
                        ticket, interpreter is not None and self._turn_of_another(cell, interpreter, started)
                    )
                    first = min(set(self._waiting) - self._letting_go, default=None)
                    if first == ticket and self._free >= need:
                        break
                    self._condition.wait(_POLL)
                self._free -= need
                self._held.setdefault(cell, []).append(need)
                self._gone.add(cell)
                if interpreter is not None:
                    self._compiling[cell] = interpreter
            finally:
                del self._waiting[ticket]
                self._letting_go.discard(ticket)
                self._condition.notify_all()
        return time.monotonic() - started

    def release(self, cell: str | None = None) -> None:
        with self._condition:
            taken = self._held.get(cell)
            if not taken:
                raise RuntimeError("released a test slot that was not taken")
            self._free += taken.pop()
            self._compiling.pop(cell, None)
            self._condition.notify_all()

    def retire(self, cell: str) -> None:
        """``cell`` is done, or will not test (reused, failed to prepare): no cell lets a
        slot go for it."""
        with self._condition:
            self._gone.add(cell)
            self._condition.notify_all()

    def _turn_of_another(self, cell: str | None, interpreter: str, started: float) -> bool:
        """Whether a new environment's cell lets a free slot go (see the class)."""
        if time.monotonic() - started >= COMPILE_TURN or interpreter not in self._compiling.values():
            return False
        return any(
            other not in self._gone and other != cell and self._interpreters.get(other) != interpreter
            for other in self._rank
        )

    def _let_go(self, ticket: tuple[int, int], letting_go: bool) -> None:
        if letting_go == (ticket in self._letting_go):
            return
        if letting_go:
            self._letting_go.add(ticket)
        else:
            self._letting_go.discard(ticket)
        self._condition.notify_all()  # the cells ranked after it may go first now, or no more

    def waiting_for(self, cells: Iterable[str], timeout: float) -> bool:
        """Wait until every one of ``cells`` waits for its slots (for tests, which must not
        sleep); False when ``timeout`` seconds passed first."""
        wanted = set(cells)
        with self._condition:
            return self._condition.wait_for(lambda: wanted <= set(self._waiting.values()), timeout)

    def _need(self, cell: str | None) -> int:
        allotment = self.allotments.get(cell) if cell is not None else None
        return min(allotment.slots, self.size) if allotment is not None else 1
