"""The report's matrix: interpreters as rows, dependency sets as columns, and in each slot
its cells with one mark per stage, which says in a colour, a symbol and words how it went."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pytest_pipeline.results import Counts
from pytest_pipeline.run_record import CellRecord

NO_PYTHON = "(tool's interpreter)"
NO_DEPENDENCIES = "-"


@dataclass(frozen=True)
class StageMark:
    """How one stage went in one cell: a state (which colour and symbol) and a label that
    says the same in words, so the grid is never colour-only."""

    stage: str
    state: str
    """passed, flaky, failed, blocked, skipped, empty, not-run."""
    detail: str

    @property
    def label(self) -> str:
        return f"{self.stage}: {self.detail}"


def stage_mark(stage: str, counts: Counts | None) -> StageMark:
    if counts is None:
        return StageMark(stage, "not-run", "not run")
    parts = [
        f"{number} {label}"
        for number, label in (
            (counts.failed, "failed"),
            (counts.errors, "error" if counts.errors == 1 else "errors"),
            (counts.blocked, "blocked"),
            (counts.passed, "passed"),
            (counts.flaky, "flaky"),
            (counts.skipped, "skipped"),
        )
        if number
    ]
    if counts.failed or counts.errors:
        state = "failed"
    elif counts.blocked:
        state = "blocked"
    elif counts.ran == 0:
        state = "skipped" if counts.skipped else "empty"
    elif counts.flaky:
        state = "flaky"
    else:
        state = "passed"
    return StageMark(stage, state, ", ".join(parts) or "no tests")


def cell_marks(
    cell: CellRecord, stages: Sequence[str], groups: Mapping[tuple[str, str], Counts]
) -> list[StageMark]:
    """One mark per stage of the run; a stage the cell does not run is left out."""
    runs = set(cell.stages) if cell.stages else set(stages)
    return [stage_mark(stage, groups.get((cell.name, stage))) for stage in stages if stage in runs]


@dataclass(frozen=True)
class Grid:
    """Interpreters as rows, dependency sets as columns; each slot holds the cells with
    that interpreter and dependency set (usually one). ``by_name`` is the fallback when
    the cells say neither: one row per cell."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    slots: Mapping[tuple[str, str], tuple[CellRecord, ...]]
    by_name: bool = False


def dependency_set(cell: CellRecord) -> str:
    return (
        ", ".join(f"{key}={value}" if value else key for key, value in cell.factors.items())
        or NO_DEPENDENCIES
    )


def _version_key(text: str) -> tuple[int, str, tuple[int, ...], str]:
    """CPython versions in numeric order (3.9 before 3.10), then other implementations
    (``pypy3.10``) by name and version, then anything else."""
    match = re.match(r"^([a-z]*)(\d+(?:\.\d+)*)", text)
    if match is None:
        return (2, "", (), text)
    prefix = match.group(1)
    return (1 if prefix else 0, prefix, tuple(int(part) for part in match.group(2).split(".")), text)


def build_grid(cells: Sequence[CellRecord]) -> Grid:
    if not any(cell.python or cell.factors for cell in cells):
        names = tuple(cell.name for cell in cells)
        return Grid(names, ("",), {(cell.name, ""): (cell,) for cell in cells}, by_name=True)
    rows = sorted(dict.fromkeys(cell.python or NO_PYTHON for cell in cells), key=_version_key)
    columns = list(dict.fromkeys(dependency_set(cell) for cell in cells))
    slots: dict[tuple[str, str], tuple[CellRecord, ...]] = {}
    for cell in cells:
        key = (cell.python or NO_PYTHON, dependency_set(cell))
        slots[key] = (*slots.get(key, ()), cell)
    return Grid(tuple(rows), tuple(columns), slots)
