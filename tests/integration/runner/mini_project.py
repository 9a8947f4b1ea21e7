"""A tiny tox project for real runs: one package, one test, one ``py`` cell."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PYPROJECT = """
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "mini"
version = "1.0"

[tool.hatch.build.targets.wheel]
packages = ["src/mini"]

[tool.pytest-pipeline]
stages = ["unit"]
"""

TOX_INI = """
[tox]
env_list = py

[testenv]
deps = pytest>=8.2
commands = pytest {posargs}
"""

TEST = """
import mini

def test_answer():
    assert mini.ANSWER == 42
"""


def write_project(root: Path) -> Path:
    (root / "src" / "mini").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "src" / "mini" / "__init__.py").write_text("ANSWER = 42\n")
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "tox.ini").write_text(TOX_INI)
    (root / "tests" / "test_mini.py").write_text(TEST)
    return root


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``pytest-pipeline ARGS`` in ``root``, without the caller's pytest/tox/CI variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "TOX_", "CI"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest_pipeline", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
        check=False,
    )
