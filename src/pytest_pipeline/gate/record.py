"""``gate.json`` as typed data: :class:`GateRecord` and its parts, with ``to_dict`` and
``from_dict`` like :class:`~pytest_pipeline.run_record.RunRecord`.

``to_dict`` gives the file's keys in the file's order (the JSON Schema beside this module,
``gate.schema.json``, documents them). ``from_dict`` checks the version first, on every
read: a file of another version is refused rather than half-understood. It then checks
the types of what publish and a baseline trust (verdict and code, git, ci, artifacts,
the listed tests) and accepts parts that a file of an earlier writer lacks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.gate.baseline import BaselineDiff
from pytest_pipeline.gate.findings import Note, Quarantined, Reason
from pytest_pipeline.gate.policy import PolicyRecord
from pytest_pipeline.gate.provenance import CIFacts, GitFacts
from pytest_pipeline.results import Counts, InputProblem, TestRef
from pytest_pipeline.run_record import Artifact, CellStatus, read_origin

GATE_FILE_VERSION = 1
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

Group = tuple[str, str]


class UnsupportedVersion(ValueError):
    """A gate file of another version than :data:`GATE_FILE_VERSION`."""


def _object(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{key} must be an object")
    return value


@dataclass(frozen=True)
class Required:
    """What the policy required, resolved against the cells found."""

    stages: tuple[str, ...] = ()
    cell_patterns: tuple[str, ...] = ()
    """The ``required-cells`` globs."""
    cells: tuple[str, ...] = ()
    """The cells found that the patterns require."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "stages": list(self.stages),
            "cell_patterns": list(self.cell_patterns),
            "cells": list(self.cells),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Required:
        return cls(
            stages=tuple(str(s) for s in data.get("stages") or ()),
            cell_patterns=tuple(str(p) for p in data.get("cell_patterns") or ()),
            cells=tuple(str(c) for c in data.get("cells") or ()),
        )


@dataclass(frozen=True)
class GateCounts:
    """Test counts over everything, per stage, per cell and per (cell, stage)."""

    total: Counts = field(default_factory=Counts)
    stages: Mapping[str, Counts] = field(default_factory=dict)
    cells: Mapping[str, Counts] = field(default_factory=dict)
    groups: Mapping[Group, Counts] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total.to_dict(),
            "stages": {name: counts.to_dict() for name, counts in self.stages.items()},
            "cells": {name: counts.to_dict() for name, counts in self.cells.items()},
            "groups": [
                {"cell": cell, "stage": stage, **counts.to_dict()}
                for (cell, stage), counts in self.groups.items()
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GateCounts:
        return cls(
            total=Counts.from_dict(data.get("total") or {}),
            stages={str(name): Counts.from_dict(c) for name, c in (data.get("stages") or {}).items()},
            cells={str(name): Counts.from_dict(c) for name, c in (data.get("cells") or {}).items()},
            groups={(str(g["cell"]), str(g["stage"])): Counts.from_dict(g) for g in data.get("groups") or ()},
        )


@dataclass(frozen=True)
class GateCell:
    """One cell the gate knew of: from a run record, a result file or ``--expect-cells``."""

    name: str
    status: CellStatus | None = None
    """From the run record; None for a cell known only from result files or expectations."""
    reported: bool = False
    """A readable result file exists for it."""
    required: bool = False
    tested: str | None = None
    """``wheel``, ``source`` or ``nothing`` (:attr:`~pytest_pipeline.run_record.CellRecord.tested`)."""
    reused_from: Mapping[str, str] | None = None
    """The earlier run whose results this cell reused (``run``, ``finished``, ``commit``)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status.value if self.status else None,
            "reported": self.reported,
            "required": self.required,
            "tested": self.tested,
            "reused_from": dict(self.reused_from) if self.reused_from is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GateCell:
        status = data.get("status")
        return cls(
            name=str(data["name"]),
            status=CellStatus(status) if status else None,
            reported=bool(data.get("reported", False)),
            required=bool(data.get("required", False)),
            tested=data.get("tested"),
            reused_from=read_origin(data.get("reused_from")),
        )


@dataclass(frozen=True)
class GateInputs:
    paths: tuple[str, ...] = ()
    """The inputs as given (results, plan, baseline): not source, even when untracked."""
    files: tuple[str, ...] = ()
    run_records: tuple[str, ...] = ()
    problems: tuple[InputProblem, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "paths": list(self.paths),
            "files": list(self.files),
            "run_records": list(self.run_records),
            "problems": [problem.to_dict() for problem in self.problems],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GateInputs:
        return cls(
            paths=tuple(str(p) for p in data.get("paths") or ()),
            files=tuple(str(f) for f in data.get("files") or ()),
            run_records=tuple(str(r) for r in data.get("run_records") or ()),
            problems=tuple(InputProblem.from_dict(p) for p in data.get("problems") or ()),
        )


@dataclass(frozen=True)
class RunSpan:
    """When the runs whose records the gate read started and finished."""

    started: str | None = None
    finished: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"started": self.started, "finished": self.finished}


def _artifact(item: Mapping[str, Any]) -> Artifact:
    artifact = Artifact.from_dict(item)
    if not isinstance(artifact.name, str) or not _SHA256.match(str(artifact.sha256)):
        raise ValueError(f"artifact {dict(item)!r} needs a name and a lowercase hex sha256")
    return artifact


@dataclass(frozen=True)
class GateRecord:
    """``gate.json``: a verdict, what it was decided on, and where it was decided."""

    verdict: Literal["open", "closed"]
    code: ExitCode
    headline: str = ""
    reasons: tuple[Reason, ...] = ()
    notes: tuple[Note, ...] = ()
    required: Required = field(default_factory=Required)
    policy: PolicyRecord | None = None
    counts: GateCounts = field(default_factory=GateCounts)
    cells: tuple[GateCell, ...] = ()
    failures: tuple[TestRef, ...] = ()
    """Every failed, errored or blocked test in every cell (the next gate's baseline)."""
    flaky: tuple[TestRef, ...] = ()
    quarantined: tuple[Quarantined, ...] = ()
    baseline: BaselineDiff | None = None
    inputs: GateInputs = field(default_factory=GateInputs)
    outputs: tuple[str, ...] = ()
    """What the gate wrote (the gate file, the attestation): not source either."""
    git: GitFacts = field(default_factory=GitFacts)
    ci: CIFacts | None = None
    artifacts: tuple[Artifact, ...] = ()
    tools: Mapping[str, str] = field(default_factory=dict)
    run: RunSpan | None = None
    started: str = ""
    finished: str = ""
    version: int = GATE_FILE_VERSION
    path: str = field(default="", compare=False)
    """The file it was read from (messages name it); not part of the file."""

    @property
    def open(self) -> bool:
        return self.verdict == "open" and self.code is ExitCode.OK

    @property
    def commit(self) -> str | None:
        return self.git.commit

    @property
    def dirty(self) -> bool:
        return self.git.dirty

    @property
    def is_pull_request(self) -> bool:
        return self.ci is not None and self.ci.is_pull_request

    @property
    def reported_cells(self) -> tuple[str, ...]:
        """Cells that reported results."""
        return tuple(cell.name for cell in self.cells if cell.reported)

    @property
    def reason_lines(self) -> tuple[str, ...]:
        """``cell: message`` of each reason, for a refusal message."""
        return tuple(f"{r.cell}: {r.message}" if r.cell else r.message for r in self.reasons)

    @property
    def input_paths(self) -> tuple[str, ...]:
        return self.inputs.paths

    @property
    def output_paths(self) -> tuple[str, ...]:
        return self.outputs

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "verdict": self.verdict,
            "code": int(self.code),
            "headline": self.headline,
            "reasons": [reason.to_dict() for reason in self.reasons],
            "notes": [note.to_dict() for note in self.notes],
            "required": self.required.to_dict(),
            "policy": dict(self.policy) if self.policy is not None else None,
            "counts": self.counts.to_dict(),
            "cells": [cell.to_dict() for cell in self.cells],
            "failures": [ref.to_dict() for ref in self.failures],
            "flaky": [ref.to_dict() for ref in self.flaky],
            "quarantined": [item.to_dict() for item in self.quarantined],
            "baseline": self.baseline.to_dict() if self.baseline else None,
            "inputs": self.inputs.to_dict(),
            "outputs": {"paths": list(self.outputs)},
            "git": self.git.to_dict(),
            "ci": self.ci.to_dict() if self.ci else None,
            "artifacts": [artifact.to_dict() for artifact in self.artifacts],
            "tools": dict(self.tools),
            "run": self.run.to_dict() if self.run else None,
            "started": self.started,
            "finished": self.finished,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: str = "") -> GateRecord:
        """Raises :class:`UnsupportedVersion` for another version, else KeyError,
        TypeError or ValueError saying what is wrong."""
        version = data.get("version")
        if version != GATE_FILE_VERSION:
            raise UnsupportedVersion(
                f"gate file version {version!r} is not supported (expected {GATE_FILE_VERSION})"
            )
        verdict, code = data["verdict"], data["code"]
        if verdict not in ("open", "closed") or not isinstance(code, int) or isinstance(code, bool):
            raise ValueError("verdict must be 'open' or 'closed' and code an integer")
        git, ci = _object(data, "git"), _object(data, "ci")
        inputs, outputs = data.get("inputs") or {}, data.get("outputs") or {}  # outputs: absent in old files
        if not isinstance(inputs, Mapping) or not isinstance(outputs, Mapping):
            raise TypeError("inputs and outputs must be objects")
        baseline, run = data.get("baseline"), data.get("run")
        return cls(
            verdict=cast(Literal["open", "closed"], verdict),
            code=ExitCode(code),
            headline=str(data.get("headline") or ""),
            reasons=tuple(Reason.from_dict(reason) for reason in data.get("reasons") or ()),
            notes=tuple(Note.from_dict(note) for note in data.get("notes") or ()),
            required=Required.from_dict(_object(data, "required")),
            policy=cast(PolicyRecord, dict(_object(data, "policy"))) if data.get("policy") else None,
            counts=GateCounts.from_dict(_object(data, "counts")),
            cells=tuple(GateCell.from_dict(cell) for cell in data.get("cells") or ()),
            failures=tuple(TestRef.from_dict(ref) for ref in data.get("failures") or ()),
            flaky=tuple(TestRef.from_dict(ref) for ref in data.get("flaky") or ()),
            quarantined=tuple(Quarantined.from_dict(item) for item in data.get("quarantined") or ()),
            baseline=BaselineDiff.from_dict(baseline) if baseline else None,
            inputs=GateInputs.from_dict(inputs),
            outputs=tuple(str(p) for p in outputs.get("paths") or ()),
            git=GitFacts.from_dict(git),
            ci=CIFacts.from_dict(ci) if ci else None,
            artifacts=tuple(_artifact(item) for item in data.get("artifacts") or ()),
            tools={str(name): str(version) for name, version in _object(data, "tools").items()},
            run=RunSpan(run.get("started"), run.get("finished")) if isinstance(run, Mapping) else None,
            started=str(data.get("started") or ""),
            finished=str(data.get("finished") or ""),
            path=path,
        )
