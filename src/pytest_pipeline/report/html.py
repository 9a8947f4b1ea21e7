"""One self-contained HTML page for a run: the matrix, the verdict, failures, timings.

Self-contained means: inline CSS, no script, no font, image or stylesheet from anywhere.
A ``Content-Security-Policy`` meta tag (``default-src 'none'``) makes the browser enforce
that, so even a mistake in escaping could neither run a script nor fetch anything.
Tracebacks sit in ``<details>`` elements: one click away, no JavaScript needed.

Everything shown comes from files a pull request's build may have written (test names,
messages, tracebacks, cell names, CI URLs): all of it goes through :func:`esc`, links only
ever point to ``http(s)://`` URLs or to files inside the reports folder.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_pipeline import __version__, fileio
from pytest_pipeline.report.grid import Grid, StageMark, build_grid, cell_marks, dependency_set
from pytest_pipeline.report.model import FailureDetail, ReportData
from pytest_pipeline.results import CellRecord, Counts, TestRef

MAX_REASONS = 200
"""Gate reasons and notes listed; gate.json has them all."""

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

CODE_MEANING = {
    0: "gate open",
    1: "tests failed",
    2: "interrupted",
    3: "incomplete",
    4: "usage error",
    5: "no tests in a required stage",
    6: "publish refused",
}

_UNSAFE_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def esc(value: object) -> str:
    """Text (or an attribute value) that renders as itself.

    Control characters and bidirectional overrides (which can make a test name *display*
    as something else) are shown as ``\\uXXXX`` instead of being interpreted.
    """
    text = _UNSAFE_CHARS.sub(lambda match: f"\\u{ord(match.group()):04x}", str(value))
    return html.escape(text, quote=True)


def esc_block(value: str) -> str:
    """A traceback or captured output: colour codes dropped, then escaped."""
    return esc(_ANSI.sub("", value))


def safe_url(value: object) -> str | None:
    text = str(value or "")
    parsed = urllib.parse.urlsplit(text)
    if parsed.scheme in ("http", "https") and parsed.netloc and not _UNSAFE_CHARS.search(text):
        return text
    return None


def seconds(value: float) -> str:
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 60:
        return f"{value:.2f} s"
    minutes, rest = divmod(round(value), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _when(value: object) -> str:
    """An ISO timestamp shown as ``2026-11-22 01:15:07 UTC``."""
    text = str(value or "")
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc)
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


# --------------------------------------------------------------------------- style

COLOURS = {
    "passed": "#1a7f37",
    "flaky": "#9a6700",
    "failed": "#cf222e",
    "blocked": "#bc4c00",
    "skipped": "#6e7781",
    "not-run": "#d0d7de",
}
"""Background of each stage state's mark (white symbol on it; dark on ``not-run``)."""

CSS = (
    ":root { "
    + " ".join(f"--{state}: {colour};" for state, colour in COLOURS.items())
    + """ --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
  color: var(--ink); background: #fff; }
main { max-width: 1200px; margin: 0 auto; padding: 0 24px 48px; }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, monospace;
  font-size: 13px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h2 .count { color: var(--muted); font-weight: normal; }
.verdict { padding: 20px 0; color: #fff; }
/* The banner's shades differ from the marks' on purpose: the grid's colours stay its own. */
.verdict.open { background: #116329; }
.verdict.closed { background: #a40e26; }
.verdict .inner { max-width: 1200px; margin: 0 auto; padding: 0 24px; }
.verdict .headline { font-size: 20px; font-weight: 600; margin: 6px 0; overflow-wrap: anywhere; }
.verdict .meta { margin: 0; opacity: .95; }
.verdict .meta code { font-size: 14px; }
nav { max-width: 1200px; margin: 0 auto; padding: 10px 24px; font-size: 14px; }
nav a { margin-right: 14px; color: #0969da; text-decoration: none; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; }
table.grid th, table.grid td { border: 1px solid var(--line); padding: 8px; vertical-align: top; }
table.grid thead th { background: var(--soft); text-align: left; font-weight: 600; }
table.grid tbody th { background: var(--soft); text-align: left; white-space: nowrap; }
table.grid td.vacant { color: var(--muted); text-align: center; }
.entry + .entry { margin-top: 10px; padding-top: 10px; border-top: 1px dashed var(--line); }
.entry-head { display: flex; gap: 8px; align-items: baseline; flex-wrap: wrap; margin-bottom: 6px; }
.cell-name { font-weight: 600; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; font-weight: 600;
  color: #fff; white-space: nowrap; }
ul.marks { list-style: none; margin: 0; padding: 0; }
ul.marks li { display: flex; align-items: center; gap: 8px; margin: 3px 0; white-space: nowrap; }
.sym { display: inline-flex; align-items: center; justify-content: center; width: 24px; height: 24px;
  border-radius: 5px; color: #fff; font-weight: 700; font-size: 15px; flex: none; }
.stage { font-weight: 600; min-width: 5.5em; }
.detail { color: var(--muted); font-size: 13px; }
.s-passed { background: var(--passed); }
.s-flaky { background: var(--flaky); }
.s-failed { background: var(--failed); }
.s-blocked { background: var(--blocked); }
.s-skipped, .s-empty { background: var(--skipped); }
.s-not-run { background: var(--not-run); color: var(--ink); }
.legend { display: flex; flex-wrap: wrap; gap: 16px; margin: 10px 0 0; padding: 0; list-style: none;
  font-size: 13px; color: var(--muted); }
.legend li { display: flex; align-items: center; gap: 6px; }
.legend .sym { width: 18px; height: 18px; font-size: 12px; }
table.list { width: 100%; font-size: 14px; }
table.list th, table.list td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
table.list th { background: var(--soft); font-weight: 600; }
table.list.narrow { width: auto; min-width: 50%; }
table.list td.where { min-width: 16em; }
table.list td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.test { overflow-wrap: break-word; word-break: normal; }
details.failure { border: 1px solid var(--line); border-left: 4px solid var(--failed); border-radius: 6px;
  margin: 10px 0; background: #fff; }
details.failure.o-error { border-left-color: var(--blocked); }
details.failure summary { cursor: pointer; padding: 10px 14px 10px 34px; list-style: none;
  position: relative; }
details.failure summary::-webkit-details-marker { display: none; }
details.failure summary::before { content: "\\25B8"; position: absolute; left: 14px; top: 10px;
  color: var(--muted); }
details.failure[open] summary::before { content: "\\25BE"; }
details.failure summary .where { color: var(--muted); font-size: 13px; margin-left: 6px; }
details.failure summary .msg { display: block; color: var(--failed); font-family: ui-monospace,
  "DejaVu Sans Mono", monospace; font-size: 13px; margin-top: 4px; overflow-wrap: anywhere; }
details.failure[open] summary { border-bottom: 1px solid var(--line); }
details.failure .body { padding: 10px 14px; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px;
  overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; margin: 6px 0; max-height: 40em;
  overflow-y: auto; }
.muted { color: var(--muted); }
.note { color: var(--muted); font-size: 14px; }
h3 { font-size: 16px; margin: 18px 0 8px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 6px 18px; margin: 0; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.problems { border-left: 4px solid var(--blocked); background: #fff8f0; padding: 8px 14px; }
footer { color: var(--muted); font-size: 13px; margin-top: 40px; }
"""
)

# --------------------------------------------------------------------------- pieces


def _mark(mark: StageMark) -> str:
    return (
        f'<li class="mark" aria-label="{esc(mark.label)}" title="{esc(mark.label)}">'
        f'<span class="sym s-{mark.state}" aria-hidden="true">{SYMBOLS[mark.state]}</span>'
        f'<span class="stage">{esc(mark.stage)}</span><span class="detail">{esc(mark.detail)}</span></li>'
    )


def _status_badge(status: str) -> str:
    state = STATUS_STATE.get(status, "not-run")
    return f'<span class="badge s-{state}">{esc(status)}</span>'


def _entry(cell: CellRecord, data: ReportData, anchors: Mapping[str, str]) -> str:
    marks = cell_marks(cell, data.stages, data.groups)
    name = esc(cell.name)
    if cell.name in anchors:
        name = f'<a href="#{anchors[cell.name]}">{name}</a>'
    parts = [
        '<div class="entry">',
        f'<div class="entry-head"><span class="cell-name">{name}</span>',
        f"{_status_badge(cell.status.value)}</div>",
    ]
    if marks:
        parts.append('<ul class="marks">' + "".join(_mark(mark) for mark in marks) + "</ul>")
    else:
        parts.append('<p class="note">no stages</p>')
    if cell.message and cell.status.value not in ("passed", "failed"):
        parts.append(f'<div class="note">{esc(cell.message)}</div>')
    parts.append("</div>")
    return "".join(parts)


def _grid_html(grid: Grid, data: ReportData, anchors: Mapping[str, str]) -> str:
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


def _legend() -> str:
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


def _where(*parts: object) -> str:
    return " · ".join(esc(part) for part in parts if part)


def _reasons(data: ReportData) -> str:
    gate = data.gate or {}
    reasons = [_dict(item) for item in _list(gate.get("reasons"))]
    notes = [_dict(item) for item in _list(gate.get("notes"))]
    out: list[str] = []
    if reasons:
        out.append(f'<h2 id="why">Why the gate is closed <span class="count">({len(reasons)})</span></h2>')
        out.append(_reason_table(reasons, code=True))
    if notes:
        out.append(f'<h2 id="notes">Notes <span class="count">({len(notes)})</span></h2>')
        out.append(_reason_table(notes, code=False))
    return "".join(out)


def _reason_table(items: Sequence[Mapping[str, Any]], *, code: bool) -> str:
    head = "<th>code</th>" if code else ""
    out = [f'<div class="scroll"><table class="list"><thead><tr>{head}<th>kind</th><th>where</th>']
    out.append("<th>message</th></tr></thead><tbody>")
    for item in items[:MAX_REASONS]:
        cells = f'<td class="num">{esc(item.get("code", ""))}</td>' if code else ""
        where = _where(_str(item.get("cell")), _str(item.get("stage")))
        test = _str(item.get("test"))
        if test:
            where += ("<br>" if where else "") + f'<code class="test">{esc(test)}</code>'
        out.append(
            f'<tr>{cells}<td>{esc(item.get("kind", ""))}</td><td class="where">{where}</td>'
            f'<td class="test">{esc(item.get("message", ""))}</td></tr>'
        )
    out.append("</tbody></table></div>")
    if len(items) > MAX_REASONS:
        out.append(f'<p class="note">{len(items) - MAX_REASONS} more in gate.json</p>')
    return "".join(out)


def _failure(failure: FailureDetail, anchor: str | None) -> str:
    message = failure.message.strip().splitlines()[0] if failure.message.strip() else ""
    if not message and failure.text.strip():
        message = failure.text.strip().splitlines()[-1]
    ident = f' id="{anchor}"' if anchor else ""
    location = ""
    if failure.file:
        location = f"{failure.file}:{failure.line}" if failure.line is not None else failure.file
    facts = [
        part for part in (location, f"{failure.attempts} attempts" if failure.attempts > 1 else "") if part
    ]
    body = ['<div class="body">']
    if facts:
        body.append(f'<p class="note mono">{esc(" · ".join(facts))}</p>')
    if failure.message.strip() and "\n" in failure.message.strip():
        body.append(f"<pre>{esc_block(failure.message)}</pre>")
    body.append(
        f'<pre class="trace">{esc_block(failure.text) if failure.text else "(no traceback recorded)"}</pre>'
    )
    if failure.output:
        body.append(f'<p class="note">captured output</p><pre>{esc_block(failure.output)}</pre>')
    body.append("</div>")
    return (
        f'<details class="failure o-{failure.outcome.value}"{ident}><summary>'
        f'<span class="badge s-failed">{esc(failure.outcome.value)}</span> '
        f'<code class="test">{esc(failure.test_id)}</code>'
        f'<span class="where">{_where(failure.cell, failure.stage)}</span>'
        f'<span class="msg">{esc(message)}</span></summary>{"".join(body)}</details>'
    )


def _failures(data: ReportData, anchors: Mapping[str, str]) -> str:
    total = len(data.failures) + data.failures_omitted
    out = [f'<h2 id="failures">Failures <span class="count">({total})</span></h2>']
    if not total:
        out.append('<p class="note">No test failed or errored.</p>')
        return "".join(out)
    out.append('<p class="note">Click a failure for its traceback.</p>')
    anchored: set[str] = set()
    for failure in data.failures:
        # The first failure of each cell carries the anchor the grid links to.
        anchor = anchors.get(failure.cell) if failure.cell not in anchored else None
        anchored.add(failure.cell)
        out.append(_failure(failure, anchor))
    if data.failures_omitted:
        out.append(
            f'<p class="note">{_plural(data.failures_omitted, "more failure")} not shown: '
            "the merged junit.xml has them all.</p>"
        )
    return "".join(out)


def _refs_table(refs: Sequence[TestRef], *, message_header: str) -> str:
    out = ['<div class="scroll"><table class="list"><thead><tr><th>test</th><th>cell · stage</th>']
    out.append(f"<th>attempts</th><th>{esc(message_header)}</th></tr></thead><tbody>")
    for ref in refs:
        out.append(
            f'<tr><td><code class="test">{esc(ref.test_id)}</code></td><td>{_where(ref.cell, ref.stage)}</td>'
            f'<td class="num">{ref.attempts}</td><td class="test">{esc(ref.message)}</td></tr>'
        )
    out.append("</tbody></table></div>")
    return "".join(out)


def _blocked(data: ReportData) -> str:
    total = len(data.blocked) + data.blocked_omitted
    if not total:
        return ""
    groups: dict[tuple[str, str], list[TestRef]] = {}
    for ref in data.blocked:
        groups.setdefault((ref.cell, ref.stage), []).append(ref)
    out = [f'<h2 id="blocked">Blocked <span class="count">({total})</span></h2>']
    out.append('<p class="note">Not run because an earlier stage of the same cell failed.</p>')
    out.append('<div class="scroll"><table class="list"><thead><tr><th>cell · stage</th><th>tests</th>')
    out.append("<th>why</th></tr></thead><tbody>")
    for (cell, stage), refs in groups.items():
        names = "<br>".join(f'<code class="test">{esc(ref.test_id)}</code>' for ref in refs)
        out.append(f"<tr><td>{_where(cell, stage)}</td><td>{names}</td><td>{esc(refs[0].message)}</td></tr>")
    out.append("</tbody></table></div>")
    if data.blocked_omitted:
        out.append(f'<p class="note">{_plural(data.blocked_omitted, "more blocked test")} not listed.</p>')
    return "".join(out)


def _flaky(data: ReportData) -> str:
    total = len(data.flaky) + data.flaky_omitted
    out = [f'<h2 id="flaky">Flaky <span class="count">({total})</span></h2>']
    if not total:
        out.append('<p class="note">No test needed a retry to pass.</p>')
        return "".join(out)
    out.append('<p class="note">Passed only after failed attempts.</p>')
    out.append(_refs_table(data.flaky, message_header="how an attempt failed"))
    if data.flaky_omitted:
        out.append(f'<p class="note">{_plural(data.flaky_omitted, "more flaky test")} not listed.</p>')
    return "".join(out)


def _quarantined(data: ReportData) -> str:
    items = [_dict(item) for item in _list((data.gate or {}).get("quarantined"))]
    if not items:
        return ""
    out = [f'<h2 id="quarantined">Quarantined <span class="count">({len(items)})</span></h2>']
    out.append(
        '<p class="note">Failures of known-flaky tests: they do not close the gate until their entry '
        "expires.</p>"
    )
    out.append('<div class="scroll"><table class="list"><thead><tr><th>test</th><th>cell · stage</th>')
    out.append("<th>reason</th><th>expires</th><th>failure</th></tr></thead><tbody>")
    for item in items[:MAX_REASONS]:
        entry = _dict(item.get("quarantine"))
        out.append(
            f'<tr><td><code class="test">{esc(item.get("id", ""))}</code></td>'
            f"<td>{_where(_str(item.get('cell')), _str(item.get('stage')))}</td>"
            f"<td>{esc(entry.get('reason', ''))}</td><td>{esc(entry.get('expires', ''))}</td>"
            f'<td class="test">{esc(item.get("message", ""))}</td></tr>'
        )
    out.append("</tbody></table></div>")
    return "".join(out)


def _slowest(data: ReportData) -> str:
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
                f"<td>{_where(timed.cell, timed.stage)}</td></tr>"
            )
        out.append("</tbody></table></div>")
    if cells:
        out.append('<div><h3>Cells</h3><table class="list narrow"><thead><tr><th>time</th><th>cell</th>')
        out.append("<th>status</th></tr></thead><tbody>")
        for cell in cells:
            out.append(
                f'<tr><td class="num">{seconds(cell.duration)}</td><td>{esc(cell.name)}</td>'
                f"<td>{_status_badge(cell.status.value)}</td></tr>"
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


def _cells_table(data: ReportData, output: Path | None) -> str:
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
            f'<td>{_status_badge(cell.status.value)}</td><td class="num">{esc(exit_code)}</td>'
            f'<td class="num">{seconds(cell.duration) if cell.duration else ""}</td>'
            f'<td class="num">{tests}</td><td>{esc(cell.message)}</td>'
            f"<td>{_log_link(cell, data.root, output)}</td></tr>"
        )
    out.append("</tbody></table></div>")
    return "".join(out)


def _facts(rows: Iterable[tuple[str, str]]) -> str:
    return '<dl class="facts">' + "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in rows if v) + "</dl>"


def _provenance(data: ReportData) -> str:
    gate = data.gate or {}
    git = _dict(gate.get("git"))
    ci = _dict(gate.get("ci"))
    rows: list[tuple[str, str]] = []
    commit = _str(git.get("commit"))
    if commit:
        rows.append(("commit", f"<code>{esc(commit)}</code>"))
    branch = _str(git.get("branch")) or _str(git.get("ref"))
    if branch:
        rows.append(("branch", esc(branch)))
    if "dirty" in git:
        dirty_paths = [esc(path) for path in _list(git.get("dirty_paths"))[:20]]
        text = "yes: uncommitted changes" if git.get("dirty") else "no: clean tree"
        if dirty_paths:
            text += "<br>" + "<br>".join(f"<code>{path}</code>" for path in dirty_paths)
        rows.append(("dirty", text))
    if ci:
        provider = esc(ci.get("provider") or ci.get("name") or "CI")
        url = safe_url(ci.get("url") or ci.get("run_url"))
        text = provider
        run_id = ci.get("run_id")
        if run_id:
            text += f" run {esc(run_id)}"
        if url:
            text += f' · <a href="{esc(url)}" rel="noreferrer noopener">{esc(url)}</a>'
        rows.append(("CI", text))
    artifacts = [_dict(item) for item in _list(gate.get("artifacts"))]
    if not artifacts and data.run is not None:
        artifacts = [item.to_dict() for item in ((data.run.artifact,) if data.run.artifact else ())]
        artifacts += [item.to_dict() for item in data.run.artifacts]
    if artifacts:
        rows.append(
            (
                "tested artifacts",
                "<br>".join(
                    f'{esc(item.get("name", ""))} <span class="muted">sha256</span> '
                    f"<code>{esc(item.get('sha256', ''))}</code>"
                    for item in artifacts
                ),
            )
        )
    run = data.run
    if run is not None and (run.started or run.finished):
        rows.append(("run", f"{esc(_when(run.started))} → {esc(_when(run.finished))}"))
        if run.interrupted:
            rows.append(("interrupted", "yes"))
    if gate.get("finished"):
        rows.append(("gate decided", esc(_when(gate.get("finished")))))
    tools = _dict(gate.get("tools")) or (dict(run.tool_versions) if run else {})
    if tools:
        rows.append(("tools", esc(", ".join(f"{name} {version}" for name, version in tools.items()))))
    rows.append(("report", f"{esc(_when(data.generated))} by pytest-pipeline {esc(__version__)}"))
    return '<h2 id="provenance">Provenance</h2>' + _facts(rows)


def _problems(data: ReportData) -> str:
    if not data.problems:
        return ""
    items = "".join(
        f"<li><code>{esc(p.path)}</code>: {esc(p.message)}</li>" for p in data.problems[:MAX_REASONS]
    )
    return (
        '<div class="problems"><p><strong>Unreadable inputs</strong> (left out of this report):</p>'
        f"<ul>{items}</ul></div>"
    )


def _header(data: ReportData) -> str:
    gate = data.gate
    if gate is not None:
        code = gate.get("code")
        is_open = gate.get("verdict") == "open" and code == 0
        headline = _str(gate.get("headline")) or ("GATE OPEN (0)" if is_open else f"GATE CLOSED ({code})")
        meaning = CODE_MEANING.get(code, "") if isinstance(code, int) else ""
    else:
        is_open = False
        headline = "No gate verdict (gate.json is missing)"
        meaning = "run `pytest-pipeline gate` to decide"
    git = _dict((gate or {}).get("git"))
    facts: list[str] = []
    if meaning:
        facts.append(
            f"exit code {esc(gate.get('code') if gate else '')} · {esc(meaning)}" if gate else esc(meaning)
        )
    commit = _str(git.get("commit"))
    if commit:
        branch = _str(git.get("branch"))
        facts.append(f"commit <code>{esc(commit[:12])}</code>" + (f" on {esc(branch)}" if branch else ""))
    cells = data.cells
    if cells:
        facts.append(_plural(len(cells), "cell"))
    total = Counts()
    for counts in data.groups.values():
        total.update(counts)
    if total.tests:
        facts.append(_plural(total.tests, "test") + " in total")
    if data.run is not None and data.run.finished:
        facts.append(f"finished {esc(_when(data.run.finished))}")
    state = "open" if is_open else "closed"
    return (
        f'<header class="verdict {state}" role="banner"><div class="inner">'
        f"<h1>pytest-pipeline · {esc(data.title)}</h1>"
        f'<p class="headline">{esc(headline)}</p>'
        f'<p class="meta">{" · ".join(facts)}</p></div></header>'
    )


def _nav(data: ReportData) -> str:
    links = [("matrix", "Matrix")]
    if data.gate and _list(data.gate.get("reasons")):
        links.append(("why", "Why closed"))
    links.append(("failures", f"Failures ({len(data.failures) + data.failures_omitted})"))
    if data.blocked:
        links.append(("blocked", "Blocked"))
    links.append(("flaky", "Flaky"))
    if data.gate and _list(data.gate.get("quarantined")):
        links.append(("quarantined", "Quarantined"))
    if data.slowest_tests or data.slowest_cells():
        links.append(("slowest", "Slowest"))
    links += [("cells", "Cells"), ("provenance", "Provenance")]
    return (
        '<nav aria-label="sections">' + "".join(f'<a href="#{a}">{esc(t)}</a>' for a, t in links) + "</nav>"
    )


# --------------------------------------------------------------------------- the page


def render(data: ReportData, output: Path | None = None) -> str:
    """The page for ``data``; ``output`` (where it will be written) makes log links relative to it."""
    cells = data.cells
    failing = list(dict.fromkeys(failure.cell for failure in data.failures))
    anchors = {cell: f"failures-of-{number}" for number, cell in enumerate(failing, 1)}
    body = [
        _header(data),
        _nav(data),
        "<main>",
        _problems(data),
        f'<h2 id="matrix">Matrix <span class="count">({_plural(len(cells), "cell")} \u00d7 '
        f"{_plural(len(data.stages), 'stage')})</span></h2>",
        _grid_html(build_grid(cells), data, anchors) if cells else '<p class="note">No cells.</p>',
        _legend(),
        _reasons(data),
        _failures(data, anchors),
        _blocked(data),
        _flaky(data),
        _quarantined(data),
        _slowest(data),
        _cells_table(data, output),
        _provenance(data),
        f"<footer>Written by pytest-pipeline {esc(__version__)}. Self-contained: no scripts, "
        "nothing fetched from the network.</footer>",
        "</main>",
    ]
    title = f"pytest-pipeline · {data.title}"
    if data.gate is not None:
        title = f"{_str(data.gate.get('headline')) or 'gate'} · {data.title}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">"
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>\n<body>"
        + "\n".join(part for part in body if part)
        + "\n</body></html>\n"
    )


def write(data: ReportData, path: Path) -> Path:
    """Render and write atomically (a browser open on the old file never sees half a page)."""
    fileio.write_text_atomic(path, render(data, path))
    return path
