"""Which cells and tests ``rerun --failed`` picks, from records and events given here."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pytest_pipeline.rerun.plan import CellEvents, plan, read_events
from pytest_pipeline.run_record import CellRecord, CellStatus, RunRecord

BAD = ("tests/unit/test_a.py::test_one", "tests/integration/test_b.py::test_two[x-1]")


def events(*lines: dict[str, Any]) -> list[str]:
    return [json.dumps(line) for line in lines]


def finished_session(*tests: tuple[str, str]) -> list[str]:
    return events(
        {"event": "collected", "tests": len(tests)},
        *(
            {"event": "test", "outcome": outcome, "stage": "unit", "nodeid": nodeid}
            for nodeid, outcome in tests
        ),
        {"event": "finished", "exitstatus": 1},
    )


def test_read_events_keeps_bad_node_ids_once_in_order() -> None:
    lines = finished_session(
        ("tests/unit/test_a.py::test_ok", "passed"),
        (BAD[0], "failed"),
        (BAD[0], "error"),  # the same test's teardown error
        (BAD[1], "blocked"),
        ("tests/unit/test_a.py::test_skip", "skipped"),
    )
    lines.insert(2, '{"event": "test", "outc')  # a torn line
    lines.insert(3, "[1, 2, 3]")
    assert read_events(lines) == CellEvents(bad=BAD, sessions=1, finished=1)


def cell(name: str, status: CellStatus) -> CellRecord:
    return CellRecord(name=name, status=status, junit=f"cells/{name}/junit.xml")


def gate(code: int, *reasons: tuple[str | None, str], bad: dict[str, int] | None = None) -> dict[str, Any]:
    return {
        "verdict": "open" if code == 0 else "closed",
        "code": code,
        "reasons": [
            {"code": 1, "kind": kind, "message": f"{kind} reason", "cell": name} for name, kind in reasons
        ],
        "counts": {
            "cells": {name: {"failed": n, "errors": 0, "blocked": 0} for name, n in (bad or {}).items()}
        },
    }


RECORD = RunRecord(
    cells=(
        cell("ok", CellStatus.PASSED),
        cell("tests", CellStatus.FAILED),
        cell("crash", CellStatus.CRASHED),
        cell("env", CellStatus.ENV_ERROR),
        cell("stopped", CellStatus.CANCELLED),
        cell("missing", CellStatus.MISSING_INTERPRETER),
    )
)


def test_failed_crashed_env_error_and_cancelled_cells_are_re_run_passed_and_missing_kept() -> None:
    chosen = plan(
        RECORD,
        gate(
            1,
            ("tests", "failed"),
            ("tests", "blocked"),
            ("crash", "crashed"),
            ("env", "env-error"),
            bad={"tests": 2},
        ),
        {"tests": read_events(finished_session((BAD[0], "failed"), (BAD[1], "blocked")))},
    )
    assert [(c.name, c.why, c.tests) for c in chosen.cells] == [
        ("tests", "failed", BAD),
        ("crash", "crashed", None),
        ("env", "env-error", None),
        ("stopped", "cancelled", None),
    ]
    assert chosen.kept == ("ok", "missing")
    assert chosen.selection == {"tests": list(BAD)}
    assert chosen.unfixable == ()


def test_a_cell_the_gate_names_is_re_run_even_when_it_finished() -> None:
    chosen = plan(RECORD, gate(3, ("missing", "missing-interpreter")), {})
    assert [(c.name, c.why) for c in chosen.cells] == [
        ("crash", "crashed"),
        ("env", "env-error"),
        ("stopped", "cancelled"),
        ("missing", "missing-interpreter"),
    ]
    assert "tests" in chosen.kept  # failed, but no reason names it: its failures were forgiven


def test_without_gate_file_every_failed_cell_runs_whole() -> None:
    chosen = plan(RECORD, None, {"tests": read_events(finished_session((BAD[0], "failed")))})
    tests = next(c for c in chosen.cells if c.name == "tests")
    assert (tests.tests, tests.whole_because) == (None, "no gate.json counts to check the test names against")


@pytest.mark.parametrize(
    ("reasons", "lines", "bad", "because"),
    [
        (
            [("tests", "failed"), ("tests", "cell-failed")],
            finished_session((BAD[0], "failed")),
            1,
            "the gate's reason is about the cell (cell-failed), not its tests",
        ),
        ([("tests", "failed")], None, 1, "no events.jsonl to name its tests"),
        (
            [("tests", "failed")],
            finished_session((BAD[0], "failed"))[:-1],
            1,
            "events.jsonl records 1 pytest sessions started, 0 finished",
        ),
        (
            [("tests", "failed")],
            finished_session((BAD[0], "failed")) * 2,
            1,
            "events.jsonl records 2 pytest sessions started, 2 finished",
        ),
        (
            [("tests", "failed")],
            finished_session(("x::ok", "passed")),
            1,
            "events.jsonl names no failed test",
        ),
        (
            [("tests", "failed")],
            finished_session((BAD[0], "failed")),
            2,
            "events.jsonl names 1 failed tests, the report counts 2",
        ),  # a collection error has no node id
    ],
)
def test_the_whole_cell_runs_when_its_tests_cannot_be_named_reliably(
    reasons: list[tuple[str, str]], lines: list[str] | None, bad: int, because: str
) -> None:
    chosen = plan(
        RECORD, gate(1, *reasons, bad={"tests": bad}), {"tests": read_events(lines) if lines else None}
    )
    tests = next(c for c in chosen.cells if c.name == "tests")
    assert (tests.tests, tests.whole_because) == (None, because)


def test_whole_cells_option() -> None:
    chosen = plan(
        RECORD,
        gate(1, ("tests", "failed"), bad={"tests": 1}),
        {"tests": read_events(finished_session((BAD[0], "failed")))},
        whole_cells=True,
    )
    tests = next(c for c in chosen.cells if c.name == "tests")
    assert (tests.tests, tests.whole_because) == (None, "--whole-cells")
    assert chosen.selection == {}


def test_open_gate_with_clean_cells_has_nothing_to_re_run() -> None:
    record = RunRecord(cells=(cell("a", CellStatus.PASSED), cell("b", CellStatus.PASSED)))
    chosen = plan(record, gate(0), {})
    assert (chosen.cells, chosen.kept) == ((), ("a", "b"))


def test_reasons_naming_no_cell_cannot_be_fixed_by_a_re_run() -> None:
    record = RunRecord(cells=(cell("a", CellStatus.PASSED),))
    chosen = plan(record, gate(3, (None, "artifact-mismatch"), ("gone", "missing-cell")), {})
    assert chosen.cells == ()
    assert chosen.unfixable == ("artifact-mismatch reason", "missing-cell reason")
