"""``run --html``, then ``rerun --failed``, then ``status``, for real (tox + uv) on a copy of the
sample project with one more unit test that fails in py310-attrs24 while a switch file exists.

After the switch is removed, ``rerun --failed`` re-runs only the failed and blocked tests of
the three failed cells, leaves py310-attrs23 alone, and the py310-attrs24 cell passes while
the 3.12 cells still fail (``stamp()`` is broken there on purpose).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from pipeline_testkit import copy_sample, pipeline_cli
from pytest_pipeline.junit import summarize
from pytest_pipeline.runner import envs

TIMEOUT = 900
SWITCH_TEST = '''
import sys
from pathlib import Path

import attrs


def test_switch_is_off():
    """Fails in the 3.10 + attrs 24 cell while the switch file exists."""
    affected = sys.version_info < (3, 11) and attrs.__version__.startswith("24.")
    assert not (affected and (Path(__file__).parent / "switch-on").exists()), "the switch is on"
'''
CELLS = ("py310-attrs23", "py310-attrs24", "py312-attrs23", "py312-attrs24")


@pytest.fixture(scope="module")
def environ(environ: dict[str, str]) -> dict[str, str]:
    if envs.find_uv() is None:
        pytest.skip("uv keeps the real runs short")
    return environ


def pipeline(project: Path, environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return pipeline_cli(*args, cwd=project, env=environ, timeout=TIMEOUT)


def statuses(reports: Path) -> dict[str, str]:
    return {cell["name"]: cell["status"] for cell in json.loads((reports / "run.json").read_text())["cells"]}


def test_run_html_then_rerun_failed_then_status(tmp_path: Path, environ: dict[str, str]) -> None:
    project = copy_sample(tmp_path / "sample")
    (project / "tests" / "unit" / "test_switch.py").write_text(SWITCH_TEST)
    switch = project / "tests" / "unit" / "switch-on"
    switch.write_text("on\n")
    reports = project / "pipeline-reports"

    first = pipeline(project, environ, "run", "-p", "2", "--html")
    assert first.returncode == 1, first.stdout + first.stderr
    assert statuses(reports) == {
        "py310-attrs23": "passed",
        "py310-attrs24": "failed",
        "py312-attrs23": "failed",
        "py312-attrs24": "failed",
    }
    page = (reports / "report.html").read_text()
    assert "report: " in first.stdout
    assert "tests.unit.test_switch::test_switch_is_off" in page
    assert "the switch is on" in page
    untouched = {
        path.name: path.stat().st_mtime_ns for path in (reports / "cells" / "py310-attrs23").iterdir()
    }

    switch.unlink()
    again = pipeline(project, environ, "rerun", "--failed", "-p", "2", "--html")
    assert again.returncode == 1, again.stdout + again.stderr  # 3.12 still fails, on purpose
    assert again.stdout.startswith(
        "re-running 3 of 4 cells:\n"
        # the failed test, two blocked integration tests, the blocked smoke test
        "  py310-attrs24: failed, 4 tests\n"
        "  py312-attrs23: failed, 4 tests\n"
        "  py312-attrs24: failed, 4 tests\n"
    ), again.stdout
    assert statuses(reports) == {
        "py310-attrs23": "passed",
        "py310-attrs24": "passed",
        "py312-attrs23": "failed",
        "py312-attrs24": "failed",
    }
    # Only the chosen tests ran in the cells, and the cells' results were folded in whole.
    log = (reports / "cells" / "py310-attrs24" / "log.txt").read_text()
    assert "pytest-pipeline rerun: re-running the 4 tests that failed or were blocked" in log
    assert "11 items / 7 deselected / 4 selected" in log
    summary = summarize([reports / "junit.xml"])
    for cell in CELLS:
        unit, integration, smoke = (
            summary.groups[(cell, stage)] for stage in ("unit", "integration", "smoke")
        )
        if cell.startswith("py310"):
            assert (unit.passed, unit.bad, integration.passed, smoke.passed, smoke.flaky) == (
                8,
                0,
                2,
                1,
                1,
            ), cell
        else:
            assert (unit.passed, unit.failed, integration.blocked, smoke.blocked) == (7, 1, 2, 1), cell
    assert {(ref.cell, ref.name) for ref in summary.failures if ref.outcome.value == "failed"} == {
        ("py312-attrs23", "test_stamp_is_utc"),
        ("py312-attrs24", "test_stamp_is_utc"),
    }
    assert {
        path.name: path.stat().st_mtime_ns for path in (reports / "cells" / "py310-attrs23").iterdir()
    } == untouched
    assert (reports / "cells" / "py310-attrs24" / "junit.xml.previous").is_file()
    gate = json.loads((reports / "gate.json").read_text())
    assert gate["code"] == 1
    assert {reason["cell"] for reason in gate["reasons"]} == {"py312-attrs23", "py312-attrs24"}
    page = (reports / "report.html").read_text()
    assert "the switch is on" not in page  # its failure is gone: it passes now

    status = pipeline(project, environ, "status", "--format", "json")
    assert status.returncode == 1, status.stderr
    data = json.loads(status.stdout)
    assert data["history_entries"] == 2
    assert [cell["status"] for cell in data["cells"]] == ["passed", "passed", "failed", "failed"]
    assert data["cells"][1]["counts"]["passed"] == 11
