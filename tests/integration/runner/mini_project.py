"""A tiny tox project for real runs: one package ``mini``, its tests, tox cells (``py``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
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
stages = {stages}
"""

TOX_INI = """
[tox]
env_list = {env_list}

[testenv]
deps = pytest>=8.2
commands = pytest {{posargs}}
"""

TEST = """
import mini

def test_answer():
    assert mini.ANSWER == 42
"""


def write_project(
    root: Path, *, stages: Sequence[str] = ("unit",), env_list: Sequence[str] = ("py",), test: str = TEST
) -> Path:
    (root / "src" / "mini").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "src" / "mini" / "__init__.py").write_text("ANSWER = 42\n")
    (root / "pyproject.toml").write_text(PYPROJECT.format(stages=json.dumps(list(stages))))
    (root / "tox.ini").write_text(TOX_INI.format(env_list=", ".join(env_list)))
    (root / "tests" / "test_mini.py").write_text(test)
    return root
