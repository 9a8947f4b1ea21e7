"""Cells whose tox commands say ``pytest -n auto`` share the cores: each cell's pytest
starts as many xdist workers as the slots ``plan`` says it holds (real tox project, real
xdist; what xdist prints, ``created: N/N workers``, is the witness)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from mini_project import write_project

from pipeline_testkit import pipeline_cli
from pytest_pipeline.runner import envs

XDIST_TOX_INI = """
[tox]
env_list = a, b, c

[testenv]
deps =
    pytest>=8.2
    pytest-xdist>=3.5
commands = pytest -n auto {posargs}
"""

TESTS = """
import pytest
import mini

@pytest.mark.parametrize("n", range(4))
def test_answer(n):
    assert mini.ANSWER == 42
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    if envs.find_uv() is None:
        pytest.skip("uv keeps this test fast")
    root = write_project(tmp_path / "mini", test=TESTS)
    (root / "tox.ini").write_text(XDIST_TOX_INI)
    return root


def planned_slots(project: Path) -> dict[str, int]:
    done = pipeline_cli("plan", "-p", "2", "--format", "json", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    return {cell["name"]: cell["slots"] for cell in json.loads(done.stdout)["cells"]}


def workers_created(log: Path) -> list[int]:
    """The worker counts xdist announced in a cell's log (one per pytest session)."""
    found = re.findall(r"created: (\d+)/(\d+) workers?", log.read_text())
    assert found, f"no xdist workers in {log}"
    return [int(created) for created, _ in found]


def run(project: Path, *args: str, parallel: str = "2") -> subprocess.CompletedProcess[str]:
    done = pipeline_cli("run", "-p", parallel, *args, cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_each_cells_xdist_workers_are_its_slots(project: Path) -> None:
    slots = planned_slots(project)
    assert slots == {"a": 1, "b": 1, "c": 2}  # 3 cells on 2 slots: the last one gets both
    run(project)
    cells = project / "pipeline-reports" / "cells"
    for name, count in slots.items():
        assert workers_created(cells / name / "log.txt") == [count], name
    record = json.loads((project / "pipeline-reports" / "run.json").read_text())
    assert {cell["status"] for cell in record["cells"]} == {"passed"}


def test_the_tox_route_passes_the_budget_through_tox(project: Path) -> None:
    """``--backend tox``: tox runs the commands and filters variables by pass_env; the
    budget still arrives (one slot: one worker, where xdist alone would count the CPUs)."""
    run(project, "--backend", "tox", "-e", "c", parallel="1")
    assert workers_created(project / "pipeline-reports" / "cells" / "c" / "log.txt") == [1]
