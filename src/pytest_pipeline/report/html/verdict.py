"""The parts of the page that ``gate.json`` fills: the verdict banner, why the gate is
closed, its notes, quarantined tests, and the provenance of what was tested."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pytest_pipeline import __version__
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.report.html.text import cell_stage, counted, esc, safe_url, when
from pytest_pipeline.report.model import ReportData
from pytest_pipeline.report.untrusted import JsonObject, as_dict, as_list, as_str
from pytest_pipeline.results import Counts
from pytest_pipeline.run_record import RunRecord

MAX_REASONS = 200
"""Gate reasons and notes listed; gate.json has them all."""

_MEANING = {code.value: code.meaning for code in ExitCode}


def banner(data: ReportData) -> str:
    gate = data.gate
    if gate is not None:
        code = gate.get("code")
        is_open = gate.get("verdict") == "open" and code == 0
        headline = as_str(gate.get("headline")) or ("GATE OPEN (0)" if is_open else f"GATE CLOSED ({code})")
        meaning = _MEANING.get(code, "") if isinstance(code, int) else ""
    else:
        is_open = False
        headline = "No gate verdict (gate.json is missing)"
        meaning = "run `pytest-pipeline gate` to decide"
    git = as_dict((gate or {}).get("git"))
    facts: list[str] = []
    if meaning:
        facts.append(
            f"exit code {esc(gate.get('code') if gate else '')} · {esc(meaning)}" if gate else esc(meaning)
        )
    commit = as_str(git.get("commit"))
    if commit:
        branch = as_str(git.get("branch"))
        facts.append(f"commit <code>{esc(commit[:12])}</code>" + (f" on {esc(branch)}" if branch else ""))
    cells = data.cells
    if cells:
        facts.append(counted(len(cells), "cell"))
    total = Counts()
    for counts in data.groups.values():
        total.update(counts)
    if total.tests:
        facts.append(counted(total.tests, "test") + " in total")
    if data.run is not None and data.run.finished:
        facts.append(f"finished {esc(when(data.run.finished))}")
    state = "open" if is_open else "closed"
    return (
        f'<header class="verdict {state}" role="banner"><div class="inner">'
        f"<h1>pytest-pipeline · {esc(data.title)}</h1>"
        f'<p class="headline">{esc(headline)}</p>'
        f'<p class="meta">{" · ".join(facts)}</p></div></header>'
    )


def reasons_section(data: ReportData) -> str:
    gate = data.gate or {}
    reasons = [as_dict(item) for item in as_list(gate.get("reasons"))]
    notes = [as_dict(item) for item in as_list(gate.get("notes"))]
    out: list[str] = []
    if reasons:
        out.append(f'<h2 id="why">Why the gate is closed <span class="count">({len(reasons)})</span></h2>')
        out.append(_reason_table(reasons, code=True))
    if notes:
        out.append(f'<h2 id="notes">Notes <span class="count">({len(notes)})</span></h2>')
        out.append(_reason_table(notes, code=False))
    return "".join(out)


def _reason_table(items: Sequence[JsonObject], *, code: bool) -> str:
    head = "<th>code</th>" if code else ""
    out = [f'<div class="scroll"><table class="list"><thead><tr>{head}<th>kind</th><th>where</th>']
    out.append("<th>message</th></tr></thead><tbody>")
    for item in items[:MAX_REASONS]:
        cells = f'<td class="num">{esc(item.get("code", ""))}</td>' if code else ""
        where = cell_stage(as_str(item.get("cell")), as_str(item.get("stage")))
        test = as_str(item.get("test"))
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


def quarantined_section(data: ReportData) -> str:
    items = [as_dict(item) for item in as_list((data.gate or {}).get("quarantined"))]
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
        entry = as_dict(item.get("quarantine"))
        out.append(
            f'<tr><td><code class="test">{esc(item.get("id", ""))}</code></td>'
            f"<td>{cell_stage(as_str(item.get('cell')), as_str(item.get('stage')))}</td>"
            f"<td>{esc(entry.get('reason', ''))}</td><td>{esc(entry.get('expires', ''))}</td>"
            f'<td class="test">{esc(item.get("message", ""))}</td></tr>'
        )
    out.append("</tbody></table></div>")
    return "".join(out)


def _facts(rows: Iterable[tuple[str, str]]) -> str:
    return '<dl class="facts">' + "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in rows if v) + "</dl>"


def provenance_section(data: ReportData) -> str:
    gate = data.gate or {}
    run = data.run
    rows = _git_rows(as_dict(gate.get("git")))
    ci = as_dict(gate.get("ci"))
    if ci:
        rows.append(("CI", _ci_text(ci)))
    artifacts = _artifacts_text(gate, run)
    if artifacts:
        rows.append(("tested artifacts", artifacts))
    if run is not None and (run.started or run.finished):
        rows.append(("run", f"{esc(when(run.started))} → {esc(when(run.finished))}"))
        if run.interrupted:
            rows.append(("interrupted", "yes"))
    if gate.get("finished"):
        rows.append(("gate decided", esc(when(gate.get("finished")))))
    tools = as_dict(gate.get("tools")) or (dict(run.tool_versions) if run else {})
    if tools:
        rows.append(("tools", esc(", ".join(f"{name} {version}" for name, version in tools.items()))))
    rows.append(("report", f"{esc(when(data.generated))} by pytest-pipeline {esc(__version__)}"))
    return '<h2 id="provenance">Provenance</h2>' + _facts(rows)


def _git_rows(git: JsonObject) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    commit = as_str(git.get("commit"))
    if commit:
        rows.append(("commit", f"<code>{esc(commit)}</code>"))
    branch = as_str(git.get("branch")) or as_str(git.get("ref"))
    if branch:
        rows.append(("branch", esc(branch)))
    if "dirty" in git:
        dirty_paths = [esc(path) for path in as_list(git.get("dirty_paths"))[:20]]
        text = "yes: uncommitted changes" if git.get("dirty") else "no: clean tree"
        if dirty_paths:
            text += "<br>" + "<br>".join(f"<code>{path}</code>" for path in dirty_paths)
        rows.append(("dirty", text))
    return rows


def _ci_text(ci: JsonObject) -> str:
    text = esc(ci.get("provider") or ci.get("name") or "CI")
    run_id = ci.get("run_id")
    if run_id:
        text += f" run {esc(run_id)}"
    url = safe_url(ci.get("url") or ci.get("run_url"))
    if url:
        text += f' · <a href="{esc(url)}" rel="noreferrer noopener">{esc(url)}</a>'
    return text


def _artifacts_text(gate: JsonObject, run: RunRecord | None) -> str:
    """The artifacts the gate says were tested, else those of the run record."""
    artifacts = [as_dict(item) for item in as_list(gate.get("artifacts"))]
    if not artifacts and run is not None:
        artifacts = [item.to_dict() for item in ((run.artifact,) if run.artifact else ())]
        artifacts += [item.to_dict() for item in run.artifacts]
    return "<br>".join(
        f'{esc(item.get("name", ""))} <span class="muted">sha256</span> '
        f"<code>{esc(item.get('sha256', ''))}</code>"
        for item in artifacts
    )
