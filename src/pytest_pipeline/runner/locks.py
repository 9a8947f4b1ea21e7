"""Advisory file locks: one process per environment, one run per reports folder.

``flock``/``msvcrt.locking`` locks belong to an open file and vanish with the process
that held them, so a killed run never leaves a stale lock behind. The lock file holds
the owner's pid, only to name it in messages.
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


def _owner(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        text = ""
    return f"pid {text}" if text else "another process"


@contextlib.contextmanager
def hold(
    path: Path,
    *,
    wait: bool = False,
    cancel: threading.Event | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the lock ``path`` for the ``with`` block.

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
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        # Closing the file releases the lock; the file itself stays (removing it would
        # race with a process that just opened it and is about to lock it).
        handle.close()
