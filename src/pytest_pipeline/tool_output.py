"""What tools leave in a project that is never source: one list, two uses (and our own folder).

* ``runner.build`` leaves these out of the source fingerprint, so a test run, a cache
  or a report never forces a new build of an unchanged package;
* ``gate.provenance`` does not count them, untracked, as a dirty tree, so a release
  job's build output and test results don't make publish refuse.

Both questions are "could this end up in (or change) the built package?", so they
must get the same answer. A name anywhere in a path counts (``dist`` at the top,
``__pycache__`` in every package); everything not listed here is source.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from pytest_pipeline.config import DEFAULT_REPORTS_DIR

OWN_DIR = ".pytest-pipeline"
"""Our folder in the project (discovery cache, builds, re-run scratch), ignored by git
through its own ``.gitignore``."""


def own_dir(project: Path) -> Path:
    """``<project>/.pytest-pipeline``, created with a ``.gitignore`` ignoring all of it
    (like ``.pytest_cache``), so nothing we keep there is ever committed or makes the
    next run's tree look dirty, whatever the project's own ``.gitignore`` says."""
    folder = project / OWN_DIR
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        with contextlib.suppress(OSError):
            ignore.write_text("# created by pytest-pipeline\n*\n", encoding="utf-8")
    return folder


OUTPUT_DIRS = frozenset(
    {
        # version control
        ".git",
        ".hg",
        ".svn",
        # build output
        "build",
        "dist",
        "wheelhouse",
        ".eggs",
        # environments and tool caches
        ".tox",
        ".nox",
        ".venv",
        "venv",
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".hypothesis",
        "htmlcov",
        # ours (a configured reports folder elsewhere is passed in by the caller)
        DEFAULT_REPORTS_DIR,
        OWN_DIR,
    }
)

_COVERAGE_FILES = (".coverage", "coverage.xml")


def is_output_dir(name: str) -> bool:
    """A folder name that holds tool output: listed above, or ``*.egg-info``."""
    return name in OUTPUT_DIRS or name.endswith(".egg-info")


def is_output_file(name: str) -> bool:
    """A file name coverage.py writes: ``.coverage``, ``.coverage.<host>.<pid>``, ``coverage.xml``."""
    return name in _COVERAGE_FILES or name.startswith(".coverage.")
