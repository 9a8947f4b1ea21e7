"""Installers, and what goes on top of an environment tox made: matrix-axis pins.

The environment itself is made as tox makes it (:mod:`.tox_install`, :mod:`.tox_setup`);
a ``[tool.pytest-pipeline.matrix]`` axis is ours, not tox's, so its pins are an
:class:`Overlay` installed afterwards: uv overrides (they win over ``deps`` and the
package's own requirements, which is what an axis means), else pip constraints.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from pytest_pipeline.runner.process import run_command


def find_uv() -> str | None:
    """``uv`` on PATH, else the binary of the ``uv`` Python package (``pip install uv``)."""
    found = shutil.which("uv")
    if found:
        return found
    try:
        from uv import find_uv_bin
    except ImportError:
        return None
    try:
        return str(find_uv_bin())
    except FileNotFoundError:  # pragma: no cover - a broken uv install
        return None


@dataclass(frozen=True)
class Installer:
    """How environments are made: ``uv`` (a path to the binary) or virtualenv + pip."""

    uv: str | None

    @property
    def name(self) -> str:
        return "uv" if self.uv else "pip"


class EnvError(Exception):
    """The environment could not be created or installed (details are in the log)."""


def bin_dir(folder: Path) -> Path:
    return folder / ("Scripts" if sys.platform == "win32" else "bin")


def python_in(folder: Path) -> Path:
    """The interpreter of the environment in ``folder``."""
    return bin_dir(folder) / ("python.exe" if sys.platform == "win32" else "python")


def _installer_environment(environ: Mapping[str, str]) -> dict[str, str]:
    env = dict(environ)
    # An activated virtualenv (we may run inside ``tox -e matrix``) must not redirect
    # installs; PYTHONPATH would make pip see packages that are not in the target.
    for name in ("VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONPATH", "PYTHONHOME", "PIP_USER"):
        env.pop(name, None)
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    return env


def _uv_pin_args(pins: Sequence[str], tmp: Path) -> list[str]:
    """Axis pins for ``uv pip install``: overrides win over deps and over the package's
    own requirements, which is what a matrix axis means ("this cell runs with attrs 23.2")."""
    if not pins:
        return []
    overrides = tmp / "overrides.txt"
    overrides.write_text("\n".join(pins) + "\n", encoding="utf-8")
    return ["--override", str(overrides), *pins]


def _pip_pin_args(pins: Sequence[str], tmp: Path) -> list[str]:
    """Axis pins for pip, which has no overrides: a constraints file, so nothing else in
    the install can pick another version (the pins themselves are required by the caller)."""
    if not pins:
        return []
    pins_file = tmp / "pins.txt"
    pins_file.write_text("\n".join(pins) + "\n", encoding="utf-8")
    return ["-c", str(pins_file)]


@dataclass(frozen=True)
class Overlay:
    """Matrix-axis pins on top of an environment tox's steps made."""

    python: Path
    """The environment's interpreter."""
    pins: tuple[str, ...] = ()
    root: Path = field(default_factory=Path.cwd)


def overlay_commands(overlay: Overlay, installer: Installer, tmp: Path) -> list[list[str]]:
    """The commands that install ``overlay``: uv overrides, else pip constraints."""
    if not overlay.pins:
        return []
    python = str(overlay.python)
    if installer.uv:
        return [[installer.uv, "pip", "install", "--python", python, *_uv_pin_args(overlay.pins, tmp)]]
    return [[python, "-m", "pip", "install", *overlay.pins, *_pip_pin_args(overlay.pins, tmp)]]


def apply_overlay(
    overlay: Overlay,
    installer: Installer,
    *,
    log: IO[bytes],
    cancel: threading.Event,
    environ: Mapping[str, str],
) -> None:
    """Install ``overlay``; raises :class:`EnvError` on failure (details in the log)."""
    env = _installer_environment(environ)
    with tempfile.TemporaryDirectory(prefix="pytest-pipeline-") as tmp:
        for argv in overlay_commands(overlay, installer, Path(tmp)):
            result = run_command(argv, cwd=overlay.root, env=env, log=log, cancel=cancel)
            if result.cancelled:
                raise EnvError("cancelled")
            if result.returncode != 0:
                raise EnvError(f"{argv[0]} exited with {result.returncode}")
