"""Child processes of a run: own process group, stdin closed, output to the cell's log.

Every command a cell runs goes through :func:`run_command`. The child starts in a new
session (so a Ctrl-C on the terminal reaches only us, and we decide what to stop), and
on cancellation the whole group gets SIGTERM, then SIGKILL after a grace period: a test
that spawned helpers (xdist workers, a server) leaves nothing running behind it.

Its output comes to us through a pipe and goes into the log capped (:class:`CappedLog`).
Inside :func:`run_scope` (a run) and :func:`cell_scope` (a cell, one per worker thread)
each child carries the run's and the cell's markers and is known to the run's watchdog,
so that nothing it starts outlives the run, even a killed one (see :mod:`.watchdog`).
These scopes live here, not in the code that prepares a cell: every command of a cell,
however it is run, passes through :func:`run_command`.
"""

from __future__ import annotations

import contextlib
import os
import select
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from pytest_pipeline.runner import watchdog

GRACE_SECONDS = 5.0
"""How long a cancelled group gets between SIGTERM and SIGKILL."""

LOG_HEAD_BYTES = 1 << 20
"""A cell's log keeps its first MiB whole..."""
LOG_TAIL_BYTES = 4 << 20
"""...and the last 4 MiB of each command's output after it: a test that prints without
end (200 MB of debug output) costs a few MiB of disk, never the reports folder."""

_POLL = 0.05
_READ_SIZE = 1 << 16
_DRAIN_SECONDS = 1.0
"""After a command ended: how long we read what is left in its pipe. Only a process that
left the group (a daemon) can still hold it open, and we do not wait for that one."""
_IS_WINDOWS = sys.platform == "win32"


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    """The child's exit code; a negative number is the signal that ended it (POSIX)."""
    cancelled: bool = False
    """True when we stopped it (interrupt or fail-fast) before it finished on its own."""
    duration: float = 0.0


class CommandNotFound(Exception):
    """The program of a command does not exist (a missing interpreter, a typo)."""

    def __init__(self, program: str) -> None:
        super().__init__(program)
        self.program = program


def format_argv(argv: Sequence[str]) -> str:
    return shlex.join(argv)


def write_log_line(log: IO[bytes], text: str) -> None:
    log.write(text.encode("utf-8", "replace") + b"\n")
    log.flush()


# --------------------------------------------------------------------------- whose command


@dataclass
class CellActivity:
    """A running cell, as its commands see it: its name, and when it last printed."""

    name: str
    last_output: float = field(default_factory=time.monotonic)

    def touch(self) -> None:
        self.last_output = time.monotonic()


@dataclass
class _Run:
    run_id: str
    grace: float
    _watchdog: watchdog.Watchdog | None = None
    _watchdog_started: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def watchdog(self) -> watchdog.Watchdog | None:
        """The run's watchdog, started before the first child that carries the run's
        markers (every such child starts after this call): a run that starts none, every
        cell's results reused, does not pay for a process to guard nothing."""
        with self._lock:
            if not self._watchdog_started:
                self._watchdog = watchdog.Watchdog.start(self.run_id, grace=self.grace)
                self._watchdog_started = True
            return self._watchdog

    def close(self) -> None:
        with self._lock:
            if self._watchdog is not None:
                self._watchdog.close()


_runs: list[_Run] = []
"""The run in progress in this process (the last one; see :func:`run_scope`)."""
_cell = threading.local()
"""``.activity``: the cell the current thread runs (see :func:`cell_scope`)."""


@contextlib.contextmanager
def run_scope(
    run_id: str, *, grace: float = GRACE_SECONDS, say: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Every command started in the block belongs to the run ``run_id``: it carries the
    run's markers, and a watchdog ends it if this process dies (see :mod:`.watchdog`).

    At the end, what the run's commands left running anywhere is ended, and ``say`` is
    told how many (the cells report their own, so this is what no cell took along).
    """
    this = _Run(run_id, grace)
    _runs.append(this)
    try:
        yield
    finally:
        _runs.remove(this)
        ended = watchdog.end_marked(run_id, grace=grace)
        if ended and say is not None:
            say(f"ended {watchdog.processes(ended)} left by the run")
        this.close()


def _current_run() -> _Run | None:
    return _runs[-1] if _runs else None


def current_run_id() -> str | None:
    run = _current_run()
    return run.run_id if run is not None else None


@contextlib.contextmanager
def cell_scope(activity: CellActivity) -> Iterator[None]:
    """Commands this thread starts in the block belong to the cell of ``activity``."""
    outer = getattr(_cell, "activity", None)
    _cell.activity = activity
    try:
        yield
    finally:
        _cell.activity = outer


def _current_cell() -> CellActivity | None:
    activity: CellActivity | None = getattr(_cell, "activity", None)
    return activity


def _marked(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` with the markers of the current run and cell (inherited by every child)."""
    env = dict(env)
    run = _current_run()
    if run is not None:
        run.watchdog()  # guards the child from before it starts
        env[watchdog.RUN_MARKER] = run.run_id
        cell = _current_cell()
        if cell is not None:
            env[watchdog.CELL_MARKER] = cell.name
    return env


# --------------------------------------------------------------------------- the log


class CappedLog:
    """A command's output into the cell's log: the log's first :data:`LOG_HEAD_BYTES`
    as they come, then only the command's last :data:`LOG_TAIL_BYTES`, held in memory
    and written when it ends after a line that says how much was cut."""

    def __init__(self, log: IO[bytes], *, head: int = LOG_HEAD_BYTES, tail: int = LOG_TAIL_BYTES) -> None:
        self.log = log
        self.head_size, self.tail_size = head, tail
        self.head_room = max(0, head - _position(log))
        self.tail = bytearray()
        self.cut = 0
        self.at_line = True
        """Whether the kept tail starts a line (what was cut before it ended one)."""

    def write(self, data: bytes) -> None:
        if self.head_room:
            head = data[: self.head_room]
            self._write(head)
            self.head_room -= len(head)
            data = data[len(head) :]
        if data:
            self.tail += data
            if len(self.tail) > 2 * self.tail_size:  # trim now and then, not on every read
                self._trim()

    def close(self) -> None:
        """Write the kept tail, after a note of what was cut."""
        self._trim()
        if self.cut:
            newline = -1 if self.at_line else self.tail.find(b"\n", 0, 4096)
            if newline >= 0:  # start the tail at a line: the half line is cut (and counted) too
                self.cut += newline + 1
                del self.tail[: newline + 1]
            note = (
                f"\n[pytest-pipeline: {self.cut:,} bytes of output cut here; the log keeps its first "
                f"{_size(self.head_size)} and the last {_size(self.tail_size)} of each command's output]\n"
            )
            self._write(note.encode())
        self._write(bytes(self.tail))
        self.tail.clear()

    def _trim(self) -> None:
        excess = len(self.tail) - self.tail_size
        if excess > 0:
            self.cut += excess
            self.at_line = self.tail[excess - 1] == ord("\n")
            del self.tail[:excess]

    def _write(self, data: bytes) -> None:
        if not data:
            return
        try:
            self.log.write(data)
            self.log.flush()
        except OSError as exc:
            # Name the file: "no space left" alone does not say which disk is full.
            raise OSError(exc.errno, exc.strerror, getattr(self.log, "name", None)) from exc


def _position(log: IO[bytes]) -> int:
    try:
        return log.tell()
    except (OSError, ValueError):
        return 0


def _size(size: int) -> str:
    mib, rest = divmod(size, 1 << 20)
    return f"{mib} MiB" if mib and not rest else f"{size:,} bytes"


class _Output:
    """The read end of a command's stdout/stderr pipe, pumped into a :class:`CappedLog`."""

    def __init__(self, fd: int, log: IO[bytes], activity: CellActivity | None) -> None:
        self.fd = fd
        self.sink = CappedLog(log)
        self.activity = activity
        self.open = True
        self._poll = select.poll()  # not select(): it fails on a descriptor above 1023
        self._poll.register(fd, select.POLLIN)

    def _ready(self, timeout: float) -> bool:
        return bool(self._poll.poll(timeout * 1000))

    def pump(self, timeout: float) -> None:
        """Copy what arrives within ``timeout`` (wait that long when nothing does)."""
        if not self.open:
            threading.Event().wait(timeout)
            return
        if self._ready(timeout):
            self._read()

    def drain(self) -> None:
        """Copy what is left in the pipe, without waiting for a writer that stays."""
        deadline = time.monotonic() + _DRAIN_SECONDS
        while self.open and time.monotonic() < deadline:
            if not self._ready(0):
                return
            self._read()

    def close(self) -> None:
        os.close(self.fd)
        self.sink.close()

    def _read(self) -> None:
        data = os.read(self.fd, _READ_SIZE)
        if not data:
            self.open = False
            return
        if self.activity is not None:
            self.activity.touch()
        self.sink.write(data)


# --------------------------------------------------------------------------- commands


def run_command(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    log: IO[bytes],
    cancel: threading.Event,
    grace: float = GRACE_SECONDS,
) -> CommandResult:
    """Run ``argv`` to completion or until ``cancel`` is set, whichever comes first.

    Output (stdout and stderr interleaved) goes to ``log``, after a ``$ command`` line
    the way tox writes its logs, capped (see :class:`CappedLog`). Raises
    :class:`CommandNotFound` when the program does not exist.
    """
    write_log_line(log, f"$ {format_argv(argv)}  (in {cwd})")
    started = time.monotonic()
    if cancel.is_set():
        return CommandResult(tuple(argv), -int(signal.SIGTERM), cancelled=True)
    activity = _current_cell()
    if activity is not None:
        activity.touch()
    if _IS_WINDOWS:  # pragma: no cover - POSIX CI only
        return _run_on_windows(argv, cwd=cwd, env=env, log=log, cancel=cancel, grace=grace)
    child, read_fd = _start(argv, cwd=cwd, env=env, log=log)
    cancelled = _supervise(child, _Output(read_fd, log, activity), log=log, cancel=cancel, grace=grace)
    returncode = child.wait()
    duration = time.monotonic() - started
    write_log_line(log, f"pytest-pipeline: exit {returncode} ({duration:.2f}s)")
    return CommandResult(tuple(argv), returncode, cancelled=cancelled, duration=duration)


def _start(
    argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], log: IO[bytes]
) -> tuple[subprocess.Popen[bytes], int]:
    """The child in a session of its own, its output into a pipe: (child, the pipe's read end)."""
    read_fd, write_fd = os.pipe()
    try:
        child = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=_marked(env),
            stdin=subprocess.DEVNULL,
            stdout=write_fd,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except BaseException as error:
        os.close(read_fd)
        if isinstance(error, FileNotFoundError):
            write_log_line(log, f"pytest-pipeline: {argv[0]}: command not found")
            raise CommandNotFound(argv[0]) from None
        raise
    finally:
        os.close(write_fd)  # the child has its copy; ours would keep the pipe from ending
    return child, read_fd


def _supervise(
    child: subprocess.Popen[bytes],
    output: _Output,
    *,
    log: IO[bytes],
    cancel: threading.Event,
    grace: float,
) -> bool:
    """Pump the child's output until it ends or ``cancel`` is set (then stop its group);
    whether it was cancelled. Whatever happens, its group does not outlive this call."""
    run = _current_run()
    watch = run.watchdog() if run is not None else None
    if watch is not None:
        watch.track(child.pid)
    cancelled = False
    try:
        while True:
            output.pump(_POLL)
            if cancel.is_set():
                cancelled = child.poll() is None
                if cancelled:
                    write_log_line(log, "pytest-pipeline: cancelled; stopping the process group")
                    stop_group(child, grace, output.pump)
                break
            if child.poll() is not None:
                break
    finally:
        if child.poll() is None:
            stop_group(child, grace)
        _reap_leftovers(child)
        if watch is not None:
            watch.untrack(child.pid)
        try:
            output.drain()
        finally:
            output.close()
    return cancelled


def _run_on_windows(  # pragma: no cover - POSIX CI only
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    log: IO[bytes],
    cancel: threading.Event,
    grace: float,
) -> CommandResult:
    """Windows: the child writes to the log itself (no cap) in a new process group."""
    started = time.monotonic()
    try:
        child = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=_marked(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            creationflags=subprocess.CREATE_NEW_PROCESS_GROUP,  # type: ignore[attr-defined,unused-ignore]
        )
    except FileNotFoundError:
        write_log_line(log, f"pytest-pipeline: {argv[0]}: command not found")
        raise CommandNotFound(argv[0]) from None
    cancelled = False
    try:
        while child.poll() is None:
            if cancel.wait(_POLL):
                cancelled = child.poll() is None
                break
    finally:
        if child.poll() is None:
            stop_group(child, grace)
    returncode = child.wait()
    duration = time.monotonic() - started
    write_log_line(log, f"pytest-pipeline: exit {returncode} ({duration:.2f}s)")
    return CommandResult(tuple(argv), returncode, cancelled=cancelled, duration=duration)


def stop_group(
    child: subprocess.Popen[bytes],
    grace: float = GRACE_SECONDS,
    pump: Callable[[float], None] | None = None,
) -> None:
    """SIGTERM the child's process group, SIGKILL it if the leader is still there after
    ``grace``. ``pump(seconds)`` keeps reading its output meanwhile: a child that prints
    while it stops must not block on a full pipe."""
    if _IS_WINDOWS:  # pragma: no cover - POSIX CI only
        child.terminate()
        try:
            child.wait(grace)
        except subprocess.TimeoutExpired:
            child.kill()
        return
    _signal_group(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while child.poll() is None and time.monotonic() < deadline:
        if pump is not None:
            pump(_POLL)
        else:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(_POLL)
    _signal_group(child.pid, signal.SIGKILL)
    child.wait()


def _reap_leftovers(child: subprocess.Popen[bytes]) -> None:
    """Kill what the child left in its group (a daemon it started and forgot).

    The group id is the leader's pid; a group outlives its reaped leader while any
    member is alive, and the kernel does not hand out a pid that is still in use as a
    group id, so signalling it cannot hit a stranger.
    """
    if _IS_WINDOWS:  # pragma: no cover
        return
    if not _group_alive(child.pid):
        return
    _signal_group(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    while _group_alive(child.pid) and time.monotonic() < deadline:
        time.sleep(_POLL)
    _signal_group(child.pid, signal.SIGKILL)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a pid reused by someone else's group
        return False
    return True


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
