"""Matrix-axis pins on top of an environment tox's steps made, and finding uv."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_pipeline.runner import envs

UV = envs.Installer("/bin/uv")
PIP = envs.Installer(None)


def test_find_uv_prefers_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    uv = tmp_path / "uv"
    uv.write_text("#!/bin/sh\n")
    uv.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert envs.find_uv() == str(uv)


def test_pins_are_uv_overrides(tmp_path: Path) -> None:
    python = tmp_path / "venv" / "bin" / "python"
    (argv,) = envs.overlay_commands(envs.Overlay(python, pins=("attrs==23.2.*",)), UV, tmp_path)
    assert argv[:5] == ["/bin/uv", "pip", "install", "--python", str(python)]
    # overrides win over deps and the package's own requirements: what an axis means
    assert argv[5:] == ["--override", str(tmp_path / "overrides.txt"), "attrs==23.2.*"]
    assert (tmp_path / "overrides.txt").read_text() == "attrs==23.2.*\n"


def test_pins_with_pip_are_constraints(tmp_path: Path) -> None:
    python = tmp_path / "venv" / "bin" / "python"
    (argv,) = envs.overlay_commands(envs.Overlay(python, pins=("attrs==23.2.*",)), PIP, tmp_path)
    assert argv == [str(python), "-m", "pip", "install", "attrs==23.2.*", "-c", str(tmp_path / "pins.txt")]
    assert envs.overlay_commands(envs.Overlay(python), PIP, tmp_path) == []
