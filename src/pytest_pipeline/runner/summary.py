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
    """A cell's or a stage's time in a terminal table (``run``'s and ``status``'s)."""
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
    table_rows = rows(records, summary, stages)
    below = reused_lines(records)
    if not colour and not _notes(records) and plain_text_is_rich_text(table_rows, stream, below):
        # What rich prints without colour, without importing it (~20 ms of a warm run).
        stream.write(plain_table(table_rows) + plain_lines(below, console_width(table_rows)))
        return
    _render_with_rich(records, table_rows, stream, colour=colour, below=below)


_PLAIN_SAFE = re.compile(r"[ -9;-Z^-~]*")
"""Printable ASCII without ``[`` ``]`` ``\\`` ``:``: table text that rich shows as it is
(no markup, no ``:emoji:`` codes) and whose width is its length."""
_PRINTABLE = re.compile(r"[ -~]*")
_WORDS = re.compile(r"\s*\S+\s*")
"""A word as rich wraps text (rich/_wrap.py): with the spaces around it."""


def plain_text_is_rich_text(table_rows: list[list[str]], stream: IO[str], lines: Sequence[str] = ()) -> bool:
    """Whether :func:`plain_table` and ``lines`` as they are print what rich would: every
    table text plain (see ``_PLAIN_SAFE``); every line printable ASCII (rich prints them
    without markup) whose colons hold no emoji code and which fits the console's width
    (rich would wrap it); a UTF-8 stream off Windows, where rich keeps its box characters."""
    encoding = (getattr(stream, "encoding", None) or "utf-8").lower()
    width = console_width(table_rows)
    return (
        os.name != "nt"
        and encoding.startswith("utf")
        and all(_PLAIN_SAFE.fullmatch(text) for row in table_rows for text in row)
        and all(
            _PRINTABLE.fullmatch(line) and _no_emoji_code(line) and _wrapped(line, width) is not None
            for line in lines
        )
    )


def _no_emoji_code(line: str) -> bool:
    """Whether rich leaves ``line`` as it is: it replaces ``:code:`` by an emoji, markup
    or not. Asked of rich's own replacement (its small module, not its console); a rich
    without it is left to draw the line."""
    if ":" not in line:
        return True
    try:
        from rich._emoji_replace import _emoji_replace
    except ImportError:
        return False
    return bool(_emoji_replace(line) == line)


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


def plain_lines(lines: Sequence[str], width: int) -> str:
    """``lines`` as rich's console prints them without markup, ``width`` wide: wrapped
    (see :func:`_wrapped`); only for lines :func:`plain_text_is_rich_text` accepts."""
    return "".join(f"{piece}\n" for line in lines for piece in _wrapped(line, width) or [line])


def _wrapped(line: str, width: int) -> list[str] | None:
    """``line`` broken where rich breaks it: before the first word that would pass
    ``width`` (a line keeps the space before its break; whitespace past ``width`` goes);
    None when a word is wider than ``width`` (rich folds it) . Tested against rich."""
    if not line.strip():
        return [line] if len(line) <= width else None
    pieces: list[str] = []
    current = ""
    for match in _WORDS.finditer(line):
        word = match.group()
        if len(word.rstrip()) > width:
            return None
        if current and len(current) + len(word.rstrip()) > width:
            pieces.append(current)
            current = word
        else:
            current += word
    pieces.append(current)
    return [piece if len(piece) <= width else piece[:width] + piece[width:].strip() for piece in pieces]


def _notes(records: Sequence[CellRecord]) -> list[str]:
    """Failures are the gate's to list; here only what no JUnit report can say."""
    return [
        f"  {record.name}: {record.status.value}: {record.message}"
        for record in records
        if record.message and record.status in _UNREPORTED
    ]


def _render_with_rich(
    records: Sequence[CellRecord],
    table_rows: list[list[str]],
    stream: IO[str],
    *,
    colour: bool,
    below: Sequence[str] = (),
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
        file=stream, no_color=not colour, force_terminal=colour, width=console_width(table_rows)
    )
    console.print(table)
    for note in _notes(records)[:10]:
        console.print(note, markup=False, highlight=False)
    for line in below:
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


def console_width(table_rows: list[list[str]]) -> int:
    """The width the table and the lines below it are drawn in (wide enough for the table)."""
    return max(100, _width(table_rows))


def _width(table_rows: list[list[str]]) -> int:
    widths = [max(len(row[i]) for row in table_rows) for i in range(len(table_rows[0]))]
    return sum(widths) + 3 * len(widths) + 4
