"""Advisory file locks: one process per environment, one run per reports folder.

``flock``/``msvcrt.locking`` locks belong to an open file and vanish with the process
that held them, so a killed run never leaves a stale lock behind. The lock file holds
the owner's pid on its first line, to name it in messages; a holder may write more after
it (the reports folder's lock says which run holds it and whether it finished, see
:mod:`.outputs`), and finds what the previous holder wrote in :attr:`Held.previous`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

_POLL = 0.1


class LockBusy(Exception):
    def __init__(self, path: Path, owner: str) -> None:
        super().__init__(f"{path} is held by {owner}")
        self.path = path
        self.owner = owner


def _try_lock(handle: IO[str]) -> bool:
    try:
        if sys.platform == "win32":  # pragma: no cover - POSIX CI only
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(handle: IO[str]) -> None:
    if sys.platform == "win32":  # pragma: no cover - POSIX CI only
        import msvcrt

        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _owner(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8").strip().splitlines()
    except OSError:
        lines = []
    return f"pid {lines[0]}" if lines and lines[0].strip() else "another process"


class Held:
    """A lock this process holds: what its file said before, and a way to rewrite it."""

    def __init__(self, handle: IO[str], previous: str) -> None:
        self._handle = handle
        self.previous = previous
        """The file's text before we took the lock (what the last holder left there)."""

    def write(self, text: str) -> None:
        """Replace the file's text (in place: the lock belongs to this very file).
        The first line stays the holder's pid."""
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write(text)
        self._handle.flush()


def is_held(path: Path) -> bool:
    """Whether a process holds the lock ``path`` now (we take it for an instant to know)."""
    try:
        handle = path.open("r", encoding="utf-8")
    except OSError:
        return False
    with handle:
        if not _try_lock(handle):
            return True
        _unlock(handle)
        return False


@contextlib.contextmanager
def hold(
    path: Path,
    *,
    wait: bool = False,
    cancel: threading.Event | None = None,
    on_wait: Callable[[str], None] | None = None,
    content: str | None = None,
) -> Iterator[Held]:
    """Hold the lock ``path`` for the ``with`` block; its file then says ``content``
    (default: our pid).

    Without ``wait`` a busy lock raises :class:`LockBusy` at once; with it, we poll
    until the lock is free or ``cancel`` is set (then :class:`LockBusy` too), calling
    ``on_wait(owner)`` once so the user sees why nothing happens.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    try:
        told = False
        while not _try_lock(handle):
            owner = _owner(path)
            if not wait:
                raise LockBusy(path, owner)
            if on_wait is not None and not told:
                on_wait(owner)
                told = True
            if cancel is not None and cancel.wait(_POLL):
                raise LockBusy(path, owner)
            if cancel is None:
                threading.Event().wait(_POLL)
        handle.seek(0)
        held = Held(handle, handle.read())
        held.write(f"{os.getpid()}\n" if content is None else content)
        yield held
    finally:
        # Closing the file releases the lock; the file itself stays (removing it would
        # race with a process that just opened it and is about to lock it).
        handle.close()
