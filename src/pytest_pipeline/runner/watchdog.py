"""What a run leaves running, found and ended, even when the run itself was killed.

Every process a run starts carries two environment variables, ``PYTEST_PIPELINE_RUN``
(the run's id) and ``PYTEST_PIPELINE_RUN_CELL`` (the cell), and passes them on to its
own children, also to those that leave the process group (``setsid``, a daemon). On
Linux ``/proc/<pid>/environ`` shows them, so :func:`end_marked` finds a run's or a
cell's processes wherever they went.

A run that is killed (SIGKILL, the OOM killer, a CI timeout) cannot clean up after
itself, so before its first command it starts a :class:`Watchdog`: a small process of its own session
(``python -m pytest_pipeline.runner.watchdog RUN_ID GRACE``) that reads a pipe from the
run. The run tells it the process groups it starts; the kernel closes the pipe when the
run dies, however it dies, and the watchdog then ends those groups and every process
that carries the run's id, and exits. A run that ends normally says ``done`` first.

Why not ``PR_SET_PDEATHSIG`` in each child: it needs ``preexec_fn`` (unsafe in a process
with threads, and the scheduler has one per cell) or a wrapper process per command; it
fires when the *thread* that forked the child ends; and it reaches only the direct
child, not its children or a daemon in another session. The pipe needs nothing from
the children and covers all of them.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from pytest_pipeline import envvars

RUN_MARKER = envvars.RUN
CELL_MARKER = envvars.RUN_CELL
MARKERS = (RUN_MARKER, CELL_MARKER)

_PROC = Path("/proc")
_POLL = 0.02
_ROUNDS = 5
"""Sweeps before giving up: a process being ended may still start others."""
_DONE = b"done\n"


def new_run_id() -> str:
    """Unique enough to mark a run's processes: a UTC time, our pid and a random part."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{now}-{os.getpid()}-{secrets.token_hex(2)}"


def processes(count: int) -> str:
    return f"{count} process" if count == 1 else f"{count} processes"


# --------------------------------------------------------------------------- finding


def can_find_marked() -> bool:
    """Whether processes can be found by their environment here (Linux's /proc)."""
    return (_PROC / "self" / "environ").is_file()


def marked(run_id: str, cell: str | None = None) -> list[int]:
    """Processes (other than us) whose environment says they belong to ``run_id`` (and
    ``cell``); empty where /proc is not there, or for processes we may not read."""
    if not can_find_marked():
        return []
    wanted = {f"{RUN_MARKER}={run_id}".encode()}
    if cell is not None:
        wanted.add(f"{CELL_MARKER}={cell}".encode())
    found = []
    me = os.getpid()
    for entry in os.scandir(_PROC):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            environ = (_PROC / entry.name / "environ").read_bytes()
        except OSError:  # gone meanwhile, or someone else's
            continue
        if wanted.issubset(environ.split(b"\0")):
            found.append(int(entry.name))
    return found


def running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie (dead, waiting for its parent)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - another user's pid: not ours to wait for
        return False
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return True
    return not stat.rsplit(") ", 1)[-1].startswith("Z")


def group_running(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


# --------------------------------------------------------------------------- ending


def end(pids: Iterable[int], groups: Iterable[int] = (), *, grace: float) -> None:
    """SIGTERM ``pids`` and process ``groups``, SIGKILL what still runs after ``grace``."""
    pids, groups = set(pids), set(groups)
    _send(pids, groups, signal.SIGTERM)
    deadline = time.monotonic() + grace
    tick = threading.Event()
    # A group whose members are zombies still answers: where /proc names the members,
    # they alone say when we are done.
    watch_groups = not can_find_marked()
    while time.monotonic() < deadline:
        pids = {pid for pid in pids if running(pid)}
        if not pids and not (watch_groups and any(group_running(group) for group in groups)):
            break
        tick.wait(_POLL)
    _send(pids, groups, signal.SIGKILL)  # the groups too: a member may have left our markers


def _send(pids: Iterable[int], groups: Iterable[int], signum: signal.Signals) -> None:
    for group in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signum)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def end_marked(run_id: str, *, cell: str | None = None, groups: Iterable[int] = (), grace: float) -> int:
    """End every process of ``run_id`` (of ``cell`` only, when given) and ``groups``;
    how many marked processes there were."""
    ended: set[int] = set()
    groups = set(groups)
    for _ in range(_ROUNDS):
        pids = set(marked(run_id, cell))
        groups = {group for group in groups if group_running(group)}
        if not pids and not groups:
            break
        ended |= pids
        end(pids, groups, grace=grace)
        groups = set()  # signalled: their members that still run are found by their marker
    return len(ended)


# --------------------------------------------------------------------------- the watchdog


class Watchdog:
    """The run's side of the pipe to the watchdog process (see the module docstring)."""

    def __init__(self, child: subprocess.Popen[bytes]) -> None:
        self._child = child
        self._lock = threading.Lock()

    @classmethod
    def start(cls, run_id: str, *, grace: float, environ: Mapping[str, str] | None = None) -> Watchdog | None:
        """Start the watchdog for ``run_id``; None where it cannot run (Windows, no
        interpreter to start): the run goes on without it."""
        if sys.platform == "win32":  # pragma: no cover - POSIX CI only
            return None
        env = {k: v for k, v in (os.environ if environ is None else environ).items() if k not in MARKERS}
        try:
            child = subprocess.Popen(
                [sys.executable, "-m", __name__, run_id, str(grace)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                # Out of our session: a signal to our process group (a CI runner ending the
                # job's group) must leave it alive to end the cells, which are elsewhere.
                start_new_session=True,
                cwd=os.path.abspath(os.sep),  # not the project: -m puts the cwd on sys.path
                env=env,
            )
        except OSError:  # pragma: no cover - no interpreter, no processes left
            return None
        return cls(child)

    def track(self, pgid: int) -> None:
        self._say(f"+{pgid}\n".encode())

    def untrack(self, pgid: int) -> None:
        self._say(f"-{pgid}\n".encode())

    def close(self) -> None:
        """The run ended normally: the watchdog exits without ending anything."""
        self._say(_DONE)
        with self._lock:
            assert self._child.stdin is not None
            with contextlib.suppress(OSError):
                self._child.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._child.wait(5)

    def _say(self, line: bytes) -> None:
        with self._lock:
            assert self._child.stdin is not None
            # A watchdog that died takes nothing with it; the run goes on unwatched.
            with contextlib.suppress(OSError, ValueError):
                self._child.stdin.write(line)
                self._child.stdin.flush()


def watch(lines: Iterable[bytes], run_id: str, *, grace: float) -> bool:
    """The watchdog's work: follow ``lines`` from the run; at their end without
    ``done`` (the run died) end what it left. True when it had to."""
    groups: set[int] = set()
    for line in lines:
        if line == _DONE:
            return False
        text = line.strip().decode("ascii", "replace")
        if text[:1] in "+-" and text[1:].isdigit():
            (groups.add if text[0] == "+" else groups.discard)(int(text[1:]))
    end_marked(run_id, groups=groups, grace=grace)
    return True


def main(argv: list[str]) -> int:
    run_id, grace = argv[0], float(argv[1])
    # Terminal signals are not for us: we are what stays when the run got them and died.
    for name in ("SIGINT", "SIGHUP"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    watch(sys.stdin.buffer, run_id, grace=grace)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
