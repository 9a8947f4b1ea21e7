"""Tests that did not simply pass: failures with their tracebacks one click away (in
``<details>``, no script needed), tests blocked by an earlier stage, and flaky passes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pytest_pipeline.report.html.text import cell_stage, counted, esc, esc_block
from pytest_pipeline.report.model import FailureDetail, ReportData
from pytest_pipeline.results import TestRef


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
        f'<span class="where">{cell_stage(failure.cell, failure.stage)}</span>'
        f'<span class="msg">{esc(message)}</span></summary>{"".join(body)}</details>'
    )


def failures_section(data: ReportData, anchors: Mapping[str, str]) -> str:
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
            f'<p class="note">{counted(data.failures_omitted, "more failure")} not shown: '
            "the merged junit.xml has them all.</p>"
        )
    return "".join(out)


def _refs_table(refs: Sequence[TestRef], *, message_header: str) -> str:
    out = ['<div class="scroll"><table class="list"><thead><tr><th>test</th><th>cell · stage</th>']
    out.append(f"<th>attempts</th><th>{esc(message_header)}</th></tr></thead><tbody>")
    for ref in refs:
        out.append(
            f'<tr><td><code class="test">{esc(ref.test_id)}</code></td>'
            f"<td>{cell_stage(ref.cell, ref.stage)}</td>"
            f'<td class="num">{ref.attempts}</td><td class="test">{esc(ref.message)}</td></tr>'
        )
    out.append("</tbody></table></div>")
    return "".join(out)


def blocked_section(data: ReportData) -> str:
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
        out.append(
            f"<tr><td>{cell_stage(cell, stage)}</td><td>{names}</td><td>{esc(refs[0].message)}</td></tr>"
        )
    out.append("</tbody></table></div>")
    if data.blocked_omitted:
        out.append(f'<p class="note">{counted(data.blocked_omitted, "more blocked test")} not listed.</p>')
    return "".join(out)


def flaky_section(data: ReportData) -> str:
    total = len(data.flaky) + data.flaky_omitted
    out = [f'<h2 id="flaky">Flaky <span class="count">({total})</span></h2>']
    if not total:
        out.append('<p class="note">No test needed a retry to pass.</p>')
        return "".join(out)
    out.append('<p class="note">Passed only after failed attempts.</p>')
    out.append(_refs_table(data.flaky, message_header="how an attempt failed"))
    if data.flaky_omitted:
        out.append(f'<p class="note">{counted(data.flaky_omitted, "more flaky test")} not listed.</p>')
    return "".join(out)
