"""Safe, streaming JUnit XML reading and merging.

- :func:`summarize` reads result files into a :class:`~pytest_pipeline.results.ResultSummary`
  (counts per cell and stage, failures, flaky passes, unreadable files);
- :func:`merge` does the same and writes one merged JUnit file;
- :func:`expand_inputs` turns command-line arguments (files, globs, folders) into files.

Imported by the command line, the gate and the orchestrator only; never by the pytest plugin.
"""

from __future__ import annotations

from pytest_pipeline.junit.inputs import expand_inputs
from pytest_pipeline.junit.pipeline import DEFAULT_MAX_TEXT, merge, summarize

__all__ = ["DEFAULT_MAX_TEXT", "expand_inputs", "merge", "summarize"]
