"""One interrupt however many signals bring it; an ignored signal stays ignored; a run
started by tox stops when tox is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pipeline_testkit import alive
from pytest_pipeline.runner.interrupts import _reader_gone, signals_as_interrupt

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

WAIT = 30.0


def test_only_the_first_signal_interrupts(capfd: pytest.CaptureFixture[str]) -> None:
    with signals_as_interrupt():
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
        # tox's own SIGINT, then its SIGTERM, while the reports are being written
        signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGTERM)
    assert capfd.readouterr().err.count("already stopping") == 2
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_nested_use_shares_the_outer_handler() -> None:
    with signals_as_interrupt():
        with pytest.raises(KeyboardInterrupt), signals_as_interrupt():
            signal.raise_signal(signal.SIGTERM)
        signal.raise_signal(signal.SIGTERM)  # the same interrupt: noted, not raised


def test_an_ignored_signal_stays_ignored() -> None:
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # what nohup does
    try:
        with signals_as_interrupt():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            signal.raise_signal(signal.SIGHUP)
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_a_pipe_nobody_reads() -> None:
    read_end, write_end = os.pipe()
    try:
        assert not _reader_gone(write_end)
        os.close(read_end)
        assert _reader_gone(write_end)
    finally:
        os.close(write_end)


# The run: waits inside signals_as_interrupt until interrupted, then says so.
ORPHAN = """
import os, pathlib, sys, threading
from pytest_pipeline.runner.interrupts import signals_as_interrupt

probe = pathlib.Path(sys.argv[1])
try:
    with signals_as_interrupt():
        (probe / "running").write_text(str(os.getpid()))
        threading.Event().wait(60)
except KeyboardInterrupt:
    (probe / "interrupted").write_text("")
"""

# Stands for tox: starts the run, waits until it runs, then dies without a word to it.
PARENT = """
import os, pathlib, subprocess, sys, threading

probe = pathlib.Path(sys.argv[1])
subprocess.Popen([sys.executable, "-c", sys.argv[2], str(probe)], stdin=subprocess.DEVNULL)
while not (probe / "running").exists():
    threading.Event().wait(0.02)
os._exit(0)
"""


def test_a_run_started_by_tox_is_interrupted_when_tox_dies(tmp_path: Path) -> None:
    env = {**os.environ, "TOX_ENV_NAME": "matrix"}
    parent = subprocess.run(
        [sys.executable, "-c", PARENT, str(tmp_path), ORPHAN], env=env, timeout=WAIT, check=True
    )
    assert parent.returncode == 0
    run_pid = int((tmp_path / "running").read_text())
    try:
        tick = threading.Event()
        for _ in range(int(WAIT / 0.02)):
            if (tmp_path / "interrupted").exists():
                break
            tick.wait(0.02)
        assert (tmp_path / "interrupted").exists(), "the orphaned run was not interrupted"
    finally:
        if alive(run_pid):
            os.kill(run_pid, signal.SIGKILL)
