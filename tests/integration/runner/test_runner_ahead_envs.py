"""A cold run begins its cells' environments while the package builds (runner/ahead.py):
the cell takes over the venv and ``deps`` steps, and its environment ends with the same
distributions as the one ``tox run`` makes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from mini_project import write_project

from pipeline_testkit import clean_environ, frozen, pipeline_cli, pyenv_path

# A build backend that builds only once the cell's environment has been begun (or after
# 60 s): the take-over is then what happens on any machine, however fast its build. A
# run without AHEAD_MARKER (tox's) builds at once.
BACKEND = """
import os, pathlib, time
from hatchling import build as _hatchling
from hatchling.build import build_sdist, get_requires_for_build_sdist, get_requires_for_build_wheel


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    marker = os.environ.get("AHEAD_MARKER")
    deadline = time.monotonic() + 60
    while marker and not pathlib.Path(marker).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return _hatchling.build_wheel(wheel_directory, config_settings, metadata_directory)
"""

DEPS = "pytest>=8.2\n    iniconfig>=2"


def project(root: Path) -> Path:
    write_project(root, env_list=("py312",))
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text().replace(
        'build-backend = "hatchling.build"', 'build-backend = "slow_backend"\nbackend-path = ["."]'
    )
    pyproject.write_text(text)
    (root / "slow_backend.py").write_text(textwrap.dedent(BACKEND))
    tox_ini = root / "tox.ini"
    tox_ini.write_text(tox_ini.read_text().replace("deps = pytest>=8.2", f"deps =\n    {DEPS}"))
    return root


def freeze(python: Path) -> set[str]:
    """The installed distributions, the package itself left out (tox's sdist, our wheel)."""
    return {line for line in frozen(python) if not line.startswith("mini")}


def test_a_cold_runs_cells_take_over_what_began_and_end_as_tox_makes_them(tmp_path: Path) -> None:
    try:
        path = pyenv_path("3.12")
    except LookupError as missing:
        pytest.skip(str(missing))
    ours, theirs = project(tmp_path / "ours"), project(tmp_path / "theirs")
    env_dir = ours / ".tox" / ".pipeline" / "py312"
    environ = clean_environ(PATH=path, NO_COLOR="1")

    tox = subprocess.run(
        [sys.executable, "-m", "tox", "run", "-e", "py312"],
        cwd=theirs,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tox.returncode == 0, tox.stdout[-3000:]
    reports = tmp_path / "reports"
    marker = env_dir / ".pytest-pipeline-begun"
    result = pipeline_cli(
        "run", "--reports-dir", str(reports), cwd=ours, env={**environ, "AHEAD_MARKER": str(marker)}
    )
    (cell,) = json.loads((reports / "run.json").read_text())["cells"]
    assert cell["status"] == "passed", result.stdout[-3000:]
    log = (reports / cell["log"]).read_text()
    assert "begun while the package built (venv, install_deps):" in log, log
    assert log.count("$ ") == log.count("pytest-pipeline: exit "), "each step ran once"
    assert not marker.exists()  # taken
    assert freeze(env_dir / "bin" / "python") == freeze(theirs / ".tox" / "py312" / "bin" / "python")

    # a warm run after it: the environment is a whole one (its fingerprint written)
    again = pipeline_cli("run", "--fresh", "--reports-dir", str(reports), cwd=ours, env=environ)
    (cell,) = json.loads((reports / "run.json").read_text())["cells"]
    assert cell["status"] == "passed", again.stdout[-3000:]
    assert "environment reused" in cell["message"]
