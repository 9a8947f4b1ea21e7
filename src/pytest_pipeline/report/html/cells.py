"""The cells: the slowest tests and cells, and the table of every cell with a link to its
log (only to a file inside the reports folder)."""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

from pytest_pipeline.report.grid import dependency_set
from pytest_pipeline.report.html.matrix import reused_badge, status_badge
from pytest_pipeline.report.html.text import cell_stage, esc, seconds
from pytest_pipeline.report.model import ReportData
from pytest_pipeline.results import Counts
from pytest_pipeline.run_record import CellRecord


def slowest_section(data: ReportData) -> str:
    cells = data.slowest_cells()
    if not data.slowest_tests and not cells:
        return ""
    out = ['<h2 id="slowest">Slowest</h2>']
    if data.slowest_tests:
        out.append('<div><h3>Tests</h3><table class="list"><thead><tr><th>time</th><th>test</th>')
        out.append("<th>cell · stage</th></tr></thead><tbody>")
        for timed in data.slowest_tests:
            out.append(
                f'<tr><td class="num">{seconds(timed.time)}</td>'
                f'<td><code class="test">{esc(timed.test_id)}</code></td>'
                f"<td>{cell_stage(timed.cell, timed.stage)}</td></tr>"
            )
        out.append("</tbody></table></div>")
    if cells:
        out.append('<div><h3>Cells</h3><table class="list narrow"><thead><tr><th>time</th><th>cell</th>')
        out.append("<th>status</th></tr></thead><tbody>")
        for cell in cells:
            out.append(
                f'<tr><td class="num">{seconds(cell.duration)}</td><td>{esc(cell.name)}</td>'
                f"<td>{status_badge(cell.status.value)}</td></tr>"
            )
        out.append("</tbody></table></div>")
    return "".join(out)


def _log_link(cell: CellRecord, root: Path, output: Path | None) -> str:
    """A relative link to the cell's log when it is a file inside the reports folder."""
    if not cell.log:
        return ""
    target = (root / cell.log).resolve()
    try:
        target.relative_to(root.resolve())
    except ValueError:
        return ""
    if not target.is_file():
        return esc(cell.log)
    base = (output.parent if output else root).resolve()
    relative = Path(os.path.relpath(target, base)).as_posix()
    return f'<a href="{esc(urllib.parse.quote(relative))}">{esc(cell.log)}</a>'


def cells_section(data: ReportData, output: Path | None) -> str:
    cells = data.cells
    out = [f'<h2 id="cells">Cells <span class="count">({len(cells)})</span></h2>']
    out.append('<div class="scroll"><table class="list"><thead><tr><th>cell</th><th>python</th>')
    out.append("<th>dependencies</th><th>status</th><th>exit</th><th>time</th><th>tests</th><th>note</th>")
    out.append("<th>log</th></tr></thead><tbody>")
    for cell in cells:
        total = Counts()
        for (name, _), counts in data.groups.items():
            if name == cell.name:
                total.update(counts)
        tests = f"{total.tests}" if total.tests else ""
        exit_code = "" if cell.exit_code is None else str(cell.exit_code)
        out.append(
            f"<tr><td>{esc(cell.name)}</td><td>{esc(cell.python or '')}</td>"
            f"<td>{esc(dependency_set(cell))}</td>"
            f"<td>{status_badge(cell.status.value)}{reused_badge(cell)}</td>"
            f'<td class="num">{esc(exit_code)}</td>'
            f'<td class="num">{seconds(cell.duration) if cell.duration else ""}</td>'
            f'<td class="num">{tests}</td><td>{esc(cell.message)}</td>'
            f"<td>{_log_link(cell, data.root, output)}</td></tr>"
        )
    out.append("</tbody></table></div>")
    return "".join(out)
