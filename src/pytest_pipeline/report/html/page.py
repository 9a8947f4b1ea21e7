"""The page: its sections in order, in one self-contained document with the stylesheet
(``report.css``) inlined."""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from pytest_pipeline import __version__, fileio
from pytest_pipeline.report.grid import build_grid
from pytest_pipeline.report.html.cells import cells_section, slowest_section
from pytest_pipeline.report.html.failures import blocked_section, failures_section, flaky_section
from pytest_pipeline.report.html.matrix import legend, matrix_table
from pytest_pipeline.report.html.text import counted, esc
from pytest_pipeline.report.html.verdict import (
    MAX_REASONS,
    banner,
    provenance_section,
    quarantined_section,
    reasons_section,
)
from pytest_pipeline.report.model import ReportData
from pytest_pipeline.report.untrusted import as_list, as_str

COLOURS = {
    "passed": "#1a7f37",
    "flaky": "#9a6700",
    "failed": "#cf222e",
    "blocked": "#bc4c00",
    "skipped": "#6e7781",
    "not-run": "#d0d7de",
}
"""Background of each stage state's mark (white symbol on it; dark on ``not-run``)."""


@functools.cache
def stylesheet() -> str:
    """``report.css``, after the stage states' colours (:data:`COLOURS`) as CSS variables."""
    colours = " ".join(f"--{state}: {colour};" for state, colour in COLOURS.items())
    css = resources.files(__package__).joinpath("report.css").read_text(encoding="utf-8")
    return f":root {{ {colours} }}\n{css}"


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


def _nav(data: ReportData) -> str:
    links = [("matrix", "Matrix")]
    if data.gate and as_list(data.gate.get("reasons")):
        links.append(("why", "Why closed"))
    links.append(("failures", f"Failures ({len(data.failures) + data.failures_omitted})"))
    if data.blocked:
        links.append(("blocked", "Blocked"))
    links.append(("flaky", "Flaky"))
    if data.gate and as_list(data.gate.get("quarantined")):
        links.append(("quarantined", "Quarantined"))
    if data.slowest_tests or data.slowest_cells():
        links.append(("slowest", "Slowest"))
    links += [("cells", "Cells"), ("provenance", "Provenance")]
    return (
        '<nav aria-label="sections">' + "".join(f'<a href="#{a}">{esc(t)}</a>' for a, t in links) + "</nav>"
    )


def render(data: ReportData, output: Path | None = None) -> str:
    """The page for ``data``; ``output`` (where it will be written) makes log links relative to it."""
    cells = data.cells
    failing = list(dict.fromkeys(failure.cell for failure in data.failures))
    anchors = {cell: f"failures-of-{number}" for number, cell in enumerate(failing, 1)}
    body = [
        banner(data),
        _nav(data),
        "<main>",
        _problems(data),
        f'<h2 id="matrix">Matrix <span class="count">({counted(len(cells), "cell")} \u00d7 '
        f"{counted(len(data.stages), 'stage')})</span></h2>",
        matrix_table(build_grid(cells), data, anchors) if cells else '<p class="note">No cells.</p>',
        legend(),
        reasons_section(data),
        failures_section(data, anchors),
        blocked_section(data),
        flaky_section(data),
        quarantined_section(data),
        slowest_section(data),
        cells_section(data, output),
        provenance_section(data),
        f"<footer>Written by pytest-pipeline {esc(__version__)}. Self-contained: no scripts, "
        "nothing fetched from the network.</footer>",
        "</main>",
    ]
    title = f"pytest-pipeline · {data.title}"
    if data.gate is not None:
        title = f"{as_str(data.gate.get('headline')) or 'gate'} · {data.title}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">"
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{stylesheet()}</style></head>\n<body>"
        + "\n".join(part for part in body if part)
        + "\n</body></html>\n"
    )


def write(data: ReportData, path: Path) -> Path:
    """Render and write atomically (a browser open on the old file never sees half a page)."""
    fileio.write_text_atomic(path, render(data, path))
    return path
