"""An early build the run no longer needs is stopped: a real child process, really stopped."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from pytest_pipeline.runner import build


def test_cancel_stops_a_running_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'pkg'\n")
    started = tmp_path / "started"
    # A "build" that says it started, then takes far longer than the test waits for it.
    code = f"import pathlib, time; pathlib.Path({str(started)!r}).touch(); time.sleep(60)"
    monkeypatch.setattr(build, "build_command", lambda *args: [sys.executable, "-c", code])
    early = build.EarlyBuild(root, uv=None).start()
    for _ in range(600):
        if started.exists():
            break
        threading.Event().wait(0.05)
    assert started.exists(), "the build never started"
    early.cancel()
    with pytest.raises(build.BuildCancelled):
        early.wheel(tmp_path / "dist", tmp_path / "build.log")
    assert list((root / build.OWN_DIR / "build-staging").iterdir()) == []
    assert not list(build.cache_dir(root).glob("*/*.whl"))
