"""The table printed at the end of a run: cells as rows, stages as columns.

Each stage column shows that cell's counts in that stage and the time they took; the
last columns show how the cell ended and its wall time (environment included). Below
it: the gate verdict and where the reports are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import IO

from pytest_pipeline.results import Counts, ResultSummary
from pytest_pipeline.run_record import CellRecord, CellStatus, describe_origin

_UNREPORTED = frozenset(
    {
        CellStatus.CRASHED,
        CellStatus.ENV_ERROR,
        CellStatus.MISSING_INTERPRETER,
        CellStatus.INTERRUPTED,
        CellStatus.TIMED_OUT,
    }
)
_BAD = frozenset(
    {
        CellStatus.FAILED,
        CellStatus.CRASHED,
        CellStatus.ENV_ERROR,
        CellStatus.INTERRUPTED,
        CellStatus.TIMED_OUT,
    }
)


def stage_text(counts: Counts | None) -> str:
    """``5 passed 0.4s``, ``1 failed, 4 passed 0.5s``, ``3 blocked``, ``-`` (nothing ran)."""
    if counts is None or counts.tests == 0:
        return "-"
    parts = [
        f"{n} {word}"
        for n, word in (
            (counts.failed, "failed"),
            (counts.errors, "errors"),
            (counts.blocked, "blocked"),
            (counts.passed, "passed"),
            (counts.skipped, "skipped"),
        )
        if n
    ]
    text = ", ".join(parts)
    if counts.flaky:
        text += f" ({counts.flaky} flaky)"
    if counts.ran:
        text += f" {format_seconds(counts.time)}"
    return text


def format_seconds(seconds: float) -> str:
    return f"{seconds:.2f}s" if seconds < 10 else f"{seconds:.1f}s"


def rows(
    records: Sequence[CellRecord], summary: ResultSummary | None, stages: Sequence[str]
) -> list[list[str]]:
    """The table's text, header first; pure, so it is tested without a terminal."""
    groups: Mapping[tuple[str, str], Counts] = summary.groups if summary is not None else {}
    table = [["cell", *stages, "status", "time"]]
    for record in records:
        cells = []
        for stage in stages:
            if record.stages and stage not in record.stages:
                cells.append("")  # the stage does not run in this cell
            else:
                cells.append(stage_text(groups.get((record.name, stage))))
        duration = format_seconds(record.duration) if record.duration else ""
        status = record.status.value
        if record.ignore_outcome and record.status is not CellStatus.PASSED:
            status += " (ignored)"  # tox's ignore_outcome: the gate does not require the cell
        if record.reused_from is not None:
            status += " (reused)"  # its results are an earlier run's: the inputs were the same
        table.append([record.name, *cells, status, duration])
    return table


def render(
    records: Sequence[CellRecord],
    summary: ResultSummary | None,
    stages: Sequence[str],
    stream: IO[str],
    *,
    colour: bool,
) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table_rows = rows(records, summary, stages)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for index, title in enumerate(table_rows[0]):
        table.add_column(title, justify="right" if index == len(table_rows[0]) - 1 else "left", no_wrap=True)
    for record, row in zip(records, table_rows[1:], strict=True):
        bad = record.status in _BAD and not record.ignore_outcome
        style = "red" if bad else ("green" if record.status is CellStatus.PASSED else "yellow")
        table.add_row(*row[:-2], f"[{style}]{row[-2]}[/]", row[-1])
    console = Console(
        file=stream, no_color=not colour, force_terminal=colour, width=max(100, _width(table_rows))
    )
    console.print(table)
    # Failures are the gate's to list; here only what no JUnit report can say.
    notes = [
        f"  {record.name}: {record.status.value}: {record.message}"
        for record in records
        if record.message and record.status in _UNREPORTED
    ]
    for note in notes[:10]:
        console.print(note, markup=False, highlight=False)
    for line in reused_lines(records):
        console.print(line, markup=False, highlight=False)


def reused_lines(records: Sequence[CellRecord]) -> list[str]:
    """One line per earlier run whose results were reused, naming its cells, and how to
    run them again: a table that says "passed" must not hide that nothing ran."""
    by_origin: dict[str, list[str]] = {}
    for record in records:
        if record.reused_from is not None:
            by_origin.setdefault(describe_origin(record.reused_from), []).append(record.name)
    lines = [f"  {', '.join(names)}: {origin}" for origin, names in by_origin.items()]
    if lines:
        lines.append("  (their inputs were unchanged; pytest-pipeline run --fresh runs every cell)")
    return lines


def _width(table_rows: list[list[str]]) -> int:
    widths = [max(len(row[i]) for row in table_rows) for i in range(len(table_rows[0]))]
    return sum(widths) + 3 * len(widths) + 4
