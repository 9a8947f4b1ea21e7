"""A build the run no longer needs, or that an interrupt ends, is stopped: real child
processes, really stopped (the tests synchronise on files the builds write, never on time)."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from pipeline_testkit import alive, clean_environ, pipeline_argv
from pytest_pipeline.runner import build, envs


def test_cancel_stops_a_running_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    temp = tmp_path / "tmp"  # where the build stages
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'pkg'\n")
    started = tmp_path / "started"
    # A "build" that says it started, then takes far longer than the test waits for it.
    code = f"import pathlib, time; pathlib.Path({str(started)!r}).touch(); time.sleep(60)"
    monkeypatch.setattr(build, "build_command", lambda *args, **kwargs: [sys.executable, "-c", code])
    early = build.EarlyBuild(root, uv=None).start()
    for _ in range(600):
        if started.exists():
            break
        threading.Event().wait(0.05)
    assert started.exists(), "the build never started"
    early.cancel()
    with pytest.raises(build.BuildCancelled):
        early.wheel(tmp_path / "dist", tmp_path / "build.log")
    assert list(temp.iterdir()) == []
    assert not (root / build.OWN_DIR).exists()


SLOW_BACKEND = """
import os, time

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    with open(os.path.join(os.environ["PROBE_DIR"], "build-started"), "w") as handle:
        handle.write(str(os.getpid()))
    while True:
        time.sleep(60)
"""

SLOW_PYPROJECT = """
[build-system]
requires = []
build-backend = "backend"
backend-path = ["."]

[project]
name = "slowbuild"
version = "1"
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_while_the_run_waits_for_its_build_stops_the_build(tmp_path: Path) -> None:
    if envs.find_uv() is None:
        pytest.skip("uv builds without downloading a build backend")
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text(SLOW_PYPROJECT)
    (project / "backend.py").write_text(SLOW_BACKEND)
    (project / "tox.ini").write_text("[tox]\nenv_list = py\n\n[testenv]\ncommands = pytest\n")
    started = tmp_path / "build-started"
    temp = tmp_path / "tmp"  # where the build stages
    temp.mkdir()
    output = (tmp_path / "out.txt").open("w")
    run = subprocess.Popen(
        pipeline_argv("run"),
        cwd=project,
        env=clean_environ(PROBE_DIR=str(tmp_path), TMPDIR=str(temp)),
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for _ in range(2400):
            if started.exists() and started.read_text():
                break
            assert run.poll() is None, "the run ended before its build started"
            threading.Event().wait(0.05)
        backend_pid = int(started.read_text())
        run.send_signal(signal.SIGTERM)
        assert run.wait(120) == 2
    finally:
        if run.poll() is None:
            run.kill()
        output.close()
    text = (tmp_path / "out.txt").read_text()
    assert "interrupted" in text
    assert not alive(backend_pid), text
    assert not [path for path in temp.iterdir() if path.name.startswith(build.STAGING_PREFIX)]
