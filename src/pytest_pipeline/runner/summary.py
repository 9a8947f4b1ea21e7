"""The table printed at the end of a run: cells as rows, stages as columns.

Each stage column shows that cell's counts in that stage and the time they took; the
last columns show how the cell ended and its wall time (environment included). Below
it: the gate verdict and where the reports are.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import IO

from pytest_pipeline.results import CellRecord, CellStatus, Counts, ResultSummary

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
    table_rows = rows(records, summary, stages)
    if not colour and not _notes(records) and plain_text_is_rich_text(table_rows, stream):
        # What rich prints without colour, without importing it (~20 ms of a warm run).
        stream.write(plain_table(table_rows))
        return
    _render_with_rich(records, table_rows, stream, colour=colour)


_PLAIN_SAFE = re.compile(r"[ -9;-Z^-~]*")
"""Printable ASCII without ``[`` ``]`` ``\\`` ``:``: text that rich shows as it is (no
markup, no ``:emoji:`` codes) and whose width is its length."""


def plain_text_is_rich_text(table_rows: list[list[str]], stream: IO[str]) -> bool:
    """Whether :func:`plain_table` prints what rich would: every text plain (see
    ``_PLAIN_SAFE``), and a UTF-8 stream off Windows, where rich keeps its box characters."""
    encoding = (getattr(stream, "encoding", None) or "utf-8").lower()
    return (
        os.name != "nt"
        and encoding.startswith("utf")
        and all(_PLAIN_SAFE.fullmatch(text) for row in table_rows for text in row)
    )


def plain_table(table_rows: list[list[str]]) -> str:
    """The table as rich draws it without colour (``box.SIMPLE_HEAD``, no edge, no outer
    padding, the last column right-aligned); tested against rich itself."""
    last = len(table_rows[0]) - 1
    widths = [max(len(row[index]) for row in table_rows) for index in range(last + 1)]

    def line(row: list[str]) -> str:
        cells = []
        for index, text in enumerate(row):
            # rich drops trailing spaces of what it aligns right (it still counts them)
            fitted = text.rstrip().rjust(widths[index]) if index == last else text.ljust(widths[index])
            cells.append(f"{'' if index == 0 else ' '}{fitted}{'' if index == last else ' '}")
        return " ".join(cells)

    header = line(table_rows[0])
    body = [line(row) for row in table_rows[1:]]
    return "\n".join([header, "─" * len(header), *body]) + "\n"


def _notes(records: Sequence[CellRecord]) -> list[str]:
    """Failures are the gate's to list; here only what no JUnit report can say."""
    return [
        f"  {record.name}: {record.status.value}: {record.message}"
        for record in records
        if record.message and record.status in _UNREPORTED
    ]


def _render_with_rich(
    records: Sequence[CellRecord], table_rows: list[list[str]], stream: IO[str], *, colour: bool
) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

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
    for note in _notes(records)[:10]:
        console.print(note, markup=False, highlight=False)


def _width(table_rows: list[list[str]]) -> int:
    widths = [max(len(row[i]) for row in table_rows) for i in range(len(table_rows[0]))]
    return sum(widths) + 3 * len(widths) + 4
