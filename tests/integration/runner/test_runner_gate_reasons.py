"""What the gate at the end of a real run says about a cell that went wrong: each fault
named once, in words, and nothing it did not cause."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mini_project import write_project

from pipeline_testkit import pipeline_cli
from pytest_pipeline.runner import envs

KILLED = """
import os, signal

def test_killed():
    os.kill(os.getpid(), signal.SIGKILL)
"""

UNKNOWN_STAGE = """
import pytest

def test_answer():
    pass

@pytest.mark.stage("nightly")
def test_night():
    pass

@pytest.mark.smoke
def test_smoke():
    pass
"""


@pytest.fixture(autouse=True)
def _fast() -> None:
    if envs.find_uv() is None:
        pytest.skip("uv keeps this test fast")


def run_reasons(project: Path) -> tuple[int, list[dict[str, str]], str]:
    done = pipeline_cli("run", cwd=project)
    gate = json.loads((project / "pipeline-reports" / "gate.json").read_text())
    return done.returncode, gate["reasons"], done.stdout + done.stderr


def test_a_cell_killed_by_a_signal_says_so_once(tmp_path: Path) -> None:
    project = write_project(tmp_path / "mini", test=KILLED)
    code, reasons, output = run_reasons(project)
    assert code == 3, output
    reason = reasons[0]
    assert reason["kind"] == "crashed"
    assert reason["message"].startswith("crashed: killed by SIGKILL (exit -9), no report"), reason
    assert reason["message"].count("-9") == 1


def test_an_unknown_stage_in_a_marker_adds_no_empty_stage(tmp_path: Path) -> None:
    """pytest stops at the collection error the marker is: the stages that then ran
    nothing are that error, not one more reason each."""
    project = write_project(tmp_path / "mini", stages=("unit", "smoke"), test=UNKNOWN_STAGE)
    code, reasons, output = run_reasons(project)
    assert code == 1, output
    (reason,) = reasons
    assert (reason["kind"], reason["stage"]) == ("error", "unit"), reasons
    assert reason["test"] == "tests.test_mini::test_night"
    assert "ran no tests" not in output
