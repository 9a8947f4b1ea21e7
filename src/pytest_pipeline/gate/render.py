"""The terminal verdict, readable in five seconds.

::

    GATE CLOSED (1): 3 failed in 2 cells
    required: stages unit, integration · cells * (2)
                 unit            integration
      py310      12 passed       ✗ 2 failed
      py312      12 passed       ✗ 1 failed, 1 flaky
    reasons (3):
      py310 · integration · tests.test_api::test_upload — failed: assert 500 == 200
      ...
    flaky (allowed): py312 · integration · tests.test_api::test_retry (2 attempts)
    gate file: pipeline-reports/gate.json

Plain text, with colour on the first line only on a terminal (``NO_COLOR`` turns it
off, ``FORCE_COLOR`` on): it is printed in every CI log and must stay fast and quiet.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import IO

from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.gate.evidence import GateResults
from pytest_pipeline.gate.findings import Kind, NoteKind, Reason, ReasonKind
from pytest_pipeline.gate.verdict import Verdict
from pytest_pipeline.results import Counts

MAX_REASONS = 10
MAX_ROWS = 24
MAX_LISTED = 5

_PHRASES: dict[ReasonKind, tuple[str, str]] = {
    ReasonKind.FAILED: ("failed", "failed"),
    ReasonKind.ERROR: ("errored", "errored"),
    ReasonKind.BLOCKED: ("blocked stage", "blocked stages"),
    ReasonKind.FLAKY: ("flaky", "flaky"),
    ReasonKind.QUARANTINE_EXPIRED: ("failed (quarantine expired)", "failed (quarantine expired)"),
    ReasonKind.CELL_FAILED: ("cell failed outside its tests", "cells failed outside their tests"),
    ReasonKind.ARTIFACT_MISMATCH: ("artifact mismatch", "artifact mismatches"),
    ReasonKind.STALE_RESULTS: ("stale run record", "stale run records"),
    ReasonKind.MISSING_CELL: ("cell missing", "cells missing"),
    ReasonKind.NO_REPORT: ("cell without report", "cells without report"),
    ReasonKind.CRASHED: ("cell crashed", "cells crashed"),
    ReasonKind.ENV_ERROR: ("environment failed", "environments failed"),
    ReasonKind.MISSING_INTERPRETER: ("interpreter missing", "interpreters missing"),
    ReasonKind.UNFINISHED: ("cell unfinished", "cells unfinished"),
    ReasonKind.UNFINISHED_RUN: ("unfinished run", "unfinished runs"),
    ReasonKind.TIMED_OUT: ("cell timed out", "cells timed out"),
    ReasonKind.CANCELLED: ("cell cancelled", "cells cancelled"),
    ReasonKind.UNREADABLE: ("unreadable file", "unreadable files"),
    ReasonKind.INTERRUPTED: ("interrupted", "interrupted"),
    ReasonKind.EMPTY_STAGE: ("empty stage", "empty stages"),
    ReasonKind.REUSED_RESULTS: ("cell with reused results", "cells with reused results"),
}


def headline(verdict: Verdict) -> str:
    if verdict.open:
        counts = f": {_open_summary(verdict)}" if verdict.warned else ""
        return f"GATE OPEN (0){counts}"
    return f"GATE CLOSED ({int(verdict.code)}): {summarize_reasons(verdict.reasons)}"


def _open_summary(verdict: Verdict) -> str:
    parts = []
    if verdict.flaky:
        parts.append(f"{len(verdict.flaky)} flaky allowed")
    if verdict.quarantined:
        parts.append(f"{len(verdict.quarantined)} quarantined")
    others = [n for n in verdict.notes if n.kind not in (ReasonKind.FLAKY, NoteKind.QUARANTINED)]
    if others:
        parts.append(f"{len(others)} note{'s' if len(others) != 1 else ''}")
    return ", ".join(parts)


def summarize_reasons(reasons: tuple[Reason, ...]) -> str:
    """``3 failed in 2 cells, 1 cell missing``: the winning code's reasons first."""
    by_kind: dict[ReasonKind, list[Reason]] = {}
    for reason in reasons:
        by_kind.setdefault(reason.kind, []).append(reason)
    parts = []
    for kind, items in by_kind.items():
        singular, plural = _PHRASES.get(kind, (kind.value, kind.value))
        if kind in (ReasonKind.FAILED, ReasonKind.ERROR, ReasonKind.FLAKY, ReasonKind.QUARANTINE_EXPIRED):
            cells = {r.cell for r in items}
            where = f" in {len(cells)} cell{'s' if len(cells) != 1 else ''}" if any(cells) else ""
            parts.append(f"{len(items)} {singular}{where}")
        elif kind is ReasonKind.INTERRUPTED:
            parts.append("interrupted")
        else:
            parts.append(f"{len(items)} {singular if len(items) == 1 else plural}")
    return ", ".join(parts) or "no reason recorded"


# What a cell-level finding shows in every stage column of the grid.
_STATUS_TEXT: dict[Kind, str] = {
    ReasonKind.MISSING_CELL: "✗ missing",
    ReasonKind.NO_REPORT: "✗ no report",
    ReasonKind.CRASHED: "✗ crashed",
    ReasonKind.ENV_ERROR: "✗ env failed",
    ReasonKind.MISSING_INTERPRETER: "— no interpreter",
    ReasonKind.UNFINISHED: "✗ unfinished",
    ReasonKind.TIMED_OUT: "✗ timed out",
    ReasonKind.CANCELLED: "— cancelled",
    ReasonKind.INTERRUPTED: "✗ interrupted",
    ReasonKind.CELL_FAILED: "✗ commands failed",
    ReasonKind.REUSED_RESULTS: "✗ reused, refused",
    NoteKind.NO_PYTEST: "— no pytest, exit 0",
}


def _cell_text(counts: Counts | None, bad_status: Kind | None) -> str:
    if bad_status:
        return _STATUS_TEXT.get(bad_status, f"✗ {bad_status.value}")
    if counts is None or counts.tests == 0:
        return "— no tests"
    if counts.bad:
        parts = [
            f"{n} {word}"
            for n, word in ((counts.failed, "failed"), (counts.errors, "errors"), (counts.blocked, "blocked"))
            if n
        ]
        text = "✗ " + ", ".join(parts)
    elif counts.ran == 0:
        return f"— {counts.skipped} skipped"
    else:
        text = f"{counts.passed} passed"
    if counts.flaky:
        text += f", {counts.flaky} flaky"
    return text


def grid(verdict: Verdict, results: GateResults) -> list[str]:
    """The required stages x cells in one compact block."""
    stages = list(verdict.required_stages)
    cells = list(verdict.required_cells)
    if not stages or not cells:
        return []
    groups: Mapping[tuple[str, str], Counts] = results.summary.groups
    reported = {cell for cell, _ in groups}
    status: dict[str, Kind] = {}
    for reason in verdict.reasons:
        # A cell that failed after its tests shows their counts; one without any (a
        # lint cell that runs no pytest) shows that its commands failed.
        if not reason.cell or reason.stage is not None:
            continue
        if reason.kind is not ReasonKind.CELL_FAILED or reason.cell not in reported:
            status.setdefault(reason.cell, reason.kind)
    for note in verdict.notes:
        if note.cell and note.kind in (
            ReasonKind.MISSING_INTERPRETER,
            ReasonKind.CANCELLED,
            NoteKind.NO_PYTEST,
        ):
            status.setdefault(note.cell, note.kind)
    rows = [
        [cell] + [_cell_text(groups.get((cell, stage)), status.get(cell)) for stage in stages]
        for cell in cells[:MAX_ROWS]
    ]
    header = ["", *stages]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  " + "  ".join(text.ljust(widths[i]) for i, text in enumerate(header)).rstrip()]
    lines += ["  " + "  ".join(text.ljust(widths[i]) for i, text in enumerate(row)).rstrip() for row in rows]
    if len(cells) > MAX_ROWS:
        lines.append(f"  ... and {len(cells) - MAX_ROWS} more cells (see gate.json)")
    return lines


def _where(cell: str | None, stage: str | None, test: str | None) -> str:
    return " · ".join(part for part in (cell, stage, test) if part)


def lines(verdict: Verdict, results: GateResults, gate_path: str | None) -> list[str]:
    out = [headline(verdict)]
    cell_patterns = ", ".join(verdict.cell_patterns)
    out.append(
        f"required: stages {', '.join(verdict.required_stages) or '(none)'} · "
        f"cells {cell_patterns} ({len(verdict.required_cells)} found)"
    )
    out += grid(verdict, results)
    if verdict.reasons:
        shown = verdict.reasons[:MAX_REASONS]
        more = len(verdict.reasons) - len(shown)
        out.append(f"reasons ({len(verdict.reasons)}{', first ' + str(len(shown)) if more else ''}):")
        for reason in shown:
            where = _where(reason.cell, reason.stage, reason.test)
            out.append(f"  [{int(reason.code)}] {where + ' — ' if where else ''}{reason.message}")
        if more:
            out.append(f"  ... {more} more in gate.json")
    listed: tuple[tuple[str, Kind | None], ...] = (
        ("flaky", ReasonKind.FLAKY),
        ("quarantined", NoteKind.QUARANTINED),
        ("notes", None),
    )
    for title, kind in listed:
        notes = [
            n
            for n in verdict.notes
            if (n.kind is kind if kind else n.kind not in (ReasonKind.FLAKY, NoteKind.QUARANTINED))
        ]
        if not notes:
            continue
        out.append(f"{title} ({len(notes)}):")
        for note in notes[:MAX_LISTED]:
            where = _where(note.cell, note.stage, note.test)
            out.append(f"  {where + ' — ' if where else ''}{note.message}")
        if len(notes) > MAX_LISTED:
            out.append(f"  ... {len(notes) - MAX_LISTED} more in gate.json")
    if verdict.baseline is not None:
        diff = verdict.baseline
        out.append(
            f"baseline {diff.source}: {len(diff.new_failures)} new failures, "
            f"{len(diff.still_failing)} still failing, {len(diff.fixed)} fixed"
        )
    if gate_path:
        out.append(f"gate file: {gate_path}")
    return out


def use_colour(stream: IO[str], environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def show(verdict: Verdict, results: GateResults, gate_path: str | None, stream: IO[str]) -> None:
    text = lines(verdict, results, gate_path)
    if use_colour(stream):
        colour = "32" if verdict.code is ExitCode.OK else "31"
        text[0] = f"\x1b[1;{colour}m{text[0]}\x1b[0m"
    stream.write("\n".join(text) + "\n")
