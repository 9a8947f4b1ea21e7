"""Which cell and stage a testcase belongs to, and how its names show the cell.

Cell of a testcase: the closest ``cell`` property (testcase properties, legacy xunit1,
then the enclosing suites'), else the caller's default cell, else the file's path:
the orchestrator writes ``pipeline-reports/cells/<cell>/junit.xml`` and CI fan-in jobs
download folders like ``results-<cell>/cells/<cell>/junit.xml``, so a file named
``junit.xml`` takes its folder's name and any other file its stem
(``py311-django42.xml`` -> ``py311-django42``).

Stage: the closest ``stage`` property the same way, else the default stage.

Names in the merged file: ``classname="<cell>.<classname>"`` and ``name="<name>
[<cell>]"``, so the cell shows whichever of the two a reporter displays or groups by
(docs/merge.md, "How a test that ran in several cells looks"). Each merged suite carries
the property :data:`NAMING_PROPERTY`, so reading a merged file back (a fan-in of fan-ins) recovers the
original names instead of adding the cell twice.
"""

from __future__ import annotations

from pathlib import Path

NAMING_PROPERTY = "pytest-pipeline.naming"
NAMING_VALUE = "cell-in-names"
NOT_MERGED_PROPERTY = "pytest-pipeline.not-merged"
"""Marks the merged file's suite of inputs the merge left out (value: how many). Its
testcases are no tests: each names one input and why (see :mod:`pytest_pipeline.junit.render`).
The reader knows the suite by this property, never by its name alone."""
NOT_MERGED_SUITE = "pytest-pipeline: inputs not merged"
NOT_MERGED_TYPE = "pytest-pipeline.not-merged"
PROPERTIES = frozenset({"stage", "cell", NAMING_PROPERTY, NOT_MERGED_PROPERTY})
"""The properties the reader looks at; every other property is ignored."""

_REPORT_FILE = "junit.xml"


def cell_from_path(path: Path) -> str:
    """The cell a result file belongs to when nothing inside the file says it."""
    if path.name == _REPORT_FILE:
        folder = path.parent.name or path.resolve().parent.name
        if folder:
            return folder
    return path.stem


def display_names(cell: str, classname: str, name: str) -> tuple[str, str]:
    """``(classname, name)`` as written in the merged file."""
    return (f"{cell}.{classname}" if classname else cell), f"{name} [{cell}]"


def original_names(cell: str, classname: str, name: str) -> tuple[str, str]:
    """Undo :func:`display_names` (names in a file this tool merged)."""
    if classname == cell:
        classname = ""
    elif classname.startswith(cell + "."):
        classname = classname[len(cell) + 1 :]
    suffix = f" [{cell}]"
    if name.endswith(suffix):
        name = name[: -len(suffix)]
    return classname, name
