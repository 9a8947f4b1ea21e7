"""Ctrl-C / SIGTERM on a real run: children gone, finished cells reported, exit 2.

A tiny tox project with two cells: ``fast`` passes at once, ``slow`` blocks in its test
(it writes a file with its pid first: the test synchronises on files, never on time).
While ``slow`` blocks, a second run on the same reports folder is refused. ``stubborn``
blocks too and ignores SIGTERM, so it takes the run's whole grace period to stop.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pipeline_testkit import alive, clean_environ, pipeline_argv
from pytest_pipeline.runner import envs

WAIT = 120.0

TOX_INI = """
[tox]
env_list = fast, slow

[testenv]
skip_install = true
deps = pytest>=8.2
pass_env = PROBE_DIR

[testenv:fast]
commands = pytest tests/test_fast.py

[testenv:slow]
commands = pytest tests/test_slow.py

[testenv:failing]
commands = pytest tests/test_failing.py

[testenv:stubborn]
commands = pytest tests/test_stubborn.py
"""

SLOW_TEST = """
import os, time

def test_blocks():
    with open(os.path.join(os.environ["PROBE_DIR"], "slow-started"), "w") as handle:
        handle.write(str(os.getpid()))
    while True:
        time.sleep(60)
"""


STUBBORN_TEST = """
import os, signal, time

def test_blocks_and_ignores_sigterm():
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with open(os.path.join(os.environ["PROBE_DIR"], "stubborn-started"), "w") as handle:
        handle.write(str(os.getpid()))
    while True:
        time.sleep(60)
"""


# Fails only once the slow cell is running, so that there is something to cancel.
FAILING_TEST = """
import os, time

def test_fails():
    while not os.path.exists(os.path.join(os.environ["PROBE_DIR"], "slow-started")):
        time.sleep(0.01)
    assert False, "the first failure"
"""


def make_project(root: Path) -> Path:
    (root / "tests").mkdir(parents=True)
    (root / "tox.ini").write_text(TOX_INI)
    (root / "tests" / "test_fast.py").write_text("def test_ok():\n    pass\n")
    (root / "tests" / "test_slow.py").write_text(SLOW_TEST)
    (root / "tests" / "test_failing.py").write_text(FAILING_TEST)
    (root / "tests" / "test_stubborn.py").write_text(STUBBORN_TEST)
    return root


def wait_until(check: object, process: subprocess.Popen[str]) -> None:
    tick = threading.Event()
    for _ in range(int(WAIT / 0.05)):
        if check():  # type: ignore[operator]
            return
        assert process.poll() is None, "the run ended early"
        tick.wait(0.05)
    raise AssertionError("timed out waiting for the run")


def command(*args: str) -> list[str]:
    return pipeline_argv("run", *args)


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    if envs.find_uv() is None:
        pytest.skip("uv keeps this test fast")
    return clean_environ(PROBE_DIR=str(tmp_path))


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_stops_every_child_and_reports_what_finished(
    tmp_path: Path, environ: dict[str, str], signum: signal.Signals
) -> None:
    project = make_project(tmp_path / "proj")
    reports = project / "pipeline-reports"
    output = (tmp_path / "out.txt").open("w")
    run = subprocess.Popen(
        command("-p", "2"), cwd=project, env=environ, stdout=output, stderr=subprocess.STDOUT, text=True
    )
    try:
        started = tmp_path / "slow-started"
        fast_log = reports / "cells" / "fast" / "log.txt"
        wait_until(lambda: started.exists() and "cell fast: passed" in _read(fast_log), run)
        slow_pid = int(started.read_text())

        # a second run on the same reports folder is refused, and touches nothing
        second = subprocess.run(
            command(), cwd=project, env=environ, capture_output=True, text=True, check=False
        )
        assert second.returncode == 4, second.stdout + second.stderr
        assert "is in use by another pytest-pipeline run" in second.stderr
        assert f"pid {run.pid}" in second.stderr

        run.send_signal(signum)
        assert run.wait(WAIT) == 2
    finally:
        if run.poll() is None:
            run.kill()
        output.close()
    text = (tmp_path / "out.txt").read_text()
    assert not alive(slow_pid), text
    record = json.loads((reports / "run.json").read_text())
    assert record["interrupted"] is True
    statuses = {cell["name"]: cell["status"] for cell in record["cells"]}
    assert statuses == {"fast": "passed", "slow": "interrupted"}
    merged = (reports / "junit.xml").read_text()
    assert "test_ok" in merged
    gate = json.loads((reports / "gate.json").read_text())
    assert gate["code"] == 2
    assert "interrupted" in (reports / "cells" / "slow" / "log.txt").read_text()


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_fail_fast_cancels_the_running_cells(tmp_path: Path, environ: dict[str, str]) -> None:
    project = make_project(tmp_path / "proj")
    done = subprocess.run(
        command("-p", "2", "--fail-fast", "-e", "slow,failing"),
        cwd=project,
        env=environ,
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    slow_pid = int((tmp_path / "slow-started").read_text())
    assert not alive(slow_pid)
    record = json.loads((project / "pipeline-reports" / "run.json").read_text())
    cells = {cell["name"]: cell for cell in record["cells"]}
    assert cells["failing"]["status"] == "failed"
    assert cells["slow"]["status"] == "cancelled"
    assert cells["slow"]["message"] == "stopped by --fail-fast"
    assert record["interrupted"] is False


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_under_tox_matrix_still_reports_and_exits_2(tmp_path: Path, environ: dict[str, str]) -> None:
    project = make_project(tmp_path / "proj")
    reports = project / "pipeline-reports"
    output = (tmp_path / "out.txt").open("w")
    tox = subprocess.Popen(
        [sys.executable, "-m", "tox", "-e", "matrix", "--", "-p", "2", "-e", "fast,stubborn"],
        cwd=project,
        env=environ,
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # a process group of its own, as a terminal gives it
    )
    try:
        started = tmp_path / "stubborn-started"
        fast_log = reports / "cells" / "fast" / "log.txt"
        wait_until(lambda: started.exists() and "cell fast: passed" in _read(fast_log), tox)
        stubborn_pid = int(started.read_text())

        # Ctrl-C: the terminal signals tox's whole group, `pytest-pipeline run` included;
        # tox then sends the run its own SIGINT and SIGTERM while the cell takes its grace.
        os.killpg(tox.pid, signal.SIGINT)
        code = tox.wait(WAIT)
    finally:
        if tox.poll() is None:
            os.killpg(tox.pid, signal.SIGKILL)
            tox.wait()
        output.close()
    text = (tmp_path / "out.txt").read_text()
    assert "SIGKILL" not in text  # tox waited for the run to stop its cells and report
    assert "matrix: exit 2 " in text, text  # the run's code is the gate's
    # tox passes it on when it keeps the result; tox 4.67 drops the result of an
    # environment still running a second after Ctrl-C: "matrix: SKIP", exit 1.
    assert code == 2 or (code == 1 and "matrix: SKIP" in text), text
    assert not alive(stubborn_pid), text
    assert not _group_alive(tox.pid), text  # `pytest-pipeline run` is gone with tox
    record = json.loads((reports / "run.json").read_text())
    statuses = {cell["name"]: cell["status"] for cell in record["cells"]}
    assert statuses == {"fast": "passed", "stubborn": "interrupted"}
    assert "test_ok" in (reports / "junit.xml").read_text()
    assert json.loads((reports / "gate.json").read_text())["code"] == 2


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
