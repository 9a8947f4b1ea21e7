"""What stops a run early: Ctrl-C, SIGTERM, SIGHUP, and (under tox) the death of its parent.

The first of them raises :class:`KeyboardInterrupt` in the main thread: the scheduler
cancels the cells and waits for them to stop, then the run writes its reports and exits 2.
Later ones only say that we are already stopping. One interrupt often arrives as several
signals: under ``tox -e matrix`` a Ctrl-C reaches us from the terminal, then tox sends its
own SIGINT and SIGTERM; a second :class:`KeyboardInterrupt` would cut the report writing
short and lose what the finished cells found.

A signal that was ignored before the run (``nohup`` ignores SIGHUP, a shell's background
job SIGINT) stays ignored: whoever started us chose that.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
from collections.abc import Iterator, Mapping
from types import FrameType

_SIGNAL_NAMES = ("SIGINT", "SIGTERM", "SIGHUP")
PARENT_POLL_SECONDS = 0.2
"""How often a run started by tox checks that tox is still there."""

_ALREADY_STOPPING = b"pytest-pipeline: already stopping: cells first, then the reports\n"


class _FirstInterrupt:
    """The signal handler: a :class:`KeyboardInterrupt` the first time, a note afterwards."""

    def __init__(self) -> None:
        self.received = 0

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.received += 1
        if self.received == 1:
            raise KeyboardInterrupt
        # os.write, not print: a handler can run in the middle of a print to the same stream.
        with contextlib.suppress(OSError):  # nobody reads our stderr any more
            os.write(2, _ALREADY_STOPPING)


def _signals() -> list[signal.Signals]:
    return [getattr(signal, name) for name in _SIGNAL_NAMES if hasattr(signal, name)]


@contextlib.contextmanager
def signals_as_interrupt() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP behave like one Ctrl-C while cells run: stop them,
    report, exit 2. Nested uses share the outer one's handler (a run inside ``run``)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may install handlers; it is the one they interrupt
        return
    signums = _signals()
    if any(isinstance(signal.getsignal(signum), _FirstInterrupt) for signum in signums):
        yield
        return
    handler = _FirstInterrupt()
    previous = {}
    for signum in signums:
        current = signal.getsignal(signum)
        if current is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, handler)
    watch = ParentWatch() if started_by_tox(os.environ) and sys.platform != "win32" else None
    try:
        yield
    finally:
        if watch is not None:
            watch.stop()
        for signum, old in previous.items():
            signal.signal(signum, old)


def started_by_tox(environ: Mapping[str, str]) -> bool:
    """tox sets ``TOX_ENV_NAME`` for the commands it runs (``tox -e matrix`` runs us).
    Only then is our parent's death an interrupt: a run in the background of a shell
    (``nohup pytest-pipeline run &``) must outlive the shell."""
    return bool(environ.get("TOX_ENV_NAME"))


class ParentWatch:
    """Interrupts the run when the process that started it is gone.

    CI cancels a job with SIGTERM to tox alone, which dies at once without stopping its
    commands; the cells run in their own sessions, so nothing else would stop them.
    ``os.getppid()`` changes when the parent dies (we are handed to init or a subreaper).
    """

    def __init__(self, poll: float = PARENT_POLL_SECONDS) -> None:
        self._parent = os.getppid()
        self._poll = poll
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="parent-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stopped.wait(self._poll):
            if os.getppid() != self._parent:
                silence_unread_output()
                # The handler runs in the main thread, as for a signal from outside.
                os.kill(os.getpid(), signal.SIGTERM)
                return


def silence_unread_output() -> None:
    """Point stdout and stderr at the null device when nobody reads them any more.

    They were pipes (or a pseudo terminal) to the parent that died; a write there raises
    BrokenPipeError in the middle of stopping the cells or writing the reports.
    """
    for fd in (1, 2):
        if _reader_gone(fd):
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, fd)
            finally:
                os.close(devnull)


def _reader_gone(fd: int) -> bool:
    """A pipe whose read end is closed polls POLLERR, a terminal whose master is closed POLLHUP."""
    if not hasattr(select, "poll"):  # pragma: no cover - every POSIX CPython we support has it
        return False
    poller = select.poll()
    try:
        poller.register(fd, select.POLLOUT)
        events = poller.poll(0)
    except (OSError, ValueError):  # closed or not pollable: leave it as it is
        return False
    return any(mask & (select.POLLERR | select.POLLHUP) for _, mask in events)
