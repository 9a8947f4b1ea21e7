"""``status`` after a real ``run`` killed with SIGKILL: the history is still there, and
status says what it has and that the last run did not finish, in its lock's words (it
exited 4 before)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from mini_project import write_project

from pipeline_testkit import alive, clean_environ, pipeline_argv, pipeline_cli
from pytest_pipeline.runner import envs

# Passes at once, unless a file `hold` is in the project: then it says it started (its
# pid in `started`) and waits for `release`, a minute at most.
TEST = """
import os, pathlib, time

ROOT = pathlib.Path(__file__).resolve().parents[1]

def test_waits_when_held():
    if not (ROOT / "hold").exists():
        return
    (ROOT / "started").write_text(str(os.getpid()))
    deadline = time.monotonic() + 60
    while not (ROOT / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
"""


def wait_for(path: Path, child: subprocess.Popen[str], limit: float = 300) -> None:
    """Wait for ``path`` with a deadline, while ``child`` runs (no sleeping for timing)."""
    deadline = time.monotonic() + limit
    event = threading.Event()
    while not path.exists():
        assert child.poll() is None, "the run ended before its cell started"
        assert time.monotonic() < deadline, f"{path} did not appear"
        event.wait(0.05)


def gone_by(pid: int, deadline: float) -> None:
    """Wait for ``pid`` to end until ``deadline``; then end it."""
    event = threading.Event()
    while alive(pid) and time.monotonic() < deadline:
        event.wait(0.05)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_status_after_a_killed_run(tmp_path: Path) -> None:
    if envs.find_uv() is None:
        pytest.skip("uv keeps this test fast")
    project = write_project(tmp_path / "mini", test=TEST)
    assert pipeline_cli("run", cwd=project).returncode == 0
    (project / "hold").write_text("")
    child = subprocess.Popen(
        pipeline_argv("run"),
        cwd=project,
        env=clean_environ(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    started = project / "started"
    try:
        wait_for(started, child)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        # The run's watchdog ends its cell; wait for that (a deadline, then end it here),
        # so that status meets a run that is over, not one still winding down.
        gone_by(int(started.read_text()), deadline=time.monotonic() + 60)
        status = pipeline_cli("status", cwd=project)
    finally:
        (project / "release").write_text("")
        if child.poll() is None:
            child.kill()
            child.wait(timeout=60)
        if started.exists():
            gone_by(int(started.read_text()), deadline=time.monotonic())
    assert status.returncode == 3, status.stdout + status.stderr
    lines = status.stdout.splitlines()
    assert lines[0].startswith("no verdict: the last run in pipeline-reports did not finish: the run "), lines
    assert "never finished (it was killed); the reports of its cells are partial" in lines[0]
    assert lines[1].startswith("  last recorded verdict: GATE OPEN (0)")
    assert lines[-1].startswith("last open gate: (no commit)")
