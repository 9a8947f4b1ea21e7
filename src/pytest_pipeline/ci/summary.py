"""The Markdown summary of a run: verdict, cells x stages, failures, flaky, quarantined.

Built from a :class:`~pytest_pipeline.results.ResultSummary` and, when there is one,
the gate's verdict (a :class:`~pytest_pipeline.gate.record.GateRecord`, read from
``gate.json``). The result stays under a byte limit by leaving out whole table rows,
least important sections first, and saying how many were left out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pytest_pipeline.gate.record import GateRecord
from pytest_pipeline.results import Counts, ResultSummary, TestRef
from pytest_pipeline.run_record import describe_origin

SUMMARY_LIMIT = 65_000
"""Bytes. GitHub cuts job summaries and check-run texts at 65,535 characters (and refuses
larger step summaries); staying a little below leaves room for a trailing newline."""
MESSAGE_CHARS = 200
"""A failure message is cut to its first line and this many characters in a table."""

PASS, FAIL, NONE, WARN = "✓", "✗", "○", "⚠"
NOT_RUN = "\u2013"  # an en dash: the stage did not run in this cell


# --------------------------------------------------------------------------- gate.json -> inputs


def summary_from_gate(record: GateRecord) -> ResultSummary:
    """The :class:`ResultSummary` a ``gate.json`` carries (counts per cell and stage, the
    failures and flaky passes it lists)."""
    return ResultSummary(
        groups={group: dataclasses.replace(counts) for group, counts in record.counts.groups.items()},
        failures=list(record.failures),
        flaky=list(record.flaky),
        problems=list(record.inputs.problems),
    )


# --------------------------------------------------------------------------- text helpers


def escape(text: object) -> str:
    """Plain text that renders as itself in a GitHub-flavoured Markdown table cell."""
    value = str(text).replace("\r\n", "\n").replace("\r", "\n").replace("\n", " ")
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char in "\\|*_`[]#~":
        value = value.replace(char, "\\" + char)
    return value


def code(text: object) -> str:
    """A code span in a table cell (only ``|`` needs escaping there)."""
    value = str(text).replace("\n", " ")
    if "`" in value:
        return escape(value)
    return f"`{value.replace('|', chr(92) + '|')}`"


def first_line(message: str, limit: int = MESSAGE_CHARS) -> str:
    line = message.strip().splitlines()[0] if message.strip() else ""
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def describe(counts: Counts | None) -> str:
    """One matrix cell: a mark and the counts that matter."""
    if counts is None:
        return NOT_RUN
    parts: list[str] = []
    for number, label in (
        (counts.failed, "failed"),
        (counts.errors, "errors" if counts.errors != 1 else "error"),
        (counts.blocked, "blocked"),
        (counts.passed, "passed"),
        (counts.flaky, "flaky"),
        (counts.skipped, "skipped"),
    ):
        if number:
            parts.append(f"{number} {label}")
    if counts.bad:
        mark = FAIL
    elif counts.ran == 0:
        mark = NONE
        if not parts:
            parts.append("no tests")
    else:
        mark = PASS
    return f"{mark} {' · '.join(parts)}"


def _seconds(value: float) -> str:
    # Cells and totals only, never single tests (unlike the HTML page): one decimal is enough.
    return f"{value:.1f} s" if value < 600 else f"{value / 60:.1f} min"


# --------------------------------------------------------------------------- sections


@dataclass
class _Section:
    heading: str
    header: list[str]
    rows: list[str]
    what: str
    priority: int
    """Lower keeps its rows first when the summary must be cut."""
    footer: list[str] = field(default_factory=list)
    """Lines always kept after the rows (a totals row)."""


def _verdict_lines(verdict: GateRecord | None, total: Counts) -> list[str]:
    if verdict is None:
        title = "## pytest-pipeline results"
    else:
        is_open = verdict.verdict == "open"
        state = "✅ pytest-pipeline: gate open" if is_open else "❌ pytest-pipeline: gate closed"
        title = f"## {state} (exit {int(verdict.code)})"
    lines = [title, ""]
    if verdict is not None and verdict.headline:
        lines += [f"**{escape(verdict.headline)}**", ""]
    lines += [f"{total.tests} tests: {describe(total)[2:]} in {_seconds(total.time)}", ""]
    return lines


def _reason_rows(verdict: GateRecord | None) -> tuple[list[str], int]:
    """Bullets for the reasons that are not a failed test (those are in Failures)."""
    rows: list[str] = []
    test_reasons = 0
    for reason in verdict.reasons if verdict else ():
        if reason.test:
            test_reasons += 1
            continue
        where = " · ".join(escape(part) for part in (reason.cell, reason.stage) if part)
        message = escape(first_line(reason.message, 300))
        rows.append(f"- {'**' + where + '**: ' if where else ''}{message}")
    return rows, test_reasons


def _matrix(summary: ResultSummary, verdict: GateRecord | None, stages: Sequence[str]) -> _Section:
    columns = list(stages) or list(dict.fromkeys(stage for _, stage in summary.groups))
    for _, stage in summary.groups:
        if stage not in columns:
            columns.append(stage)
    header = [
        "| cell | " + " | ".join(escape(stage) for stage in columns) + " | time |",
        "|---|" + "---|" * len(columns) + "---:|",
    ]
    statuses: dict[str, str] = {}
    order = list(summary.cells)
    reused = (
        {known.name: known.reused_from for known in verdict.cells if known.reused_from} if verdict else {}
    )
    for known in verdict.cells if verdict else ():
        if known.name not in order:
            order.append(known.name)
        if not known.reported or known.name not in summary.cells:
            statuses[known.name] = known.status.value if known.status else ""
    rows: list[str] = []
    for cell in order:
        if cell in statuses and cell not in summary.cells:
            status = f" ({escape(statuses[cell])})" if statuses[cell] else ""
            marks = [f"{WARN} no results{status}"] + [NOT_RUN] * max(len(columns) - 1, 0)
            rows.append(f"| {escape(cell)} | " + " | ".join(marks) + f" | {NOT_RUN} |")
            continue
        marks = [describe(summary.groups.get((cell, stage))) for stage in columns]
        name = f"{escape(cell)} (reused)" if cell in reused else escape(cell)
        rows.append(f"| {name} | " + " | ".join(marks) + f" | {_seconds(summary.cell_total(cell).time)} |")
    totals = [describe(summary.stage_total(stage)) for stage in columns]
    footer = ["| **all cells** | " + " | ".join(totals) + f" | {_seconds(summary.total().time)} |"]
    footer += _reused_lines(reused)
    return _Section(f"### Matrix ({len(order)} cells)", header, rows, "cells", priority=1, footer=footer)


def _reused_lines(reused: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Below the matrix: which cells' results came from an earlier run, and which run."""
    by_origin: dict[str, list[str]] = {}
    for cell, origin in reused.items():
        by_origin.setdefault(describe_origin(origin), []).append(cell)
    lines = [f"(reused) {escape(', '.join(cells))}: {escape(origin)}" for origin, cells in by_origin.items()]
    return ["", *lines, "(their inputs were unchanged since that run)"] if lines else []


def _tests(title: str, refs: Sequence[TestRef], what: str, priority: int, *, flaky: bool = False) -> _Section:
    if flaky:
        header = ["| cell | stage | test | attempts |", "|---|---|---|---:|"]
        rows = [f"| {escape(r.cell)} | {escape(r.stage)} | {code(r.test_id)} | {r.attempts} |" for r in refs]
    else:
        header = ["| cell | stage | test | outcome | message |", "|---|---|---|---|---|"]
        rows = [
            f"| {escape(r.cell)} | {escape(r.stage)} | {code(r.test_id)} | {r.outcome.value} "
            f"| {escape(first_line(r.message))} |"
            for r in refs
        ]
    return _Section(f"### {title} ({len(refs)})", header, rows, what, priority)


def _quarantined(verdict: GateRecord | None) -> _Section:
    items = verdict.quarantined if verdict else ()
    header = ["| cell | stage | test | reason | expires |", "|---|---|---|---|---|"]
    rows = []
    for item in items:
        test, entry = item.test, item.entry
        rows.append(
            f"| {escape(test.cell)} | {escape(test.stage)} | {code(test.test_id)} "
            f"| {escape(first_line(entry.reason))} | {escape(entry.expires.isoformat())} |"
        )
    return _Section(f"### Quarantined ({len(items)})", header, rows, "quarantined tests", priority=5)


# --------------------------------------------------------------------------- build


def build_markdown(
    summary: ResultSummary,
    verdict: GateRecord | None = None,
    *,
    stages: Sequence[str] = (),
    limit: int = SUMMARY_LIMIT,
) -> str:
    """The whole summary, at most ``limit`` bytes of UTF-8.

    ``stages`` orders the matrix columns (default: the verdict's required stages,
    then the order stages first appear in). When the text would be too long, whole rows
    are left out, reasons and the matrix last, quarantined tests first, and each cut
    section says how many rows it does not show.
    """
    if not stages and verdict:
        stages = verdict.required.stages
    head = _verdict_lines(verdict, summary.total())
    reason_rows, test_reasons = _reason_rows(verdict)
    sections: list[_Section] = []
    if reason_rows or test_reasons:
        footer = (
            [f"- and {test_reasons} failed, errored or blocked tests (see Failures)"] if test_reasons else []
        )
        sections.append(_Section("### Why the gate is closed", [], reason_rows, "reasons", 0, footer))
    sections.append(_matrix(summary, verdict, stages))
    if summary.failures:
        sections.append(_tests("Failures", summary.failures, "failures", 2))
    if summary.flaky:
        sections.append(_tests("Flaky (passed on a rerun)", summary.flaky, "flaky tests", 3, flaky=True))
    quarantined = _quarantined(verdict)
    if quarantined.rows:
        sections.append(quarantined)
    if summary.problems:
        rows = [f"- {escape(p.path)}: {escape(first_line(p.message))}" for p in summary.problems]
        sections.append(_Section(f"### Unreadable inputs ({len(rows)})", [], rows, "inputs", 0))
    return _fit(head, sections, limit)


def _size(line: str) -> int:
    return len(line.encode("utf-8")) + 1  # the newline


def _note(section: _Section, left_out: int) -> str:
    return (
        f"_{left_out} of {len(section.rows)} {section.what} not shown to stay under the size limit; "
        "gate.json and the JUnit files have them all._"
    )


def _fit(head: list[str], sections: list[_Section], limit: int) -> str:
    fixed = sum(_size(line) for line in head)
    for section in sections:
        fixed += sum(_size(line) for line in [section.heading, "", *section.header, *section.footer, ""])
        if section.rows:
            fixed += _size("") + _size(_note(section, len(section.rows)))  # room for a note, in case
    budget = limit - fixed
    kept: dict[int, int] = {}
    for index in sorted(range(len(sections)), key=lambda i: sections[i].priority):
        count = 0
        for row in sections[index].rows:
            cost = _size(row)
            if cost > budget:
                break
            budget -= cost
            count += 1
        kept[index] = count
    lines = list(head)
    for index, section in enumerate(sections):
        count = kept[index]
        lines += [section.heading, ""]
        if count or section.footer:
            lines += section.header
        lines += [*section.rows[:count], *section.footer]
        if count < len(section.rows):
            # A blank line first: in GitHub's Markdown a line right after a table is a row.
            lines += ["", _note(section, len(section.rows) - count)]
        lines.append("")
    text = "\n".join(lines).rstrip("\n") + "\n"
    if len(text.encode("utf-8")) > limit:
        # Only the fixed parts are left and they are too long (a huge headline, hundreds
        # of stages): cut at a line boundary rather than exceed the limit.
        marker = "\n_… cut at the size limit._\n"
        room = limit - len(marker.encode("utf-8"))
        cut = text.encode("utf-8")[: max(room, 0)].decode("utf-8", "ignore")
        text = cut[: cut.rfind("\n") + 1].rstrip("\n") + marker
    return text
