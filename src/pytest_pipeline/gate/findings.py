"""What the gate finds: a :class:`Reason` closes it, a :class:`Note` is only listed.

Every kind of finding is a member of :class:`ReasonKind` (may close the gate) or
:class:`NoteKind` (never closes it). Their values are the ``kind`` strings of gate.json,
so the file stays what it was; the enums only give the strings one spelling. A note may
be of a reason's kind: the same finding in a cell or stage the policy does not require
(``crashed (not a required cell)``) or allowed by it (``empty-stage`` under
``allow-empty-stages``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.gate.quarantine import QuarantineEntry
from pytest_pipeline.results import TestRef


class _Kind(str, Enum):
    def __str__(self) -> str:  # the gate.json string, on every Python
        return str(self.value)


class ReasonKind(_Kind):
    """Findings that close the gate when they concern a required cell and stage."""

    # the inputs
    UNREADABLE = "unreadable"
    UNFINISHED_RUN = "unfinished-run"
    STALE_RESULTS = "stale-results"
    INTERRUPTED = "interrupted"
    # a cell as a whole
    MISSING_CELL = "missing-cell"
    ENV_ERROR = "env-error"
    CRASHED = "crashed"
    TIMED_OUT = "timed-out"
    UNFINISHED = "unfinished"
    MISSING_INTERPRETER = "missing-interpreter"
    NO_REPORT = "no-report"
    CANCELLED = "cancelled"
    CELL_FAILED = "cell-failed"
    REUSED_RESULTS = "reused-results"
    # a stage
    EMPTY_STAGE = "empty-stage"
    # tests
    FAILED = "failed"
    ERROR = "error"
    BLOCKED = "blocked"
    FLAKY = "flaky"
    QUARANTINE_EXPIRED = "quarantine-expired"
    # what would be published
    ARTIFACT_MISMATCH = "artifact-mismatch"


class NoteKind(_Kind):
    """Findings that are listed and never close the gate."""

    IGNORE_OUTCOME = "ignore-outcome"
    NO_PYTEST = "no-pytest"
    NO_PER_TEST_RESULTS = "no-per-test-results"
    UNUSED_STAGE = "unused-stage"
    NOT_REQUIRED = "not-required"
    BASELINE = "baseline"
    QUARANTINED = "quarantined"
    ARTIFACT_COMPANION = "artifact-companion"
    TESTED_SOURCE = "tested-source"
    DIRTY_RUN = "dirty-run"
    DIRTY_TREE = "dirty-tree"


Kind = ReasonKind | NoteKind

TEST_FAILURE_KINDS = frozenset(
    {
        ReasonKind.FAILED,
        ReasonKind.ERROR,
        ReasonKind.BLOCKED,
        ReasonKind.FLAKY,
        ReasonKind.QUARANTINE_EXPIRED,
        ReasonKind.CELL_FAILED,
    }
)
"""Reason kinds that mean "a test (or a cell's own command) failed": a --fail-fast
cancel caused by one of them is not reported as incomplete on top."""

CELL_PROBLEM_KINDS = frozenset(
    {
        ReasonKind.MISSING_CELL,
        ReasonKind.NO_REPORT,
        ReasonKind.CRASHED,
        ReasonKind.ENV_ERROR,
        ReasonKind.MISSING_INTERPRETER,
        ReasonKind.UNFINISHED,
        ReasonKind.TIMED_OUT,
        ReasonKind.CANCELLED,
        ReasonKind.INTERRUPTED,
        ReasonKind.CELL_FAILED,
    }
)
"""Reason kinds about a cell as a whole: every stage of that cell failed with it."""


def kind_of(text: str) -> Kind:
    """The kind a gate.json ``kind`` string names (ValueError for an unknown one)."""
    try:
        return ReasonKind(text)
    except ValueError:
        return NoteKind(text)


@dataclass(frozen=True)
class Reason:
    """A finding that closes the gate with ``code``."""

    code: ExitCode
    kind: ReasonKind
    message: str
    cell: str | None = None
    stage: str | None = None
    test: str | None = None

    def __post_init__(self) -> None:
        # Built from plain values too (a test's table row): one spelling from here on.
        object.__setattr__(self, "code", ExitCode(self.code))
        object.__setattr__(self, "kind", ReasonKind(self.kind))

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": int(self.code),
            "kind": self.kind.value,
            "message": self.message,
            "cell": self.cell,
            "stage": self.stage,
            "test": self.test,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reason:
        return cls(
            code=ExitCode(data["code"]),
            kind=ReasonKind(data["kind"]),
            message=str(data["message"]),
            cell=data.get("cell"),
            stage=data.get("stage"),
            test=data.get("test"),
        )


@dataclass(frozen=True)
class Note:
    """A finding that is listed but does not close the gate."""

    kind: Kind
    message: str
    cell: str | None = None
    stage: str | None = None
    test: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", kind_of(self.kind))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "message": self.message,
            "cell": self.cell,
            "stage": self.stage,
            "test": self.test,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Note:
        return cls(
            kind=kind_of(data["kind"]),
            message=str(data["message"]),
            cell=data.get("cell"),
            stage=data.get("stage"),
            test=data.get("test"),
        )


@dataclass(frozen=True)
class Quarantined:
    """A failing or flaky test that an active quarantine entry covers."""

    test: TestRef
    entry: QuarantineEntry

    def to_dict(self) -> dict[str, Any]:
        return {**self.test.to_dict(), "quarantine": self.entry.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Quarantined:
        return cls(TestRef.from_dict(data), QuarantineEntry.from_dict(data["quarantine"]))
