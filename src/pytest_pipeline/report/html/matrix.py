"""The page's matrix: each cell in its slot of the grid, with one mark per stage that
says in a colour, a symbol and words how the stage went, and the legend."""

from __future__ import annotations

from collections.abc import Mapping

from pytest_pipeline.report.grid import Grid, StageMark, cell_marks
from pytest_pipeline.report.html.text import esc
from pytest_pipeline.report.model import ReportData
from pytest_pipeline.run_record import CellRecord, describe_origin

SYMBOLS = {
    "passed": "✓",
    "flaky": "↻",
    "failed": "✗",
    "blocked": "⊘",
    "skipped": "○",
    "empty": "○",
    "not-run": "\u2013",  # an en dash
}
"""One symbol per stage state: the grid must read without colour too."""

STATUS_STATE = {
    "passed": "passed",
    "failed": "failed",
    "no-tests": "empty",
    "env-error": "failed",
    "crashed": "failed",
    "missing-interpreter": "not-run",
    "interrupted": "blocked",
    "timed-out": "failed",
    "cancelled": "not-run",
    "queued": "not-run",
    "running": "not-run",
}


def _mark(mark: StageMark) -> str:
    return (
        f'<li class="mark" aria-label="{esc(mark.label)}" title="{esc(mark.label)}">'
        f'<span class="sym s-{mark.state}" aria-hidden="true">{SYMBOLS[mark.state]}</span>'
        f'<span class="stage">{esc(mark.stage)}</span><span class="detail">{esc(mark.detail)}</span></li>'
    )


def status_badge(status: str) -> str:
    state = STATUS_STATE.get(status, "not-run")
    return f'<span class="badge s-{state}">{esc(status)}</span>'


def reused_badge(cell: CellRecord) -> str:
    """A cell whose results an earlier run with the same inputs gave: says which run."""
    if cell.reused_from is None:
        return ""
    origin = describe_origin(cell.reused_from)
    return f' <span class="badge reused" title="{esc(origin)}">reused</span>'


def _entry(cell: CellRecord, data: ReportData, anchors: Mapping[str, str]) -> str:
    marks = cell_marks(cell, data.stages, data.groups)
    name = esc(cell.name)
    if cell.name in anchors:
        name = f'<a href="#{anchors[cell.name]}">{name}</a>'
    parts = [
        '<div class="entry">',
        f'<div class="entry-head"><span class="cell-name">{name}</span>',
        f"{status_badge(cell.status.value)}{reused_badge(cell)}</div>",
    ]
    if marks:
        parts.append('<ul class="marks">' + "".join(_mark(mark) for mark in marks) + "</ul>")
    else:
        parts.append('<p class="note">no stages</p>')
    if cell.message and (cell.status.value not in ("passed", "failed") or cell.reused_from is not None):
        parts.append(f'<div class="note">{esc(cell.message)}</div>')
    parts.append("</div>")
    return "".join(parts)


def matrix_table(grid: Grid, data: ReportData, anchors: Mapping[str, str]) -> str:
    out = ['<div class="scroll"><table class="grid">']
    if grid.by_name:
        out.append('<thead><tr><th scope="col">cell</th><th scope="col">stages</th></tr></thead><tbody>')
        for row in grid.rows:
            for cell in grid.slots.get((row, ""), ()):
                out.append(
                    f'<tr><th scope="row">{esc(cell.name)}</th><td>{_entry(cell, data, anchors)}</td></tr>'
                )
        out.append("</tbody></table></div>")
        return "".join(out)
    out.append('<thead><tr><th scope="col">Python \\ dependencies</th>')
    out.extend(f'<th scope="col">{esc(column)}</th>' for column in grid.columns)
    out.append("</tr></thead><tbody>")
    for row in grid.rows:
        out.append(f'<tr><th scope="row">{esc(row)}</th>')
        for column in grid.columns:
            cells = grid.slots.get((row, column), ())
            if cells:
                out.append("<td>" + "".join(_entry(cell, data, anchors) for cell in cells) + "</td>")
            else:
                out.append('<td class="vacant" aria-label="no cell">·</td>')
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def legend() -> str:
    items = [
        ("passed", "passed"),
        ("flaky", "passed after retries"),
        ("failed", "failed / error"),
        ("blocked", "blocked by an earlier stage"),
        ("skipped", "skipped / no tests"),
        ("not-run", "not run"),
    ]
    return (
        '<ul class="legend" aria-label="legend">'
        + "".join(
            f'<li><span class="sym s-{state}" aria-hidden="true">{SYMBOLS[state]}</span>{esc(text)}</li>'
            for state, text in items
        )
        + "</ul>"
    )
