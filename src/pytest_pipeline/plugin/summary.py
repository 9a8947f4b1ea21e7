"""The per-stage table at the end of a pytest run, as plain lines (pure, testable).

PYTEST_DONT_REWRITE: the pytest plugin imports this module in every test run; see plugin.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from pytest_pipeline.plugin.budgets import seconds
from pytest_pipeline.plugin.ledger import Ledger
from pytest_pipeline.results import Counts

COLUMNS = ("passed", "failed", "errors", "skipped", "blocked", "flaky", "over budget", "time")


def _row(name: str, counts: Counts, over: int) -> list[str]:
    return [
        name,
        str(counts.passed),
        str(counts.failed),
        str(counts.errors),
        str(counts.skipped),
        str(counts.blocked),
        str(counts.flaky),
        str(over),
        f"{counts.time:.2f}s",
    ]


def table_lines(ledger: Ledger, stages: Sequence[str]) -> list[str]:
    """The table: one row per stage (in order) and a total row."""
    counts = ledger.counts(stages)
    over = Counter(entry.stage for entry in ledger.over_budget())
    rows = [["stage", *COLUMNS]]
    total = Counts()
    for stage, stage_counts in counts.items():
        rows.append(_row(stage, stage_counts, over[stage]))
        total.update(stage_counts)
    rows.append(_row("total", total, sum(over.values())))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row))
        for row in rows
    ]


def detail_lines(ledger: Ledger, stages: Sequence[str], limit: int = 20) -> list[str]:
    """What someone must look at: flaky passes, over-budget tests, blocked stages, readiness."""
    lines: list[str] = []
    flaky = ledger.flaky()
    for entry in flaky[:limit]:
        attempts = len(entry.failed_attempts) + 1
        lines.append(f"flaky in {entry.stage}: {entry.nodeid} (passed on attempt {attempts})")
    if len(flaky) > limit:
        lines.append(f"flaky: {len(flaky) - limit} more")
    over = ledger.over_budget()
    for entry in over[:limit]:
        assert entry.over_budget is not None
        duration, budget = entry.over_budget
        lines.append(
            f"over budget in {entry.stage}: {entry.nodeid} took {seconds(duration)} > {budget:g}s "
            "(belongs to a slower stage)"
        )
    if len(over) > limit:
        lines.append(f"over budget: {len(over) - limit} more")
    not_ready: dict[str, str] = {}
    for entry in ledger.entries.values():
        if entry.not_ready and entry.stage not in not_ready:
            not_ready[entry.stage] = entry.not_ready
    lines.extend(not_ready.values())
    blocked: dict[str, Counter[str]] = {}
    for entry in ledger.blocked():
        assert entry.blocked is not None
        blocked.setdefault(entry.blocked, Counter())[entry.stage] += 1
    for message, per_stage in blocked.items():
        what = ", ".join(f"{count} in {stage}" for stage, count in per_stage.items())
        lines.append(f"blocked ({what}): {message}")
    return lines
