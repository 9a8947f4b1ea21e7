"""Results as data, shared by the merger, the gate, the orchestrator and the reports.

Everything here round-trips through JSON (``to_dict``/``from_dict``) with a version,
so a record written by one job of a CI fan-out can be read by the fan-in job.

PYTEST_DONT_REWRITE: the pytest plugin imports this module in every test run; see plugin.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any

from pytest_pipeline import envvars

RECORD_VERSION = 1

BLOCKED_TYPE = "pytest_pipeline.blocked"
"""``type`` of the ``<error>`` element of a test blocked by an earlier stage's failure."""
BLOCKED_MESSAGE_PREFIX = "blocked by a failure in stage "
"""Start of the message of a blocked test (``blocked by a failure in stage unit``)."""

CELL_ENV = envvars.CELL
"""Environment variable through which the orchestrator names the cell a pytest runs in."""
COLLECTION_FAILURE = "collection failure"
"""The message of the ``<error>`` pytest's junitxml writes for a collection error; pytest
then runs no test at all ("Interrupted: 1 error during collection")."""
STAGE_ERROR = "pytest_pipeline_stage_error"
"""Attribute set on the collection error reports of the plugin's stage errors; it survives
xdist's report serialisation, so the controller knows them from other collection errors."""


class Outcome(str, Enum):
    """The final outcome of one test in one cell (after reruns)."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    BLOCKED = "blocked"

    @property
    def is_bad(self) -> bool:
        return self is _FAILED or self is _ERROR or self is _BLOCKED


# The members as globals, for the code that runs per test: ``Outcome.FAILED`` is a lookup
# through the enum's class (about 70 ns, several per test counted), a global is not.
_PASSED, _FAILED, _ERROR = Outcome.PASSED, Outcome.FAILED, Outcome.ERROR
_SKIPPED, _BLOCKED = Outcome.SKIPPED, Outcome.BLOCKED


@dataclass
class Counts:
    """Counts for one (cell, stage), one cell, or everything. ``flaky`` counts tests that
    passed only after failed attempts; they are also in ``passed``."""

    tests: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    blocked: int = 0
    flaky: int = 0
    time: float = 0.0

    def add(self, outcome: Outcome, time: float = 0.0, *, flaky: bool = False) -> None:
        self.tests += 1
        self.time += time
        if outcome is _PASSED:
            self.passed += 1
        elif outcome is _FAILED:
            self.failed += 1
        elif outcome is _ERROR:
            self.errors += 1
        elif outcome is _SKIPPED:
            self.skipped += 1
        elif outcome is _BLOCKED:
            self.blocked += 1
        if flaky:
            self.flaky += 1

    def update(self, other: Counts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def ran(self) -> int:
        """Tests that really ran (not skipped, not blocked)."""
        return self.passed + self.failed + self.errors

    @property
    def bad(self) -> int:
        return self.failed + self.errors + self.blocked

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["time"] = round(self.time, 3)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Counts:
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


def id_of_test(classname: str, name: str) -> str:
    """A test's cell-independent identity, ``classname::name`` (quarantine entries,
    baselines and reports name tests by it)."""
    return f"{classname}::{name}" if classname else name


@dataclass(frozen=True)
class TestRef:
    """One test in one cell that the gate or a report names: a failure, a flaky pass."""

    __test__ = False  # not a pytest test class, despite the name

    cell: str
    stage: str
    classname: str
    name: str
    outcome: Outcome
    message: str = ""
    file: str | None = None
    line: int | None = None
    attempts: int = 1
    """How many times it ran in this cell (reruns included)."""

    @property
    def test_id(self) -> str:
        return id_of_test(self.classname, self.name)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "cell": self.cell,
            "stage": self.stage,
            "classname": self.classname,
            "name": self.name,
            "id": self.test_id,
            "outcome": self.outcome.value,
        }
        if self.message:
            data["message"] = self.message
        if self.file is not None:
            data["file"] = self.file
        if self.line is not None:
            data["line"] = self.line
        if self.attempts != 1:
            data["attempts"] = self.attempts
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TestRef:
        return cls(
            cell=data["cell"],
            stage=data["stage"],
            classname=data.get("classname", ""),
            name=data["name"],
            outcome=Outcome(data["outcome"]),
            message=data.get("message", ""),
            file=data.get("file"),
            line=data.get("line"),
            attempts=data.get("attempts", 1),
        )


@dataclass(frozen=True)
class InputProblem:
    """A result file that could not be read (truncated, not XML, wrong root, unsafe).

    It is never dropped silently: the merge prints it, and the gate counts it (code 3).
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "message": self.message}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InputProblem:
        return cls(path=data["path"], message=data["message"])


def duplicate_results_message(cell: str, stage: str, earlier: str) -> str:
    """Why a result file was left out: ``earlier`` already gave results for its (cell, stage).

    One pytest session writes one file per cell, so a second file with results for the
    same (cell, stage) repeats them: a merged file read together with the per-cell files
    it was merged from, or one job's results downloaded twice. Counting both would count
    every test twice. The merge, the gate and the report all leave such a file out (the
    first one read wins) and list it as an input problem.
    """
    return (
        f"results for cell {cell!r} stage {stage!r} already came from {earlier}; "
        "pass either the merged file or the per-cell files, not both"
    )


@dataclass
class ResultSummary:
    """What a set of JUnit files says, in bounded memory: counts per (cell, stage), and
    only the tests someone must look at (bad outcomes and flaky passes), not every test."""

    groups: dict[tuple[str, str], Counts] = field(default_factory=dict)
    """(cell, stage) -> counts, in the order first seen."""
    failures: list[TestRef] = field(default_factory=list)
    """Tests whose final outcome is failed, error or blocked."""
    flaky: list[TestRef] = field(default_factory=list)
    """Tests that passed after failed attempts."""
    problems: list[InputProblem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    """Every input file that was read (successfully or not)."""
    failures_omitted: int = 0
    """Bad tests counted but not listed in ``failures`` (the reader caps the list)."""
    flaky_omitted: int = 0
    """Flaky passes counted but not listed in ``flaky``."""

    def counts(self, cell: str, stage: str) -> Counts:
        return self.groups.setdefault((cell, stage), Counts())

    @property
    def cells(self) -> list[str]:
        return list(dict.fromkeys(cell for cell, _ in self.groups))

    def stage_total(self, stage: str) -> Counts:
        total = Counts()
        for (_, group_stage), counts in self.groups.items():
            if group_stage == stage:
                total.update(counts)
        return total

    def cell_total(self, cell: str) -> Counts:
        total = Counts()
        for (group_cell, _), counts in self.groups.items():
            if group_cell == cell:
                total.update(counts)
        return total

    def total(self) -> Counts:
        total = Counts()
        for counts in self.groups.values():
            total.update(counts)
        return total

    def extend(self, other: ResultSummary) -> None:
        for key, counts in other.groups.items():
            self.counts(*key).update(counts)
        self.failures.extend(other.failures)
        self.flaky.extend(other.flaky)
        self.problems.extend(other.problems)
        self.files.extend(other.files)
        self.failures_omitted += other.failures_omitted
        self.flaky_omitted += other.flaky_omitted

    def to_dict(self) -> dict[str, Any]:
        return {
            "groups": [
                {"cell": cell, "stage": stage, **counts.to_dict()}
                for (cell, stage), counts in self.groups.items()
            ],
            "failures": [ref.to_dict() for ref in self.failures],
            "flaky": [ref.to_dict() for ref in self.flaky],
            "problems": [problem.to_dict() for problem in self.problems],
            "files": list(self.files),
            "failures_omitted": self.failures_omitted,
            "flaky_omitted": self.flaky_omitted,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResultSummary:
        summary = cls()
        for group in data.get("groups", ()):
            summary.groups[(group["cell"], group["stage"])] = Counts.from_dict(group)
        summary.failures = [TestRef.from_dict(ref) for ref in data.get("failures", ())]
        summary.flaky = [TestRef.from_dict(ref) for ref in data.get("flaky", ())]
        summary.problems = [InputProblem.from_dict(p) for p in data.get("problems", ())]
        summary.files = list(data.get("files", ()))
        summary.failures_omitted = int(data.get("failures_omitted", 0))
        summary.flaky_omitted = int(data.get("flaky_omitted", 0))
        return summary
