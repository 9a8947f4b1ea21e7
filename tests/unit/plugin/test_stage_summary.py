"""The per-stage terminal table and the lines under it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from pytest_pipeline.plugin.ledger import Ledger
from pytest_pipeline.plugin.summary import COLUMNS, detail_lines, table_lines


def feed(ledger: Ledger, nodeid: str, stage: str, call: str, **extra: Any) -> None:
    for when, outcome in (("setup", "passed"), ("call", call), ("teardown", "passed")):
        ledger.add(
            SimpleNamespace(
                nodeid=nodeid,
                when=when,
                outcome=outcome,
                duration=0.25,
                longrepr=None,
                pipeline_stage=stage,
                **(extra if when == "call" else {}),
            )
        )


def test_table_has_a_row_per_stage_and_a_total() -> None:
    ledger = Ledger()
    feed(ledger, "u1", "unit", "passed")
    feed(ledger, "u2", "unit", "failed")
    feed(ledger, "s1", "smoke", "passed", pipeline_over_budget=0.1)
    lines = table_lines(ledger, ["unit", "integration", "smoke"])
    header, unit, integration, smoke, total = (line.split() for line in lines)
    assert header == ["stage", *" ".join(COLUMNS).split()]
    # stage passed failed errors skipped blocked flaky over-budget time
    assert unit == ["unit", "1", "1", "0", "0", "0", "0", "0", "1.50s"]
    assert integration == ["integration", "0", "0", "0", "0", "0", "0", "0", "0.00s"]
    assert smoke == ["smoke", "1", "0", "0", "0", "0", "0", "1", "0.75s"]
    assert total == ["total", "2", "1", "0", "0", "0", "0", "1", "2.25s"]
    assert len({len(line) for line in lines}) == 1  # aligned columns


def test_details_list_flaky_over_budget_not_ready_and_blocked() -> None:
    ledger = Ledger()
    ledger.add(
        SimpleNamespace(
            nodeid="f", when="call", outcome="rerun", duration=0, longrepr="boom", pipeline_stage="smoke"
        )
    )
    feed(ledger, "f", "smoke", "passed")
    feed(ledger, "slow", "unit", "passed", pipeline_over_budget=0.0)
    ledger.add(
        SimpleNamespace(
            nodeid="n",
            when="setup",
            outcome="failed",
            duration=0,
            longrepr="x",
            pipeline_stage="smoke",
            pipeline_not_ready="stage smoke not ready: tcp://h:1 ...",
        )
    )
    for nodeid in ("b1", "b2"):
        ledger.add(
            SimpleNamespace(
                nodeid=nodeid,
                when="setup",
                outcome="failed",
                duration=0,
                longrepr="x",
                pipeline_stage="smoke",
                pipeline_blocked="blocked by a failure in stage unit",
            )
        )
    lines = detail_lines(ledger, ["unit", "smoke"])
    assert "flaky in smoke: f (passed on attempt 2)" in lines
    assert "over budget in unit: slow took 0.250s > 0s (belongs to a slower stage)" in lines
    assert "stage smoke not ready: tcp://h:1 ..." in lines
    assert "blocked (2 in smoke): blocked by a failure in stage unit" in lines


def test_long_lists_are_cut() -> None:
    ledger = Ledger()
    for index in range(5):
        feed(ledger, f"slow{index}", "unit", "passed", pipeline_over_budget=0.1)
    lines = detail_lines(ledger, ["unit"], limit=2)
    assert len([line for line in lines if line.startswith("over budget in unit")]) == 2
    assert "over budget: 3 more" in lines
