"""What a run leaves running, with real processes: found by the run's markers (/proc),
ended by the watchdog when the run dies, by the next run in the folder, by the run itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pytest_pipeline.runner import process, watchdog
from pytest_pipeline.runner.outputs import LOCK_NAME, RunMark, open_reports

WAIT = 30.0

pytestmark = pytest.mark.skipif(
    not watchdog.can_find_marked(), reason="finds processes through /proc/<pid>/environ (Linux)"
)


def wait_until(check: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + WAIT
    tick = threading.Event()
    while not check():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        tick.wait(0.02)


@pytest.fixture
def started() -> Iterator[Callable[..., int]]:
    """Start a sleeping process in a session of its own, with the given markers; all are
    killed after the test."""
    children: list[subprocess.Popen[bytes]] = []

    def start(run: str | None = None, cell: str | None = None) -> int:
        env = {k: v for k, v in os.environ.items() if k not in watchdog.MARKERS}
        if run is not None:
            env[watchdog.RUN_MARKER] = run
        if cell is not None:
            env[watchdog.CELL_MARKER] = cell
        child = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(1000)"],
            env=env,
            start_new_session=True,
            stdin=subprocess.DEVNULL,
        )
        children.append(child)
        # exec'd: its environ is the one we gave (before, /proc shows the parent's copy)
        wait_until(lambda: f"{watchdog.RUN_MARKER}=".encode() in _environ(child.pid) or run is None, "exec")
        return child.pid

    yield start
    for child in children:
        if child.poll() is None:
            child.kill()
        child.wait()


def _environ(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return b""


def gone(pid: int) -> bool:
    return not watchdog.running(pid)


def test_a_run_s_processes_are_found_by_run_and_cell(started: Callable[..., int]) -> None:
    first, second, other = started("run-a", "py310"), started("run-a", "py312"), started("run-b", "py310")
    assert set(watchdog.marked("run-a")) == {first, second}
    assert watchdog.marked("run-a", "py310") == [first]
    assert watchdog.end_marked("run-a", cell="py310", grace=5) == 1
    wait_until(lambda: gone(first), "the cell's process to end")
    assert not gone(second)
    assert not gone(other)


def test_the_watchdog_ends_a_dead_run_s_processes_and_groups(started: Callable[..., int]) -> None:
    escaped = started("run-x", "py310")  # left the group, still carries the marker
    grouped = started()  # no marker: only its group, as the run told the watchdog, names it
    guard = watchdog.Watchdog.start("run-x", grace=5)
    assert guard is not None
    guard.track(grouped)
    # The run dies: the kernel closes its end of the pipe; nothing says "done".
    assert guard._child.stdin is not None
    guard._child.stdin.close()
    wait_until(lambda: gone(escaped) and gone(grouped), "the watchdog to end the run's processes")
    assert guard._child.wait(WAIT) == 0


def test_a_run_that_ends_normally_leaves_its_processes_to_itself(started: Callable[..., int]) -> None:
    pid = started("run-y", "py310")
    guard = watchdog.Watchdog.start("run-y", grace=5)
    assert guard is not None
    guard.close()
    assert guard._child.returncode == 0
    assert not gone(pid)


def test_the_next_run_in_the_folder_ends_what_a_killed_run_left(
    tmp_path: Path, started: Callable[..., int]
) -> None:
    pid = started("run-killed", "py310")
    (tmp_path / LOCK_NAME).write_text(RunMark("run-killed", 4242, "2026-12-05T10:00:00+00:00").text())
    said: list[str] = []
    with open_reports(tmp_path, run_id="run-next", say=said.append):
        assert gone(pid)
    assert said == [
        "ended 1 process left by the run run-killed (pid 4242, started 2026-12-05T10:00:00+00:00), "
        "which never finished"
    ]


def test_commands_carry_the_markers_and_the_run_ends_what_they_leave(tmp_path: Path) -> None:
    code = (
        "import os, subprocess, sys\n"
        "print(os.environ['PYTEST_PIPELINE_RUN'], os.environ['PYTEST_PIPELINE_RUN_CELL'])\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(1000)'],"
        " start_new_session=True, stdout=subprocess.DEVNULL)\n"
        f"open({str(tmp_path / 'pid')!r}, 'w').write(str(child.pid))\n"
    )
    said: list[str] = []
    with (tmp_path / "log.txt").open("ab") as log:
        with process.run_scope("run-z", say=said.append):
            with process.cell_scope(process.CellActivity("py311")):
                result = process.run_command(
                    [sys.executable, "-c", code],
                    cwd=tmp_path,
                    env=dict(os.environ),
                    log=log,
                    cancel=threading.Event(),
                )
            assert result.returncode == 0
            daemon = int((tmp_path / "pid").read_text())
            assert watchdog.marked("run-z", "py311") == [daemon]  # it left the group, not the run
        assert gone(daemon)
    assert said == ["ended 1 process left by the run"]
    assert "run-z py311" in (tmp_path / "log.txt").read_text()


def test_a_run_that_starts_no_command_starts_no_watchdog(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every cell reused: nothing to guard, so no process to start and stop.
    started: list[str] = []
    real_start = watchdog.Watchdog.start

    def counting_start(run_id: str, **kwargs: object) -> watchdog.Watchdog | None:
        started.append(run_id)
        return real_start(run_id, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(watchdog.Watchdog, "start", counting_start)
    with process.run_scope("run-idle"):
        pass
    assert started == []


def test_the_watchdog_started_by_a_run_s_first_command_ends_it_when_the_run_dies(tmp_path: Path) -> None:
    code = (
        "import subprocess, sys\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(1000)'],"
        " start_new_session=True, stdout=subprocess.DEVNULL)\n"
        f"open({str(tmp_path / 'pid')!r}, 'w').write(str(child.pid))\n"
    )
    with (tmp_path / "log.txt").open("ab") as log, process.run_scope("run-w"):
        run = process._current_run()
        assert run is not None
        with process.cell_scope(process.CellActivity("py312")):
            process.run_command(
                [sys.executable, "-c", code],
                cwd=tmp_path,
                env=dict(os.environ),
                log=log,
                cancel=threading.Event(),
            )
        daemon = int((tmp_path / "pid").read_text())
        guard = run.watchdog()
        assert guard is not None
        # The run dies: the kernel closes its end of the pipe; nothing says "done".
        assert guard._child.stdin is not None
        guard._child.stdin.close()
        wait_until(lambda: gone(daemon), "the watchdog to end what the dead run left")


def test_a_command_killed_on_cancel_stops_even_when_it_prints_while_stopping(tmp_path: Path) -> None:
    # On SIGTERM it prints far more than a pipe holds: we keep reading while it stops.
    code = (
        "import signal, sys, time\n"
        "def loud(*_):\n"
        "    sys.stdout.write('y' * 1_000_000); sys.stdout.flush(); sys.exit(3)\n"
        "signal.signal(signal.SIGTERM, loud)\n"
        "print('handler' + ' set', flush=True)\n"
        "time.sleep(1000)\n"
    )
    cancel = threading.Event()
    results: list[process.CommandResult] = []
    with (tmp_path / "log.txt").open("ab") as log:
        thread = threading.Thread(
            target=lambda: results.append(
                process.run_command(
                    [sys.executable, "-c", code], cwd=tmp_path, env=dict(os.environ), log=log, cancel=cancel
                )
            )
        )
        thread.start()
        # (the log's first line is the command itself: wait for what only the child prints)
        wait_until(lambda: "handler set" in (tmp_path / "log.txt").read_text(), "the command to start")
        cancel.set()
        thread.join(WAIT)
    assert results
    assert results[0].returncode == 3
    assert (tmp_path / "log.txt").read_text().count("y") >= 1_000_000


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_marked_process_that_ignores_sigterm_gets_sigkill(tmp_path: Path) -> None:
    env = {**os.environ, watchdog.RUN_MARKER: "run-s"}
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            f"open({str(tmp_path / 'ready')!r}, 'w').close()\ntime.sleep(1000)",
        ],
        env=env,
        start_new_session=True,
    )
    try:
        wait_until((tmp_path / "ready").exists, "the process to ignore SIGTERM")
        assert watchdog.end_marked("run-s", grace=0.2) == 1
        assert child.wait(WAIT) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
