"""The end-of-run table: cells x stages with counts and times."""

from __future__ import annotations

import io

from pytest_pipeline.results import Counts, ResultSummary
from pytest_pipeline.run_record import CellRecord, CellStatus
from pytest_pipeline.runner.summary import render, rows, stage_text


def test_stage_text() -> None:
    assert stage_text(None) == "-"
    assert stage_text(Counts()) == "-"
    assert stage_text(Counts(tests=5, passed=5, time=0.4)) == "5 passed 0.40s"
    assert stage_text(Counts(tests=5, passed=4, failed=1, time=12.25)) == "1 failed, 4 passed 12.2s"
    assert stage_text(Counts(tests=3, blocked=3)) == "3 blocked"
    assert stage_text(Counts(tests=1, passed=1, flaky=1, time=0.01)) == "1 passed (1 flaky) 0.01s"
    assert stage_text(Counts(tests=2, skipped=2)) == "2 skipped"


def summary() -> ResultSummary:
    result = ResultSummary()
    result.groups[("py310", "unit")] = Counts(tests=7, passed=7, time=0.1)
    result.groups[("py310", "smoke")] = Counts(tests=1, passed=1, flaky=1, time=0.1)
    result.groups[("py312", "unit")] = Counts(tests=7, passed=6, failed=1, time=0.1)
    result.groups[("py312", "smoke")] = Counts(tests=1, blocked=1)
    return result


RECORDS = [
    CellRecord("py310", CellStatus.PASSED, stages=("unit", "integration", "smoke"), duration=1.5),
    CellRecord("py312", CellStatus.FAILED, stages=("unit", "smoke"), duration=2.0),
    CellRecord("py313", CellStatus.MISSING_INTERPRETER, message="python 3.13 not found"),
]


def test_rows() -> None:
    table = rows(RECORDS, summary(), ("unit", "integration", "smoke"))
    assert table[0] == ["cell", "unit", "integration", "smoke", "status", "time"]
    assert table[1] == ["py310", "7 passed 0.10s", "-", "1 passed (1 flaky) 0.10s", "passed", "1.50s"]
    # integration does not run in py312: an empty column, not "-"
    assert table[2] == ["py312", "1 failed, 6 passed 0.10s", "", "1 blocked", "failed", "2.00s"]
    assert table[3] == ["py313", "-", "-", "-", "missing-interpreter", ""]


def test_a_failed_tox_ignore_outcome_cell_says_ignored() -> None:
    ignored = [
        CellRecord("py312", CellStatus.FAILED, stages=("unit",), ignore_outcome=True),
        CellRecord("py310", CellStatus.PASSED, stages=("unit",), ignore_outcome=True),
    ]
    table = rows(ignored, summary(), ("unit",))
    assert [row[-2] for row in table[1:]] == ["failed (ignored)", "passed"]


def test_render_plain_text_with_notes_for_what_junit_cannot_say() -> None:
    out = io.StringIO()
    render(RECORDS, summary(), ("unit", "integration", "smoke"), out, colour=False)
    text = out.getvalue()
    assert "\x1b[" not in text
    assert "1 passed (1 flaky) 0.10s" in text
    assert "py313: missing-interpreter: python 3.13 not found" in text
    assert "py312: failed" not in text  # failures are the gate's to list


ORIGIN = {"run": "R1", "finished": "2026-12-07T08:00:05+00:00", "commit": "0123456789abcdef"}


def test_reused_cells_say_so_in_the_status_and_below_the_table() -> None:
    records = [
        CellRecord("py310", CellStatus.PASSED, stages=("unit",), reused_from=ORIGIN),
        CellRecord("py312", CellStatus.FAILED, stages=("unit",), reused_from=ORIGIN),
        CellRecord("py313", CellStatus.PASSED, stages=("unit",)),
    ]
    table = rows(records, summary(), ("unit",))
    assert [row[-2] for row in table[1:]] == ["passed (reused)", "failed (reused)", "passed"]
    out = io.StringIO()
    render(records, summary(), ("unit",), out, colour=False)
    text = out.getvalue()
    assert "py310, py312: reused from run R1 (2026-12-07T08:00:05+00:00, 0123456789ab)" in text
    assert "pytest-pipeline run --fresh runs every cell" in text


def test_no_reuse_line_when_every_cell_ran() -> None:
    out = io.StringIO()
    render(RECORDS, summary(), ("unit", "integration", "smoke"), out, colour=False)
    assert "reused" not in out.getvalue()
