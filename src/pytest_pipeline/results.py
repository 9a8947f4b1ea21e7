"""Results as data, shared by the merger, the gate, the orchestrator and the reports.

Everything here round-trips through JSON (``to_dict``/``from_dict``) with a version,
so a record written by one job of a CI fan-out can be read by the fan-in job.

PYTEST_DONT_REWRITE: the pytest plugin imports this module in every test run; see plugin.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import Enum
from pathlib import Path
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
        return self in (Outcome.FAILED, Outcome.ERROR, Outcome.BLOCKED)


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
        if outcome is Outcome.PASSED:
            self.passed += 1
        elif outcome is Outcome.FAILED:
            self.failed += 1
        elif outcome is Outcome.ERROR:
            self.errors += 1
        elif outcome is Outcome.SKIPPED:
            self.skipped += 1
        elif outcome is Outcome.BLOCKED:
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


def describe_exit(code: int) -> str:
    """How a process ended, for people: ``exit code 3``, ``killed by SIGKILL (exit -9)``
    (a negative code is the signal that ended it, as :mod:`subprocess` reports it)."""
    if code >= 0:
        return f"exit code {code}"
    import signal

    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    return f"killed by {name} (exit {code})"


class CellStatus(str, Enum):
    """How a cell of the matrix ended, as the orchestrator saw it."""

    QUEUED = "queued"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    """pytest ran and reported failures (details in the JUnit file)."""
    NO_TESTS = "no-tests"
    ENV_ERROR = "env-error"
    """The environment could not be created or installed."""
    CRASHED = "crashed"
    """The test process died or left no readable report."""
    MISSING_INTERPRETER = "missing-interpreter"
    INTERRUPTED = "interrupted"
    TIMED_OUT = "timed-out"
    """Ended by a time limit (``timeout``, ``run-timeout``) before it finished."""
    CANCELLED = "cancelled"
    """Not started or stopped by ``--fail-fast``."""

    @property
    def finished(self) -> bool:
        return self not in (CellStatus.QUEUED, CellStatus.RUNNING)


@dataclass(frozen=True)
class Artifact:
    """The built package under test; publish checks that this exact file goes out."""

    name: str
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Artifact:
        return cls(name=data["name"], sha256=data["sha256"])


@dataclass(frozen=True)
class CellRecord:
    """One cell of one run: what ran, how it ended, and where its files are.

    Paths are relative to the folder holding the run record, so the folder can be
    uploaded and downloaded as a whole (CI artifacts).
    """

    name: str
    status: CellStatus
    tool: str = "tox"
    env: str = ""
    python: str | None = None
    factors: Mapping[str, str] = field(default_factory=dict)
    stages: tuple[str, ...] = ()
    exit_code: int | None = None
    junit: str | None = None
    log: str | None = None
    duration: float = 0.0
    started: str | None = None
    finished: str | None = None
    message: str = ""
    runs_pytest: bool = True
    """False for an environment that runs no pytest (lint, docs, included on purpose): it
    writes no JUnit report, and its status comes from its exit code alone."""
    ignore_outcome: bool = False
    """The tox environment sets ``ignore_outcome = true``: its results are reported, and
    the gate requires the cell only when ``required-cells`` names it."""
    tested: str | None = None
    """What the cell's environment held of the project: ``wheel`` (the run's built wheel,
    whose sha256 is the run's artifact), ``source`` (what a nox session installed itself,
    from the source tree), ``nothing`` (no package installed); None in older records."""
    reused_from: Mapping[str, str] | None = None
    """The earlier run whose results these are (``run``, ``finished``, ``commit``), when
    the cell was not run again because nothing that feeds it changed; None: it ran."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status.value,
            "tool": self.tool,
            "env": self.env,
            "python": self.python,
            "factors": dict(self.factors),
            "stages": list(self.stages),
            "exit_code": self.exit_code,
            "junit": self.junit,
            "log": self.log,
            "duration": round(self.duration, 3),
            "started": self.started,
            "finished": self.finished,
            "message": self.message,
            "runs_pytest": self.runs_pytest,
            "ignore_outcome": self.ignore_outcome,
            "tested": self.tested,
            "reused_from": dict(self.reused_from) if self.reused_from is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CellRecord:
        return cls(
            name=data["name"],
            status=CellStatus(data["status"]),
            tool=data.get("tool", "tox"),
            env=data.get("env", ""),
            python=data.get("python"),
            factors=dict(data.get("factors", {})),
            stages=tuple(data.get("stages", ())),
            exit_code=data.get("exit_code"),
            junit=data.get("junit"),
            log=data.get("log"),
            duration=float(data.get("duration", 0.0)),
            started=data.get("started"),
            finished=data.get("finished"),
            message=data.get("message", ""),
            runs_pytest=bool(data.get("runs_pytest", True)),
            ignore_outcome=data.get("ignore_outcome") is True,
            tested=data.get("tested") if data.get("tested") in TESTED else None,
            reused_from=read_origin(data.get("reused_from")),
        )


TESTED = ("wheel", "source", "nothing")


def describe_origin(origin: Mapping[str, Any]) -> str:
    """``reused from run R (finished, commit)``: how every output names reused results."""
    commit = str(origin.get("commit") or "")[:12] or "no commit"
    return f"reused from run {origin.get('run', '?')} ({origin.get('finished', '?')}, {commit})"


def read_origin(value: Any) -> dict[str, str] | None:
    """A ``reused_from`` mapping as read from a file: strings only, None if it is not one."""
    if not isinstance(value, Mapping):
        return None
    return {str(key): str(item) for key, item in value.items() if item is not None}


@dataclass(frozen=True)
class RunRecord:
    """``run.json``: what the orchestrator ran (every planned cell, finished or not)."""

    cells: tuple[CellRecord, ...]
    stages: tuple[str, ...] = ()
    artifact: Artifact | None = None
    interrupted: bool = False
    started: str | None = None
    finished: str | None = None
    tool_versions: Mapping[str, str] = field(default_factory=dict)
    version: int = RECORD_VERSION
    commit: str | None = None
    """The git commit the cells tested (the gate refuses results of another commit)."""
    dirty: bool | None = None
    """Whether the tree had uncommitted changes when the run started."""
    artifacts: tuple[Artifact, ...] = ()
    """Further packages built and tested besides ``artifact`` (an sdist next to the wheel)."""
    pytest_args: tuple[str, ...] = ()
    """Arguments given after ``--`` to every cell's pytest; ``rerun`` gives them again."""
    backend: str | None = None
    """How tox cells ran (``auto``: our environments, ``tox``: through tox); ``rerun`` keeps it."""
    installer: str | None = None
    """What made the environments (``uv`` or ``pip``); ``rerun`` keeps it, so the cells it
    re-runs reuse their environments."""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "version": self.version,
            "stages": list(self.stages),
            "artifact": self.artifact.to_dict() if self.artifact else None,
            "interrupted": self.interrupted,
            "started": self.started,
            "finished": self.finished,
            "tool_versions": dict(self.tool_versions),
            "cells": [cell.to_dict() for cell in self.cells],
        }
        # Optional keys only when known, so older readers and fixtures see the same file.
        if self.commit is not None:
            data["commit"] = self.commit
        if self.dirty is not None:
            data["dirty"] = self.dirty
        if self.artifacts:
            data["artifacts"] = [artifact.to_dict() for artifact in self.artifacts]
        if self.pytest_args:
            data["pytest_args"] = list(self.pytest_args)
        if self.backend is not None:
            data["backend"] = self.backend
        if self.installer is not None:
            data["installer"] = self.installer
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunRecord:
        version = data.get("version")
        if version != RECORD_VERSION:
            raise ValueError(f"run record version {version!r} is not supported (expected {RECORD_VERSION})")
        artifact = data.get("artifact")
        return cls(
            cells=tuple(CellRecord.from_dict(cell) for cell in data.get("cells", ())),
            stages=tuple(data.get("stages", ())),
            artifact=Artifact.from_dict(artifact) if artifact else None,
            interrupted=bool(data.get("interrupted", False)),
            started=data.get("started"),
            finished=data.get("finished"),
            tool_versions=dict(data.get("tool_versions", {})),
            version=version,
            commit=data.get("commit"),
            dirty=data.get("dirty"),
            artifacts=tuple(Artifact.from_dict(item) for item in data.get("artifacts") or ()),
            pytest_args=tuple(str(arg) for arg in data.get("pytest_args") or ()),
            backend=data.get("backend"),
            installer=data.get("installer"),
        )

    @classmethod
    def read(cls, path: Path) -> RunRecord:
        """A ``run.json``: OSError when it cannot be read, ValueError saying what is wrong
        with what it holds (not JSON, not a run record, another version)."""
        raw = path.read_bytes()
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            return cls.from_dict(data)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{type(exc).__name__}: {exc}") from None


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
