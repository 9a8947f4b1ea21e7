"""The Markdown summary: content, escaping, and cutting whole rows under a byte limit."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_pipeline.ci import summary as md
from pytest_pipeline.gate.record import GateRecord
from pytest_pipeline.results import Counts, Outcome, ResultSummary, TestRef

NR = md.NOT_RUN


def ref(cell: str, stage: str, name: str, outcome: Outcome = Outcome.FAILED, **kw: Any) -> TestRef:
    return TestRef(cell, stage, "tests.test_mod", name, outcome, **kw)


def verdict_of(data: dict[str, Any]) -> GateRecord:
    """A gate.json verdict from the parts of the file a test cares about."""
    return GateRecord.from_dict({"version": 1, "verdict": "closed", "code": 1, **data})


CLOSED = verdict_of({})


def sample() -> tuple[ResultSummary, GateRecord]:
    s = ResultSummary()
    for _ in range(3):
        s.counts("py310", "unit").add(Outcome.PASSED, 0.5)
    s.counts("py310", "unit").add(Outcome.PASSED, 0.5, flaky=True)
    s.counts("py310", "smoke").add(Outcome.SKIPPED)
    s.counts("py312", "unit").add(Outcome.FAILED, 1.0)
    s.counts("py312", "integration").add(Outcome.BLOCKED)
    s.failures.append(ref("py312", "unit", "test_a|b", message="assert <1> == 2\nwhere ..."))
    s.failures.append(ref("py312", "integration", "test_c", Outcome.BLOCKED, message="blocked by unit"))
    s.flaky.append(ref("py310", "unit", "test_f", Outcome.PASSED, attempts=3))
    verdict = verdict_of(
        {
            "verdict": "closed",
            "code": 3,
            "headline": "GATE CLOSED (3): 1 failed in 1 cell, 1 cell missing",
            "reasons": [
                {
                    "code": 1,
                    "kind": "failed",
                    "message": "failed",
                    "cell": "py312",
                    "stage": "unit",
                    "test": "x",
                },
                {"code": 3, "kind": "missing-cell", "message": "no results for cell py313", "cell": "py313"},
            ],
            "required": {"stages": ["unit", "integration", "smoke"]},
            "cells": [
                {"name": "py310", "reported": True},
                {"name": "py312", "reported": True},
                {"name": "py313", "status": "crashed", "reported": False},
            ],
            "quarantined": [
                {
                    **TestRef("", "", "tests.test_q", "test_q", Outcome.FAILED).to_dict(),
                    "quarantine": {"id": "tests.test_q::*", "reason": "ticket #12", "expires": "2026-12-31"},
                }
            ],
        }
    )
    return s, verdict


def table_rows(text: str, heading: str) -> list[str]:
    block = text.split(heading, 1)[1].split("\n### ", 1)[0]
    return [line for line in block.splitlines() if line.startswith("|") and not line.startswith("|---")][1:]


def test_summary_shows_verdict_matrix_failures_flaky_and_quarantined() -> None:
    s, verdict = sample()
    text = md.build_markdown(s, verdict)
    assert text.startswith("## ❌ pytest-pipeline: gate closed (exit 3)\n")
    assert "**GATE CLOSED (3): 1 failed in 1 cell, 1 cell missing**" in text
    assert "- **py313**: no results for cell py313" in text
    assert "- and 1 failed, errored or blocked tests (see Failures)" in text
    assert "| cell | unit | integration | smoke | time |" in text
    rows = table_rows(text, "### Matrix (3 cells)")
    assert rows[0] == f"| py310 | ✓ 4 passed · 1 flaky | {NR} | ○ 1 skipped | 2.0 s |"
    assert rows[1] == f"| py312 | ✗ 1 failed | ✗ 1 blocked | {NR} | 1.0 s |"
    assert rows[2] == f"| py313 | ⚠ no results (crashed) | {NR} | {NR} | {NR} |"
    assert rows[3].startswith(
        "| **all cells** | ✗ 1 failed · 4 passed · 1 flaky | ✗ 1 blocked | ○ 1 skipped |"
    )
    failures = table_rows(text, "### Failures (2)")
    assert failures[0] == "| py312 | unit | `tests.test_mod::test_a\\|b` | failed | assert &lt;1&gt; == 2 |"
    assert table_rows(text, "### Flaky (passed on a rerun) (1)") == [
        "| py310 | unit | `tests.test_mod::test_f` | 3 |"
    ]
    assert table_rows(text, "### Quarantined (1)") == [
        "|  |  | `tests.test_q::test_q` | ticket \\#12 | 2026-12-31 |"
    ]
    assert "not shown" not in text


def test_open_gate_and_no_verdict() -> None:
    s = ResultSummary()
    s.counts("py", "unit").add(Outcome.PASSED, 0.25)
    text = md.build_markdown(s, verdict_of({"verdict": "open", "code": 0}))
    assert text.startswith("## ✅ pytest-pipeline: gate open (exit 0)\n")
    assert "Why the gate is closed" not in text
    assert "1 tests: 1 passed in 0.2 s" in text
    assert md.build_markdown(s).startswith("## pytest-pipeline results\n")


@pytest.mark.parametrize(
    ("counts", "text"),
    [
        (None, md.NOT_RUN),
        (Counts(), "○ no tests"),
        (Counts(tests=2, skipped=2), "○ 2 skipped"),
        (Counts(tests=3, passed=3), "✓ 3 passed"),
        (Counts(tests=3, passed=2, errors=1), "✗ 1 error · 2 passed"),
        (Counts(tests=4, failed=1, errors=2, blocked=1), "✗ 1 failed · 2 errors · 1 blocked"),
    ],
)
def test_describe(counts: Counts | None, text: str) -> None:
    assert md.describe(counts) == text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a|b", "a\\|b"),
        ("<b>&", "&lt;b&gt;&amp;"),
        ("line1\nline2", "line1 line2"),
        ("*x* _y_", "\\*x\\* \\_y\\_"),
    ],
)
def test_escape(raw: str, expected: str) -> None:
    assert md.escape(raw) == expected


def test_code_spans() -> None:
    assert md.code("a::b|c") == "`a::b\\|c`"
    assert md.code("has `tick`") == "has \\`tick\\`"


def test_first_line_is_cut() -> None:
    assert md.first_line("  one\ntwo") == "one"
    assert md.first_line("x" * 500, 10) == "x" * 9 + "…"
    assert md.first_line("") == ""


def big_summary(cells: int, failures: int) -> ResultSummary:
    s = ResultSummary()
    for c in range(cells):
        s.counts(f"cell{c:04d}", "unit").add(Outcome.PASSED, 1.0)
    for f in range(failures):
        s.counts("cell0000", "unit").add(Outcome.FAILED, 1.0)
        s.failures.append(ref("cell0000", "unit", f"test_{f:06d}", message="boom " * 100))
        s.flaky.append(ref("cell0001", "unit", f"test_flaky_{f:06d}", Outcome.PASSED, attempts=2))
    return s


def test_a_huge_summary_stays_under_the_limit_and_says_what_it_left_out() -> None:
    s = big_summary(cells=300, failures=5000)
    text = md.build_markdown(s, CLOSED)
    size = len(text.encode("utf-8"))
    assert size <= md.SUMMARY_LIMIT < 65_535
    assert size > md.SUMMARY_LIMIT - 1_000, "the room is used, not wasted"
    matrix_rows = table_rows(text, "### Matrix (300 cells)")
    assert len(matrix_rows) == 301, "the matrix is kept whole before failures"
    shown = table_rows(text, "### Failures (5000)")
    match = re.search(r"_(\d+) of 5000 failures not shown", text)
    assert match, "the cut is announced"
    assert len(shown) + int(match[1]) == 5000
    assert shown[-1].endswith("|"), "rows are cut whole"
    flaky_shown = table_rows(text, "### Flaky (passed on a rerun) (5000)")
    flaky_cut = re.search(r"_(\d+) of 5000 flaky tests not shown", text)
    assert flaky_cut
    assert len(flaky_shown) + int(flaky_cut[1]) == 5000
    assert len(flaky_shown) < 10 < len(shown), "less important sections give way first"


@settings(max_examples=40, deadline=None)
@given(
    cells=st.integers(0, 60),
    failures=st.integers(0, 200),
    limit=st.integers(2_000, 30_000),
    message=st.text(max_size=300),
)
def test_any_summary_respects_any_limit(cells: int, failures: int, limit: int, message: str) -> None:
    s = big_summary(cells, 0)
    for f in range(failures):
        s.failures.append(ref(f"c{f % 7}", "unit", f"test_{f}", message=message))
    text = md.build_markdown(s, verdict_of({"headline": message}), limit=limit)
    assert len(text.encode("utf-8")) <= limit
    shown = table_rows(text, f"### Failures ({failures})") if failures else []
    cut = re.search(rf"_(\d+) of {failures} failures not shown", text)
    assert len(shown) + (int(cut[1]) if cut else 0) == failures


def test_summary_from_gate_reads_the_gate_file_shape() -> None:
    s, _ = sample()
    gate = verdict_of(
        {
            "counts": {"groups": s.to_dict()["groups"], "total": {}},
            "failures": [r.to_dict() for r in s.failures],
            "flaky": [r.to_dict() for r in s.flaky],
            "inputs": {"problems": [{"path": "cells/x/junit.xml", "message": "truncated"}]},
        }
    )
    back = md.summary_from_gate(gate)
    assert back.groups == s.groups
    assert back.failures == s.failures
    assert back.flaky == s.flaky
    assert [str(p) for p in back.problems] == ["cells/x/junit.xml: truncated"]
    assert md.summary_from_gate(CLOSED).groups == {}
    text = md.build_markdown(back, gate)
    assert "### Unreadable inputs (1)" in text
    assert "- cells/x/junit.xml: truncated" in text


def test_quarantined_tests_show_their_entrys_reason_and_expiry() -> None:
    """gate.json nests the entry under ``quarantine``; the row shows where the test failed,
    and why and until when it is quarantined."""
    s, _ = sample()
    test = ref("py312", "unit", "test_q[big]")
    entry = {"id": "tests.test_mod::test_q*", "reason": "sandbox times out, #123", "expires": "2026-12-31"}
    gate = verdict_of({"quarantined": [{**test.to_dict(), "quarantine": entry}]})
    assert table_rows(md.build_markdown(s, gate), "### Quarantined (1)") == [
        "| py312 | unit | `tests.test_mod::test_q[big]` | sandbox times out, \\#123 | 2026-12-31 |"
    ]


def test_reused_cells_are_marked_in_the_matrix_with_the_run_they_came_from() -> None:
    s, _ = sample()
    origin = {"run": "R1", "finished": "2026-12-07T08:00:05+00:00", "commit": "0123456789abcdef"}
    verdict = verdict_of(
        {
            "cells": [
                {"name": "py310", "reported": True, "reused_from": origin},
                {"name": "py312", "reported": True},
            ]
        }
    )
    text = md.build_markdown(s, verdict)
    rows = table_rows(text, "### Matrix (2 cells)")
    assert rows[0].startswith("| py310 (reused) | ✓ 4 passed")
    assert rows[1].startswith("| py312 | ✗ 1 failed")
    assert "(reused) py310: reused from run R1 (2026-12-07T08:00:05+00:00, 0123456789ab)" in text
    assert "(reused)" not in md.build_markdown(*sample())
