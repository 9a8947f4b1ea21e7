"""Real child processes: own group, stdin closed, output in the log, nothing left behind."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from pipeline_testkit import alive
from pytest_pipeline.runner.process import CommandNotFound, run_command

WAIT = 30.0

# A child that starts a grandchild (same process group), records both pids, says it
# is ready, then blocks until it is killed. The grandchild ignores SIGTERM, so only the
# SIGKILL after the grace period stops it.
FAMILY = r"""
import os, signal, subprocess, sys, time
folder = sys.argv[1]
grandchild = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "open(%r, 'w').write('x')\n"
    "while True: time.sleep(60)" % (folder + "/grandchild-ready")])
open(folder + "/pids", "w").write(f"{os.getpid()} {grandchild.pid}")
while not os.path.exists(folder + "/grandchild-ready"):
    time.sleep(0.01)
print("stdin is", repr(sys.stdin.read()), flush=True)
open(folder + "/ready", "w").write("x")
while True:
    time.sleep(60)
"""


def wait_for(path: Path, thread: threading.Thread) -> None:
    """Poll for a file the child writes (the test's only synchronisation)."""
    event = threading.Event()
    while not path.exists():
        assert thread.is_alive(), "the command ended before it was ready"
        event.wait(0.02)


@pytest.mark.skipif(sys.platform == "win32", reason="process groups are POSIX")
def test_cancel_kills_the_whole_group(tmp_path: Path) -> None:
    script = tmp_path / "family.py"
    script.write_text(FAMILY)
    cancel = threading.Event()
    results = []
    with (tmp_path / "log.txt").open("ab") as log:
        thread = threading.Thread(
            target=lambda: results.append(
                run_command(
                    [sys.executable, str(script), str(tmp_path)],
                    cwd=tmp_path,
                    env=dict(os.environ),
                    log=log,
                    cancel=cancel,
                    grace=0.5,
                )
            )
        )
        thread.start()
        wait_for(tmp_path / "ready", thread)
        child, grandchild = map(int, (tmp_path / "pids").read_text().split())
        assert os.getpgid(child) == child != os.getpgid(0)  # its own group, not ours
        assert os.getpgid(grandchild) == child
        cancel.set()
        thread.join(WAIT)
    assert not thread.is_alive()
    (result,) = results
    assert result.cancelled
    assert result.returncode < 0
    assert not alive(child)
    assert not alive(grandchild)
    text = (tmp_path / "log.txt").read_text()
    assert "stdin is ''" in text  # stdin was closed, not our terminal
    assert "cancelled; stopping the process group" in text


@pytest.mark.skipif(sys.platform == "win32", reason="process groups are POSIX")
def test_leftovers_of_a_finished_command_are_killed(tmp_path: Path) -> None:
    code = (
        "import subprocess, sys\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        f"open({str(tmp_path / 'pid')!r}, 'w').write(str(p.pid))\n"
    )
    with (tmp_path / "log.txt").open("ab") as log:
        result = run_command(
            [sys.executable, "-c", code],
            cwd=tmp_path,
            env=dict(os.environ),
            log=log,
            cancel=threading.Event(),
        )
    assert result.returncode == 0
    assert not result.cancelled
    assert not alive(int((tmp_path / "pid").read_text()))


def test_exit_code_and_output(tmp_path: Path) -> None:
    with (tmp_path / "log.txt").open("ab") as log:
        result = run_command(
            [sys.executable, "-c", "import sys; print('hello'); sys.exit(3)"],
            cwd=tmp_path,
            env=dict(os.environ),
            log=log,
            cancel=threading.Event(),
        )
    assert result.returncode == 3
    text = (tmp_path / "log.txt").read_text()
    assert "hello" in text
    assert "pytest-pipeline: exit 3" in text


def test_missing_program(tmp_path: Path) -> None:
    with (tmp_path / "log.txt").open("ab") as log, pytest.raises(CommandNotFound):
        run_command(["no-such-program-here"], cwd=tmp_path, env={}, log=log, cancel=threading.Event())
