"""Safe, streaming JUnit XML reading and merging.

- :func:`summarize` reads result files into a :class:`~pytest_pipeline.results.ResultSummary`
  (counts per cell and stage, failures, flaky passes, unreadable files);
- :func:`merge` does the same and writes one merged JUnit file;
- :func:`expand_inputs` turns command-line arguments (files, globs, folders) into files.

How a file flows through the package: :mod:`.reader` opens it safely and feeds expat, whose
:mod:`.handlers` turn elements into :mod:`.records` (texts capped by :mod:`.text`);
:mod:`.collapse` folds rerun attempts into one test; :mod:`.pipeline` counts each test and
hands it to :mod:`.writer`, which streams the merged file (each test rendered by
:mod:`.render`). :mod:`.identity` says which cell and stage a testcase belongs to;
:mod:`.inputs` expands command-line arguments.

Imported by the command line, the gate and the orchestrator only; never by the pytest plugin.
"""

from __future__ import annotations

from pytest_pipeline.junit.inputs import expand_inputs
from pytest_pipeline.junit.pipeline import DEFAULT_MAX_TEXT, merge, summarize

__all__ = ["DEFAULT_MAX_TEXT", "expand_inputs", "merge", "summarize"]
