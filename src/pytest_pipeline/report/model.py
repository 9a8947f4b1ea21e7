"""What a report shows, read from a reports folder in bounded memory.

Sources, all optional but at least one needed:

- ``run.json`` (:class:`~pytest_pipeline.results.RunRecord`): the cells, their interpreter
  and dependency set (the grid), status, duration, logs;
- ``gate.json``: the verdict, its reasons and notes, quarantined tests, provenance;
- the merged ``junit.xml`` (else each cell's JUnit file named by ``run.json``): counts per
  (cell, stage), failures with their tracebacks, flaky passes, the slowest tests. It is
  streamed through :mod:`pytest_pipeline.junit.reader` (safe against hostile files), texts
  are capped and only the first :data:`MAX_FAILURES` failures keep theirs.

Files from a pull request's build are untrusted: nothing here interprets their text, and
the renderer escapes all of it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_pipeline.errors import PipelineError
from pytest_pipeline.junit.collapse import CollapsedTest, Collapser
from pytest_pipeline.junit.reader import (
    EmptySuite,
    NotMerged,
    StageTime,
    TestCaseRecord,
    UnreadableInput,
    read,
)
from pytest_pipeline.results import (
    CellRecord,
    CellStatus,
    Counts,
    InputProblem,
    Outcome,
    RunRecord,
    TestRef,
    duplicate_results_message,
    id_of_test,
)

MAX_FAILURES = 100
"""Failed and errored tests listed with their traceback; further ones are only counted."""
MAX_TEXT = 20_000
"""Characters of a traceback kept (head and tail, as the JUnit reader caps them)."""
MAX_OUTPUT = 4_000
"""Characters of a failed test's captured output shown (its tail: where it failed)."""
MAX_LISTED = 200
"""Blocked tests and flaky passes listed by name; further ones are only counted."""
SLOWEST = 15
"""Slowest tests and slowest cells shown."""

NO_PYTHON = "(tool's interpreter)"
NO_DEPENDENCIES = "-"


@dataclass(frozen=True)
class FailureDetail:
    """A failed or errored test with what is needed to understand it."""

    cell: str
    stage: str
    classname: str
    name: str
    outcome: Outcome
    message: str
    text: str
    """The traceback (``<failure>``/``<error>`` text), capped."""
    output: str = ""
    """The tail of its captured stdout/stderr."""
    attempts: int = 1
    file: str | None = None
    line: int | None = None

    @property
    def test_id(self) -> str:
        return id_of_test(self.classname, self.name)


@dataclass(frozen=True)
class TimedTest:
    cell: str
    stage: str
    test_id: str
    time: float


@dataclass
class ReportData:
    root: Path
    title: str
    run: RunRecord | None = None
    gate: Mapping[str, Any] | None = None
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
            required = (self.gate.get("required") or {}).get("stages")
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


# --------------------------------------------------------------------------- stage marks


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


# --------------------------------------------------------------------------- the grid


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


# --------------------------------------------------------------------------- reading


class _FileResults:
    """What one JUnit file says; merged into the report only when the whole file was read
    (a truncated file contributes nothing, as in the merge and the gate)."""

    def __init__(self, data: ReportData) -> None:
        self.rooms = (
            MAX_FAILURES - len(data.failures),
            MAX_LISTED - len(data.blocked),
            MAX_LISTED - len(data.flaky),
        )
        self.groups: dict[tuple[str, str], Counts] = {}
        self.failures: list[FailureDetail] = []
        self.blocked: list[TestRef] = []
        self.flaky: list[TestRef] = []
        self.omitted = [0, 0, 0]
        """Failures, blocked tests and flaky passes counted beyond the rooms."""
        self.slowest: list[tuple[float, int, TimedTest]] = []
        self.seen = 0

    def counts(self, cell: str, stage: str) -> Counts:
        return self.groups.setdefault((cell, stage), Counts())

    def accept(self, item: TestCaseRecord | CollapsedTest) -> None:
        test = item if isinstance(item, CollapsedTest) else CollapsedTest(item)
        record = test.record
        outcome = record.outcome
        self.counts(record.cell, record.stage).add(outcome, test.time, flaky=test.flaky)
        self.seen += 1
        name = id_of_test(record.classname, record.name)
        timed = (test.time, -self.seen, TimedTest(record.cell, record.stage, name, test.time))
        if len(self.slowest) < SLOWEST:
            heapq.heappush(self.slowest, timed)
        elif timed[:2] > self.slowest[0][:2]:
            heapq.heapreplace(self.slowest, timed)
        if outcome in (Outcome.FAILED, Outcome.ERROR):
            if len(self.failures) < self.rooms[0]:
                self.failures.append(_detail(test))
            else:
                self.omitted[0] += 1
        elif outcome is Outcome.BLOCKED:
            if len(self.blocked) < self.rooms[1]:
                self.blocked.append(_ref(test, outcome))
            else:
                self.omitted[1] += 1
        elif test.flaky:
            if len(self.flaky) < self.rooms[2]:
                self.flaky.append(_ref(test, outcome))
            else:
                self.omitted[2] += 1


def _tail(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"[... {len(text) - limit} characters left out ...]\n" + text[-limit:]


def _detail(test: CollapsedTest) -> FailureDetail:
    record = test.record
    primary = record.primary()
    output = "\n".join(part for part in (record.out.strip("\n"), record.err.strip("\n")) if part)
    return FailureDetail(
        cell=record.cell,
        stage=record.stage,
        classname=record.classname,
        name=record.name,
        outcome=record.outcome,
        message=primary.message if primary else "",
        text=primary.text if primary else "",
        output=_tail(output, MAX_OUTPUT),
        attempts=test.attempts,
        file=record.file,
        line=record.line,
    )


def _ref(test: CollapsedTest, outcome: Outcome) -> TestRef:
    record = test.record
    primary = record.primary()
    if primary is not None:
        message = primary.short_message()
    else:  # a flaky pass: how its last failed attempt failed
        message = test.earlier[-1].short_message() if test.earlier else ""
    return TestRef(
        cell=record.cell,
        stage=record.stage,
        classname=record.classname,
        name=record.name,
        outcome=outcome,
        message=message,
        attempts=test.attempts,
    )


def _read_junit(data: ReportData, files: Sequence[Path], default_stage: str) -> None:
    candidates: list[tuple[float, int, TimedTest]] = []
    owners: dict[tuple[str, str], str] = {}
    """The file each (cell, stage) group's results came from: a fan-in folder whose jobs
    both reported a cell (a job's results downloaded twice) must not count it twice."""
    for number, path in enumerate(files):
        data.junit_files.append(str(path))
        results = _FileResults(data)
        collapser = Collapser(results.accept)
        not_merged: list[NotMerged] = []
        walls: dict[tuple[str, str], float] = {}
        try:
            for batch in read(path, default_stage=default_stage, max_text=MAX_TEXT):
                for item in batch:
                    if isinstance(item, EmptySuite):
                        results.counts(item.cell, item.stage)
                    elif isinstance(item, StageTime):  # the stage's wall time (see the merge)
                        key = (item.cell, item.stage)
                        walls[key] = walls.get(key, 0.0) + item.seconds
                    elif isinstance(item, NotMerged):
                        not_merged.append(item)
                    else:
                        collapser.push(item)
            collapser.flush()
            for (cell, stage), seconds in walls.items():
                results.counts(cell, stage).time = seconds
        except UnreadableInput as exc:
            collapser.discard()
            data.problems.append(InputProblem(_shown(path, data.root), str(exc)))
            continue
        repeated = next((key for key in results.groups if key in owners), None)
        if repeated is not None:
            message = duplicate_results_message(repeated[0], repeated[1], owners[repeated])
            data.problems.append(InputProblem(_shown(path, data.root), message))
            continue
        owners.update(dict.fromkeys(results.groups, _shown(path, data.root)))
        data.problems.extend(item.problem(_shown(path, data.root)) for item in not_merged)
        for key, counts in results.groups.items():
            data.groups.setdefault(key, Counts()).update(counts)
        data.failures.extend(results.failures)
        data.blocked.extend(results.blocked)
        data.flaky.extend(results.flaky)
        data.failures_omitted += results.omitted[0]
        data.blocked_omitted += results.omitted[1]
        data.flaky_omitted += results.omitted[2]
        # Ties keep reading order: earlier files, then earlier tests, first.
        candidates.extend((time, seq - number * 2**40, timed) for time, seq, timed in results.slowest)
    candidates.sort(key=lambda entry: entry[:2], reverse=True)
    data.slowest_tests = [timed for _, _, timed in candidates[:SLOWEST] if timed.time > 0]


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _inside(root: Path, relative: str) -> Path | None:
    """A path from ``run.json`` resolved under ``root``; ``None`` when it would leave it."""
    candidate = (root / relative).resolve()
    try:
        candidate.relative_to(root.resolve())
    except ValueError:
        return None
    return candidate


MAX_RUN_RECORDS = 1_000
"""run.json files read below a fan-in folder (GitHub allows 256 jobs per matrix)."""


def _job_records(root: Path) -> list[Path]:
    """``run.json`` files one level or more below ``root``: one per job of a CI fan-out."""
    if not root.is_dir():
        return []
    found = sorted(path for path in root.rglob("run.json") if path.is_file() and path.parent != root)
    return found[:MAX_RUN_RECORDS]


def _run_records(root: Path, problems: list[InputProblem]) -> RunRecord | None:
    """The run record of ``root``; without one, the records of a fan-in folder's jobs as one
    (their cells' paths made relative to ``root``, and dropped when they leave it)."""
    own = root / "run.json"
    paths = [own] if own.is_file() else _job_records(root)
    records: list[RunRecord] = []
    for path in paths:
        try:
            record = RunRecord.read(path)
        except (OSError, ValueError) as exc:
            problems.append(InputProblem(_shown(path, root), f"not a readable run record ({str(exc)[:200]})"))
            continue
        if path.parent != root:
            for cell in record.cells:
                if cell.junit and _rebase(root, path.parent, cell.junit) is None:
                    problems.append(
                        InputProblem(
                            cell.junit, f"cell {cell.name}: path leaves {_shown(path.parent, root)}; ignored"
                        )
                    )
            record = dataclasses.replace(
                record,
                cells=tuple(
                    dataclasses.replace(
                        cell,
                        junit=_rebase(root, path.parent, cell.junit),
                        log=_rebase(root, path.parent, cell.log),
                    )
                    for cell in record.cells
                ),
            )
        records.append(record)
    if len(records) <= 1:
        return records[0] if records else None
    first = records[0]
    return dataclasses.replace(
        first,
        cells=tuple(cell for record in records for cell in record.cells),
        started=min((r.started for r in records if r.started), default=None),
        finished=max((r.finished for r in records if r.finished), default=None),
        interrupted=any(r.interrupted for r in records),
    )


def _rebase(root: Path, folder: Path, relative: str | None) -> str | None:
    """A path relative to ``folder`` as a path relative to ``root``; None when it leaves ``folder``."""
    if not relative:
        return None
    target = _inside(folder, relative)
    return None if target is None else target.relative_to(root.resolve()).as_posix()


def collect(root: Path, *, default_stage: str = "unit", title: str | None = None) -> ReportData:
    """Everything a report of the reports folder ``root`` shows.

    Raises :class:`PipelineError` (4) when the folder holds no run record, gate file or
    merged JUnit file at all; a file that is there but unreadable becomes a problem the
    report lists.
    """
    from pytest_pipeline.gate import gatefile

    gate_path, merged = root / "gate.json", root / "junit.xml"
    if not any(path.is_file() for path in (root / "run.json", gate_path, merged)) and not _job_records(root):
        raise PipelineError(
            f"{root}: no run.json, gate.json or junit.xml to report on; run `pytest-pipeline run` first, "
            "or pass --reports-dir with the folder that holds them"
        )
    data = ReportData(
        root=root,
        title=title or root.resolve().parent.name,
        generated=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    )
    data.run = _run_records(root, data.problems)
    if gate_path.is_file():
        try:
            data.gate = gatefile.read(gate_path).to_dict()
        except gatefile.GateFileError as exc:
            data.problems.append(InputProblem("gate.json", str(exc).removeprefix(f"{gate_path}: ")))
    files: list[Path] = []
    if merged.is_file():
        files = [merged]
    elif data.run is not None:
        for cell in data.run.cells:
            if not cell.junit:
                continue
            path = _inside(root, cell.junit)
            if path is None:
                data.problems.append(
                    InputProblem(cell.junit, f"cell {cell.name}: path leaves {root}; ignored")
                )
            elif path.is_file():
                files.append(path)
    _read_junit(data, files, default_stage)
    return data
