"""Faults a real run must survive (issue 12): a killed orchestrator, a hung cell, a
daemon that left its session, a full reports folder, a cell that prints without end.

A tiny tox project whose tests say where they are through files in ``PROBE_DIR`` (the
tests synchronise on files and on processes, never on time).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline_testkit import alive, clean_environ, pipeline_argv, pipeline_cli
from pytest_pipeline.runner import envs

WAIT = 120.0

TOX_INI = """
[tox]
env_list = fast, hung

[testenv]
skip_install = true
deps = pytest>=8.2
pass_env = PROBE_DIR

[testenv:fast]
commands = pytest tests/test_fast.py

[testenv:hung]
commands = pytest tests/test_hung.py

[testenv:daemon]
commands = pytest tests/test_daemon.py

[testenv:loud]
commands_pre = python -c "{loud}"
commands = pytest tests/test_fast.py
"""

# Blocks for ever on a FIFO nobody writes, after saying so (with its pid).
HUNG_TEST = """
import os

def test_blocks():
    probe = os.environ["PROBE_DIR"]
    with open(os.path.join(probe, "hung-started.tmp"), "w") as handle:
        handle.write(str(os.getpid()))
    os.replace(os.path.join(probe, "hung-started.tmp"), os.path.join(probe, "hung-started"))
    with open(os.path.join(probe, "fifo")) as never:
        never.read()
"""

# Starts a daemon in a session of its own (out of the cell's process group) and leaves it.
DAEMON_TEST = """
import os, subprocess, sys, time

def test_leaves_a_daemon():
    probe = os.environ["PROBE_DIR"]
    subprocess.Popen(
        [sys.executable, "-c", "import os, time\\n"
         f"open({os.path.join(probe, 'daemon.tmp')!r}, 'w').write(str(os.getpid()))\\n"
         f"os.replace({os.path.join(probe, 'daemon.tmp')!r}, {os.path.join(probe, 'daemon')!r})\\n"
         "time.sleep(1000)"],
        start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
    )
    while not os.path.exists(os.path.join(probe, "daemon")):
        time.sleep(0.01)
"""

LOUD_BYTES = 12 * 1024 * 1024
# A command that prints LOUD_BYTES: a first line, then 'x' lines, then a last line.
LOUD = (
    "import sys; out = sys.stdout; out.write('FIRST LINE\\n'); "
    f"[out.write('x' * 1023 + '\\n') for _ in range({LOUD_BYTES // 1024})]; out.write('LAST LINE\\n')"
)


def make_project(root: Path) -> Path:
    (root / "tests").mkdir(parents=True)
    (root / "tox.ini").write_text(TOX_INI.format(loud=LOUD.replace('"', '\\"')))
    (root / "tests" / "test_fast.py").write_text("def test_ok():\n    pass\n")
    (root / "tests" / "test_hung.py").write_text(HUNG_TEST)
    (root / "tests" / "test_daemon.py").write_text(DAEMON_TEST)
    return root


@pytest.fixture
def probe(tmp_path: Path) -> Path:
    folder = tmp_path / "probe"
    folder.mkdir()
    os.mkfifo(folder / "fifo")
    return folder


@pytest.fixture
def environ(probe: Path) -> dict[str, str]:
    if envs.find_uv() is None:
        pytest.skip("uv keeps this test fast")
    return clean_environ(PROBE_DIR=str(probe))


@pytest.fixture
def leftovers(probe: Path) -> Iterator[None]:
    """Whatever a failing test leaves running (the hung test, the daemon) is killed after it."""
    yield
    for name in ("hung-started", "daemon"):
        path = probe / name
        if path.exists():
            pid = int(path.read_text())
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def wait_until(check: Callable[[], bool], what: str, deadline: float = WAIT) -> None:
    tick = threading.Event()
    end = time.monotonic() + deadline
    while not check():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        tick.wait(0.02)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes and signals")


# --------------------------------------------------------------------------- 1. kill -9


@pytest.mark.usefixtures("leftovers")
def test_a_killed_run_takes_its_cells_along_and_its_folder_never_opens_a_gate(
    tmp_path: Path, probe: Path, environ: dict[str, str]
) -> None:
    project = make_project(tmp_path / "proj")
    reports = project / "pipeline-reports"
    output = (tmp_path / "out.txt").open("w")
    run = subprocess.Popen(
        pipeline_argv("run", "-p", "2", "-e", "fast,hung"),
        cwd=project,
        env=environ,
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    try:
        started = probe / "hung-started"
        fast_log = reports / "cells" / "fast" / "log.txt"
        wait_until(lambda: started.exists() and "cell fast: passed" in _read(fast_log), "the cells")
        hung_pid = int(started.read_text())
        run.kill()
        killed = time.monotonic()
        run.wait(WAIT)
    finally:
        if run.poll() is None:
            run.kill()
        output.close()
    # The cell's pytest goes with the run that started it.
    wait_until(lambda: not alive(hung_pid), "the hung cell to end with its run", deadline=30)
    print(f"SIGKILL -> last cell process gone: {time.monotonic() - killed:.3f}s")
    # Its folder holds the passed cell's report, but the run never finished: no gate opens on it.
    assert (reports / "cells" / "fast" / "junit.xml").is_file()
    gate = pipeline_cli("gate", cwd=project, env=environ)
    text = gate.stdout + gate.stderr
    assert gate.returncode == 3, text
    assert "GATE CLOSED (3)" in text
    assert "unfinished run" in text
    assert f"pid {run.pid}" in text, text
    assert json.loads((reports / "gate.json").read_text())["code"] == 3


# --------------------------------------------------------------------------- 2. a hung cell


@pytest.mark.usefixtures("leftovers")
def test_a_hung_cell_times_out_and_the_run_goes_on(
    tmp_path: Path, probe: Path, environ: dict[str, str]
) -> None:
    project = make_project(tmp_path / "proj")
    reports = project / "pipeline-reports"
    done = pipeline_cli("run", "-p", "2", "-e", "fast,hung", "--timeout", "15s", cwd=project, env=environ)
    text = done.stdout + done.stderr
    assert done.returncode == 3, text
    hung_pid = int((probe / "hung-started").read_text())
    assert not alive(hung_pid)
    record = json.loads((reports / "run.json").read_text())
    cells = {cell["name"]: cell for cell in record["cells"]}
    assert cells["fast"]["status"] == "passed"
    assert cells["hung"]["status"] == "timed-out"
    assert "15s" in cells["hung"]["message"]
    log = (reports / "cells" / "hung" / "log.txt").read_text()
    assert "tests/test_hung.py" in log, log  # the partial log stays
    gate = json.loads((reports / "gate.json").read_text())
    assert gate["code"] == 3
    assert any(reason["kind"] == "timed-out" for reason in gate["reasons"])


@pytest.mark.usefixtures("leftovers")
def test_the_run_s_time_limit_ends_the_cell_still_running(
    tmp_path: Path, probe: Path, environ: dict[str, str]
) -> None:
    # (Which cells a time limit finds not started yet, `cancelled`, depends on timing: the
    # scheduler's unit tests pin that.)
    project = make_project(tmp_path / "proj")
    reports = project / "pipeline-reports"
    done = pipeline_cli(
        "run", "-p", "2", "-e", "fast,hung", "--run-timeout", "15s", cwd=project, env=environ, timeout=WAIT
    )
    text = done.stdout + done.stderr
    assert done.returncode == 3, text
    assert not alive(int((probe / "hung-started").read_text()))
    cells = {cell["name"]: cell for cell in json.loads((reports / "run.json").read_text())["cells"]}
    assert cells["fast"]["status"] == "passed", cells
    assert cells["hung"]["status"] == "timed-out", cells
    assert "the run's time limit of 15s passed" in cells["hung"]["message"]
    gate = json.loads((reports / "gate.json").read_text())
    assert gate["code"] == 3
    assert any(reason["kind"] == "timed-out" for reason in gate["reasons"])


# --------------------------------------------------------------------------- 5. setsid daemon


@pytest.mark.usefixtures("leftovers")
def test_a_daemon_that_left_the_session_is_ended_and_reported(
    tmp_path: Path, probe: Path, environ: dict[str, str]
) -> None:
    project = make_project(tmp_path / "proj")
    done = pipeline_cli("run", "-e", "daemon", cwd=project, env=environ, timeout=WAIT)
    text = done.stdout + done.stderr
    assert done.returncode == 0, text
    daemon = int((probe / "daemon").read_text())
    assert not alive(daemon), text
    assert "ended 1 process left by cell daemon" in text


# --------------------------------------------------------------------------- 3. output without end


def test_a_loud_cell_keeps_the_head_and_the_tail_of_its_output(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    project = make_project(tmp_path / "proj")
    done = pipeline_cli("run", "-e", "loud", cwd=project, env=environ, timeout=WAIT)
    assert done.returncode == 0, done.stdout + done.stderr
    log = project / "pipeline-reports" / "cells" / "loud" / "log.txt"
    assert log.stat().st_size < 6 * 1024 * 1024
    text = log.read_text()
    assert "FIRST LINE" in text
    assert "LAST LINE" in text
    assert "of output cut here" in text
    assert "cell loud: passed" in text


# --------------------------------------------------------------------------- 3. a full disk


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs (root only)."""
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("mounting a 1 MB tmpfs needs root on Linux")
    folder = tmp_path / "tiny"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False, stdin=subprocess.DEVNULL)


def test_a_full_reports_folder_ends_the_run_in_one_line_with_exit_3(
    tmp_path: Path, environ: dict[str, str], tiny_disk: Path
) -> None:
    project = make_project(tmp_path / "proj")
    reports = tiny_disk / "reports"
    done = pipeline_cli("run", "-e", "loud", "--reports-dir", str(reports), cwd=project, env=environ)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("pytest-pipeline: error:")]
    assert len(errors) == 1, done.stderr
    assert str(reports) in errors[0]
    assert "errno 28" in errors[0]
    leftovers = [p.name for p in reports.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
    gate = reports / "gate.json"
    assert not gate.exists() or json.loads(gate.read_text())["code"] != 0
    if (reports / "run.json").exists():
        json.loads((reports / "run.json").read_text())  # whole, or not there at all
    gate_after = pipeline_cli("gate", str(reports), cwd=project, env=environ)
    assert gate_after.returncode == 3, gate_after.stdout + gate_after.stderr
