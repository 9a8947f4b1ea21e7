"""What the gate decides on: the results read from disk, as plain data.

:mod:`pytest_pipeline.gate.inputs` builds it from files; tests build it by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pytest_pipeline.results import ResultSummary
from pytest_pipeline.run_record import Artifact, RunRecord


@dataclass(frozen=True)
class CellReport:
    """A run-record cell's JUnit file, as the gate found it."""

    path: str | None
    """The file (None when the run record names none)."""
    readable: bool
    problem: str | None = None
    """Why it could not be used: missing, truncated, unsafe, outside the run folder..."""


@dataclass(frozen=True)
class LoadedRun:
    """One ``run.json`` (a CI fan-out has one per job)."""

    source: str
    record: RunRecord
    reports: Mapping[str, CellReport] = field(default_factory=dict)


@dataclass
class GateResults:
    summary: ResultSummary = field(default_factory=ResultSummary)
    runs: tuple[LoadedRun, ...] = ()
    expected_cells: tuple[str, ...] = ()
    """Cells someone said must have results (``--expect-cells``, a plan)."""
    artifacts: tuple[Artifact, ...] = ()
    """Artifacts the run records say the cells installed (one entry per distinct digest)."""
    given_artifacts: tuple[Artifact, ...] = ()
    """Artifacts named on the command line (``--artifact``): what will be published."""
    unfinished_runs: tuple[tuple[str, str], ...] = ()
    """(reports folder, why): folders among the inputs whose run has not finished (a
    killed run's cells leave some reports, never all of them)."""

    @property
    def reported_cells(self) -> set[str]:
        """Cells for which some readable report exists."""
        cells = set(self.summary.cells)
        for run in self.runs:
            cells.update(name for name, report in run.reports.items() if report.readable)
        return cells

    @property
    def run_cells(self) -> set[str]:
        return {cell.name for run in self.runs for cell in run.record.cells}
