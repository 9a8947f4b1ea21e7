"""What a report shows, read from a reports folder in bounded memory.

Sources, all optional but at least one needed:

- ``run.json`` (:class:`~pytest_pipeline.run_record.RunRecord`): the cells, their interpreter
  and dependency set (the grid), status, duration, logs;
- ``gate.json``: the verdict, its reasons and notes, quarantined tests, provenance;
- the merged ``junit.xml`` (else each cell's JUnit file named by ``run.json``): counts per
  (cell, stage), failures with their tracebacks, flaky passes, the slowest tests, read in
  bounded memory by :mod:`.junit_results`.

:func:`collect` reads them; :mod:`.runs` gives the run record (also a CI fan-in's), and
:mod:`.grid` lays the cells out as the report's matrix.

Files from a pull request's build are untrusted: nothing here interprets their text, and
the renderer escapes all of it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from pytest_pipeline.errors import PipelineError
from pytest_pipeline.report.junit_results import SLOWEST, FailureDetail, TimedTest, read_junit
from pytest_pipeline.report.paths import inside
from pytest_pipeline.report.runs import job_records, run_records
from pytest_pipeline.report.untrusted import JsonObject, as_dict
from pytest_pipeline.results import Counts, InputProblem, TestRef
from pytest_pipeline.run_record import CellRecord, CellStatus, RunRecord

__all__ = ["FailureDetail", "ReportData", "TimedTest", "collect"]


@dataclass
class ReportData:
    """Everything the report shows; :func:`collect` fills it (the JUnit part as
    :func:`~.junit_results.read_junit` reads it)."""

    root: Path
    title: str
    run: RunRecord | None = None
    gate: JsonObject | None = None
    """``gate.json`` as read (its version checked, its values not: see :mod:`.untrusted`)."""
    groups: dict[tuple[str, str], Counts] = field(default_factory=dict)
    failures: list[FailureDetail] = field(default_factory=list)
    failures_omitted: int = 0
    blocked: list[TestRef] = field(default_factory=list)
    blocked_omitted: int = 0
    flaky: list[TestRef] = field(default_factory=list)
    flaky_omitted: int = 0
    slowest_tests: list[TimedTest] = field(default_factory=list)
    junit_files: list[str] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    generated: str = ""

    @property
    def stages(self) -> tuple[str, ...]:
        """Stage order: the run's, else the gate's required stages, then any seen in results."""
        ordered: list[str] = list(self.run.stages) if self.run else []
        if not ordered and self.gate:
            required = as_dict(self.gate.get("required")).get("stages")
            if isinstance(required, list):
                ordered = [str(stage) for stage in required]
        for _, stage in self.groups:
            if stage not in ordered:
                ordered.append(stage)
        return tuple(ordered)

    @property
    def cells(self) -> list[CellRecord]:
        """Every cell: the run record's, then cells that only the results name (a JUnit
        file without a run record), their status taken from their results."""
        cells = list(self.run.cells) if self.run else []
        known = {cell.name for cell in cells}
        for name in dict.fromkeys(cell for cell, _ in self.groups):
            if name not in known:
                bad = sum(counts.bad for (cell, _), counts in self.groups.items() if cell == name)
                cells.append(
                    CellRecord(
                        name=name,
                        status=CellStatus.FAILED if bad else CellStatus.PASSED,
                        message="no run record: status from its results",
                    )
                )
        return cells

    def slowest_cells(self, limit: int = SLOWEST) -> list[CellRecord]:
        timed = [cell for cell in self.cells if cell.duration > 0]
        return sorted(timed, key=lambda cell: cell.duration, reverse=True)[:limit]


def collect(root: Path, *, default_stage: str = "unit", title: str | None = None) -> ReportData:
    """Everything a report of the reports folder ``root`` shows.

    Raises :class:`PipelineError` (4) when the folder holds no run record, gate file or
    merged JUnit file at all; a file that is there but unreadable becomes a problem the
    report lists.
    """
    from pytest_pipeline.gate import gatefile

    gate_path, merged = root / "gate.json", root / "junit.xml"
    if not any(path.is_file() for path in (root / "run.json", gate_path, merged)) and not job_records(root):
        raise PipelineError(
            f"{root}: no run.json, gate.json or junit.xml to report on; run `pytest-pipeline run` first, "
            "or pass --reports-dir with the folder that holds them"
        )
    data = ReportData(
        root=root,
        title=title or root.resolve().parent.name,
        generated=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    )
    data.run = run_records(root, data.problems)
    if gate_path.is_file():
        try:
            data.gate = gatefile.read(gate_path).to_dict()
        except gatefile.GateFileError as exc:
            data.problems.append(InputProblem("gate.json", str(exc).removeprefix(f"{gate_path}: ")))
    files = [merged] if merged.is_file() else _cells_junit(root, data.run, data.problems)
    junit = read_junit(files, root, default_stage)
    data.junit_files = junit.files
    data.groups = junit.groups
    data.failures, data.failures_omitted = junit.failures, junit.failures_omitted
    data.blocked, data.blocked_omitted = junit.blocked, junit.blocked_omitted
    data.flaky, data.flaky_omitted = junit.flaky, junit.flaky_omitted
    data.slowest_tests = junit.slowest_tests
    data.problems.extend(junit.problems)
    return data


def _cells_junit(root: Path, run: RunRecord | None, problems: list[InputProblem]) -> list[Path]:
    """The JUnit files the run record names (without a merged file), those inside ``root``."""
    files: list[Path] = []
    for cell in run.cells if run is not None else ():
        if not cell.junit:
            continue
        path = inside(root, cell.junit)
        if path is None:
            problems.append(InputProblem(cell.junit, f"cell {cell.name}: path leaves {root}; ignored"))
        elif path.is_file():
            files.append(path)
    return files
