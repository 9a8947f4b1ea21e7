"""Child processes of a run: own process group, stdin closed, output to the cell's log.

Every command a cell runs goes through :func:`run_command`. The child starts in a new
session (so a Ctrl-C on the terminal reaches only us, and we decide what to stop), and
on cancellation the whole group gets SIGTERM, then SIGKILL after a grace period: a test
that spawned helpers (xdist workers, a server) leaves nothing running behind it.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

GRACE_SECONDS = 5.0
"""How long a cancelled group gets between SIGTERM and SIGKILL."""

_POLL = 0.05
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
    the way tox writes its logs. Raises :class:`CommandNotFound` when the program does
    not exist.
    """
    write_log_line(log, f"$ {format_argv(argv)}  (in {cwd})")
    started = time.monotonic()
    if cancel.is_set():
        return CommandResult(tuple(argv), -int(signal.SIGTERM), cancelled=True)
    try:
        if _IS_WINDOWS:  # pragma: no cover - POSIX CI only
            group: dict[str, Any] = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined,unused-ignore]
        else:
            group = {"start_new_session": True}
        child = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            **group,
        )
    except FileNotFoundError:
        write_log_line(log, f"pytest-pipeline: {argv[0]}: command not found")
        raise CommandNotFound(argv[0]) from None
    cancelled = False
    try:
        while True:
            if cancel.wait(_POLL):
                cancelled = child.poll() is None
                if cancelled:
                    write_log_line(log, "pytest-pipeline: cancelled; stopping the process group")
                    stop_group(child, grace)
                break
            if child.poll() is not None:
                break
    finally:
        # Whatever happens to us, the group must not outlive this call.
        if child.poll() is None:
            stop_group(child, grace)
        _reap_leftovers(child)
    returncode = child.wait()
    duration = time.monotonic() - started
    write_log_line(log, f"pytest-pipeline: exit {returncode} ({duration:.2f}s)")
    return CommandResult(tuple(argv), returncode, cancelled=cancelled, duration=duration)


def stop_group(child: subprocess.Popen[bytes], grace: float = GRACE_SECONDS) -> None:
    """SIGTERM the child's process group, SIGKILL it if the leader is still there after ``grace``."""
    if _IS_WINDOWS:  # pragma: no cover - POSIX CI only
        child.terminate()
        try:
            child.wait(grace)
        except subprocess.TimeoutExpired:
            child.kill()
        return
    _signal_group(child.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(grace)
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
