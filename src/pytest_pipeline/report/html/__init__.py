"""One self-contained HTML page for a run: the matrix, the verdict, failures, timings.

Self-contained means: inline CSS (``report.css``, inlined), no script, no font, image or
stylesheet from anywhere. A ``Content-Security-Policy`` meta tag (``default-src 'none'``)
makes the browser enforce that, so even a mistake in escaping could neither run a script
nor fetch anything.
Tracebacks sit in ``<details>`` elements: one click away, no JavaScript needed.

Everything shown comes from files a pull request's build may have written (test names,
messages, tracebacks, cell names, CI URLs): all of it goes through :func:`esc`, links only
ever point to ``http(s)://`` URLs or to files inside the reports folder.

The page is assembled in :mod:`.page` from its sections: :mod:`.verdict` (what
``gate.json`` says), :mod:`.matrix` (the grid of cells and stages), :mod:`.failures`
(failed, blocked and flaky tests), :mod:`.cells` (the slowest tests and cells, the cells'
table); :mod:`.text` escapes and formats.
"""

from __future__ import annotations

from pytest_pipeline.report.html.page import COLOURS, render, write
from pytest_pipeline.report.html.text import esc, safe_url, seconds

__all__ = ["COLOURS", "esc", "render", "safe_url", "seconds", "write"]
