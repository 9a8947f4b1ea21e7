"""The report's view of the JUnit files: counts per (cell, stage), failures with their
tracebacks, blocked tests, flaky passes and the slowest tests, in bounded memory.

Files are streamed through :mod:`pytest_pipeline.junit.reader` (safe against hostile
files); texts are capped and only the first :data:`MAX_FAILURES` failures keep theirs.
A file contributes only when it was read whole (a truncated file contributes nothing, as
in the merge and the gate), and a (cell, stage) group only from the first file that has it.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pytest_pipeline.junit.collapse import CollapsedTest, Collapser
from pytest_pipeline.junit.reader import UnreadableInput, read
from pytest_pipeline.junit.records import EmptySuite, NotMerged, StageTime, TestCaseRecord
from pytest_pipeline.report.paths import shown
from pytest_pipeline.results import (
    Counts,
    InputProblem,
    Outcome,
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
class JUnitResults:
    """What the JUnit files say, as the report shows it (see :class:`~.model.ReportData`)."""

    files: list[str] = field(default_factory=list)
    groups: dict[tuple[str, str], Counts] = field(default_factory=dict)
    failures: list[FailureDetail] = field(default_factory=list)
    failures_omitted: int = 0
    blocked: list[TestRef] = field(default_factory=list)
    blocked_omitted: int = 0
    flaky: list[TestRef] = field(default_factory=list)
    flaky_omitted: int = 0
    slowest_tests: list[TimedTest] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)


class _FileResults:
    """What one JUnit file says; merged into the report only when the whole file was read
    (a truncated file contributes nothing, as in the merge and the gate)."""

    def __init__(self, results: JUnitResults) -> None:
        self.rooms = (
            MAX_FAILURES - len(results.failures),
            MAX_LISTED - len(results.blocked),
            MAX_LISTED - len(results.flaky),
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


def read_junit(files: Sequence[Path], root: Path, default_stage: str) -> JUnitResults:
    """What ``files`` say. A file that cannot be read whole, or that has results for a
    (cell, stage) an earlier file gave, becomes a problem (named relative to ``root``) and
    adds nothing."""
    results = JUnitResults()
    candidates: list[tuple[float, int, TimedTest]] = []
    owners: dict[tuple[str, str], str] = {}
    """The file each (cell, stage) group's results came from: a fan-in folder whose jobs
    both reported a cell (a job's results downloaded twice) must not count it twice."""
    for number, path in enumerate(files):
        results.files.append(str(path))
        name = shown(path, root)
        try:
            one, not_merged = _read_file(path, default_stage, results)
        except UnreadableInput as exc:
            results.problems.append(InputProblem(name, str(exc)))
            continue
        repeated = next((key for key in one.groups if key in owners), None)
        if repeated is not None:
            message = duplicate_results_message(repeated[0], repeated[1], owners[repeated])
            results.problems.append(InputProblem(name, message))
            continue
        owners.update(dict.fromkeys(one.groups, name))
        results.problems.extend(item.problem(name) for item in not_merged)
        _add(results, one)
        # Ties keep reading order: earlier files, then earlier tests, first.
        candidates.extend((time, seq - number * 2**40, timed) for time, seq, timed in one.slowest)
    candidates.sort(key=lambda entry: entry[:2], reverse=True)
    results.slowest_tests = [timed for _, _, timed in candidates[:SLOWEST] if timed.time > 0]
    return results


def _read_file(path: Path, default_stage: str, results: JUnitResults) -> tuple[_FileResults, list[NotMerged]]:
    """One file's results (given the room ``results`` leaves), and the inputs it says a
    merge left out. Raises :class:`UnreadableInput`."""
    one = _FileResults(results)
    collapser = Collapser(one.accept)
    not_merged: list[NotMerged] = []
    walls: dict[tuple[str, str], float] = {}
    try:
        for batch in read(path, default_stage=default_stage, max_text=MAX_TEXT):
            for item in batch:
                if isinstance(item, EmptySuite):
                    one.counts(item.cell, item.stage)
                elif isinstance(item, StageTime):  # the stage's wall time (see the merge)
                    key = (item.cell, item.stage)
                    walls[key] = walls.get(key, 0.0) + item.seconds
                elif isinstance(item, NotMerged):
                    not_merged.append(item)
                else:
                    collapser.push(item)
        collapser.flush()
    except UnreadableInput:
        collapser.discard()
        raise
    for (cell, stage), seconds in walls.items():
        one.counts(cell, stage).time = seconds
    return one, not_merged


def _add(results: JUnitResults, one: _FileResults) -> None:
    for key, counts in one.groups.items():
        results.groups.setdefault(key, Counts()).update(counts)
    results.failures.extend(one.failures)
    results.blocked.extend(one.blocked)
    results.flaky.extend(one.flaky)
    results.failures_omitted += one.omitted[0]
    results.blocked_omitted += one.omitted[1]
    results.flaky_omitted += one.omitted[2]
