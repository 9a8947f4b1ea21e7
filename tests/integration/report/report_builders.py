"""A realistic reports folder: per-cell JUnit files as our plugin writes them, merged by the
real merger, judged by the real gate. One cell's test name, message and traceback are hostile.
(A module of its own, not the conftest, so test modules import it by a unique name.)"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from pytest_pipeline import cli, junit
from pytest_pipeline.results import BLOCKED_TYPE
from pytest_pipeline.run_record import CellRecord, CellStatus, RunRecord

HOSTILE_NAME = "test_render[<script>alert(1)</script>]"
HOSTILE_MESSAGE = 'assert "<img src=x onerror=alert(2)>" == ""'
HOSTILE_TRACE = (
    "def test_render():\n>   assert page\nE   </pre><script>alert(3)</script>\ntests/unit/test_page.py:9"
)
STAGES = ("unit", "integration")

Case = tuple[str, str, str, float, str]
"""(stage, classname, name, time, outcome) with outcome passed|failed|blocked|flaky."""


def junit_xml(cell: str, cases: Sequence[Case]) -> str:
    suites: dict[str, list[str]] = {stage: [] for stage in STAGES}
    for stage, classname, name, time, outcome in cases:
        attrs = f"classname={quoteattr(classname)} name={quoteattr(name)} time={quoteattr(str(time))}"
        if outcome == "passed":
            suites[stage].append(f"<testcase {attrs}/>")
        elif outcome == "failed":
            message = HOSTILE_MESSAGE if "script" in name else "assert 1 == 2"
            trace = HOSTILE_TRACE if "script" in name else "def test():\n>   assert 1 == 2\nE   assert 1 == 2"
            suites[stage].append(
                f"<testcase {attrs}><failure message={quoteattr(message)}>{escape(trace)}</failure>"
                "<system-out>captured line\n</system-out></testcase>"
            )
        elif outcome == "blocked":
            suites[stage].append(
                f'<testcase {attrs}><error type="{BLOCKED_TYPE}" '
                'message="blocked by a failure in stage unit"/></testcase>'
            )
        elif outcome == "flaky":
            suites[stage].append(
                f'<testcase {attrs}><flakyFailure type="pytest_pipeline.rerun" message="warming up">'
                "<stackTrace>E   AssertionError: warming up</stackTrace></flakyFailure></testcase>"
            )
    body = []
    for stage, cases_xml in suites.items():
        body.append(
            f'<testsuite name="pytest: {stage}" tests="{len(cases_xml)}"><properties>'
            f'<property name="stage" value="{stage}"/><property name="cell" value={quoteattr(cell)}/>'
            f"</properties>{''.join(cases_xml)}</testsuite>"
        )
    head = '<?xml version="1.0" encoding="utf-8"?>\n<testsuites name="pytest tests">'
    return f"{head}{''.join(body)}</testsuites>\n"


def passing(slow: float = 0.01) -> list[Case]:
    return [
        ("unit", "tests.unit.test_greet", "test_greet", slow, "passed"),
        ("unit", "tests.unit.test_greet", "test_blank", 0.02, "passed"),
        ("integration", "tests.integration.test_api", "test_roundtrip", 0.03, "passed"),
    ]


def failing() -> list[Case]:
    return [
        ("unit", "tests.unit.test_greet", "test_greet", 0.01, "passed"),
        ("unit", "tests.unit.test_page", HOSTILE_NAME, 2.5, "failed"),
        ("integration", "tests.integration.test_api", "test_roundtrip", 0.0, "blocked"),
    ]


def write_reports(
    root: Path,
    cells: dict[str, tuple[str, dict[str, str], CellStatus, list[Case] | None]],
    *,
    gate: bool = True,
) -> Path:
    """``cells``: name -> (python, factors, status, cases or None for no JUnit file)."""
    records: list[CellRecord] = []
    files = []
    for name, (python, factors, status, cases) in cells.items():
        folder = root / "cells" / name
        folder.mkdir(parents=True)
        (folder / "log.txt").write_text(f"log of {name}\n", encoding="utf-8")
        junit_path = None
        if cases is not None:
            (folder / "junit.xml").write_text(junit_xml(name, cases), encoding="utf-8")
            junit_path = f"cells/{name}/junit.xml"
            files.append(folder / "junit.xml")
        records.append(
            CellRecord(
                name=name,
                status=status,
                env=name,
                python=python,
                factors=factors,
                stages=STAGES,
                exit_code={CellStatus.PASSED: 0, CellStatus.FAILED: 1}.get(status, -9),
                junit=junit_path,
                log=f"cells/{name}/log.txt",
                duration=1.0 + len(records),
                started="2026-11-20T10:00:00+00:00",
                finished="2026-11-20T10:00:05+00:00",
                message="tests failed" if status is CellStatus.FAILED else "",
            )
        )
    record = RunRecord(
        cells=tuple(records),
        stages=STAGES,
        started="2026-11-20T10:00:00+00:00",
        finished="2026-11-20T10:00:09+00:00",
        tool_versions={"tox": "4.0"},
        commit=head_commit(root),  # as `run` records it inside a repository
    )
    (root / "run.json").write_text(json.dumps(record.to_dict()), encoding="utf-8")
    if files:
        junit.merge(files, root / "junit.xml")
    if gate:
        cli.main(["gate", str(root / "run.json"), "-o", str(root / "gate.json"), "-q"])
    return root


def head_commit(folder: Path) -> str | None:
    done = subprocess.run(
        ["git", "rev-parse", "-q", "--verify", "HEAD"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    return (done.stdout.strip() or None) if done.returncode == 0 else None


MATRIX: dict[str, tuple[str, dict[str, str], CellStatus, list[Case] | None]] = {
    "py310-attrs23": ("3.10", {"attrs": "23.2"}, CellStatus.PASSED, passing(slow=1.5)),
    "py310-attrs24": (
        "3.10",
        {"attrs": "24.2"},
        CellStatus.PASSED,
        [*passing(), ("integration", "tests.integration.test_api", "test_warm", 0.2, "flaky")],
    ),
    "py312-attrs23": ("3.12", {"attrs": "23.2"}, CellStatus.FAILED, failing()),
    "py312-attrs24": ("3.12", {"attrs": "24.2"}, CellStatus.CRASHED, None),
}
