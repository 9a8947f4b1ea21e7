"""What tools leave in a project that is never source: one list, two uses (and our own folder).

* ``runner.snapshot`` leaves these out of what a build reads and of the key its wheel is
  cached under, so a test run, a cache or a report never gets into the package or forces
  a new build of an unchanged one;
* ``gate.provenance`` does not count them, untracked, as a dirty tree, so a release
  job's build output and test results don't make publish refuse.

Both questions are "could this end up in (or change) the built package?", so they
must get the same answer. A folder whose name could be a Python package (``build``,
``dist``, ``venv``) is output only at the top of the project: ``src/pkg/build/`` is a
subpackage that would be packaged. Names no package can have (``__pycache__``, dot
folders, ``*.egg-info``) are output wherever they are. Everything else is source.
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


OUTPUT_DIRS_ANYWHERE = frozenset(
    {
        # version control
        ".git",
        ".hg",
        ".svn",
        # build output, environments and tool caches no package can be named like
        ".eggs",
        ".tox",
        ".nox",
        ".venv",
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".hypothesis",
        OWN_DIR,
    }
)
OUTPUT_DIRS_AT_TOP = frozenset(
    {
        "build",
        "dist",
        "wheelhouse",
        "venv",
        "htmlcov",
        # ours (a configured reports folder elsewhere is passed in by the caller)
        DEFAULT_REPORTS_DIR,
    }
)

_COVERAGE_FILES = (".coverage", "coverage.xml")


def is_output_dir(name: str, *, top: bool) -> bool:
    """A folder that holds tool output: listed above (``top``: the folder is directly in
    the project or repository root), or ``*.egg-info``."""
    return name in OUTPUT_DIRS_ANYWHERE or name.endswith(".egg-info") or (top and name in OUTPUT_DIRS_AT_TOP)


def is_output_file(name: str) -> bool:
    """A file name coverage.py writes: ``.coverage``, ``.coverage.<host>.<pid>``, ``coverage.xml``."""
    return name in _COVERAGE_FILES or name.startswith(".coverage.")
