"""``gate.json``: the versioned record of a verdict, written atomically, read by publish.

Its shape is documented by the JSON Schema shipped beside this module
(``gate.schema.json``); the tests validate every file they write against it. A reader
checks the version first: a file from a newer, incompatible writer is refused rather
than half-understood.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_pipeline import fileio
from pytest_pipeline.gate.evidence import GateResults
from pytest_pipeline.gate.policy import Policy
from pytest_pipeline.gate.provenance import Provenance
from pytest_pipeline.gate.verdict import Verdict
from pytest_pipeline.results import Artifact, Counts, TestRef

GATE_FILE_VERSION = 1
GATE_FILE_NAME = "gate.json"
SCHEMA_PATH = Path(__file__).with_name("gate.schema.json")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class GateFileError(Exception):
    """A gate file that cannot be used; the message starts with its path."""


def build(
    *,
    verdict: Verdict,
    results: GateResults,
    policy: Policy,
    provenance: Provenance,
    artifacts: Iterable[Artifact],
    started: str,
    finished: str,
    headline: str,
    input_paths: Iterable[str] = (),
    output_paths: Iterable[str] = (),
) -> dict[str, Any]:
    """The gate file's content. ``input_paths`` are the paths the gate was given (results,
    plan, baseline) and ``output_paths`` the files it writes (this file, the attestation):
    publish does not count either as a dirty tree."""
    summary = results.summary
    stages: dict[str, Counts] = {}
    cells: dict[str, Counts] = {}
    for (cell, stage), counts in summary.groups.items():
        stages.setdefault(stage, Counts()).update(counts)
        cells.setdefault(cell, Counts()).update(counts)
    statuses: dict[str, str] = {}
    tested: dict[str, str | None] = {}
    for run in results.runs:
        for record in run.record.cells:
            statuses[record.name] = record.status.value
            tested[record.name] = record.tested
    reported = results.reported_cells
    cell_names = sorted(set(cells) | set(statuses) | set(results.expected_cells))
    run_times = [(run.record.started, run.record.finished) for run in results.runs]
    run_started = min((s for s, _ in run_times if s), default=None)
    run_finished = max((f for _, f in run_times if f), default=None)
    tools = dict(provenance.tools)
    return {
        "version": GATE_FILE_VERSION,
        "verdict": "open" if verdict.open else "closed",
        "code": int(verdict.code),
        "headline": headline,
        "reasons": [reason.to_dict() for reason in verdict.reasons],
        "notes": [note.to_dict() for note in verdict.notes],
        "required": {
            "stages": list(verdict.required_stages),
            "cell_patterns": list(policy.required_cells),
            "cells": list(verdict.required_cells),
        },
        "policy": policy.to_dict(),
        "counts": {
            "total": summary.total().to_dict(),
            "stages": {name: counts.to_dict() for name, counts in stages.items()},
            "cells": {name: counts.to_dict() for name, counts in cells.items()},
            "groups": [
                {"cell": cell, "stage": stage, **counts.to_dict()}
                for (cell, stage), counts in summary.groups.items()
            ],
        },
        "cells": [
            {
                "name": name,
                "status": statuses.get(name),
                "reported": name in reported,
                "required": name in verdict.required_cells,
                "tested": tested.get(name),
            }
            for name in cell_names
        ],
        "failures": [ref.to_dict() for ref in verdict.failures],
        "flaky": [ref.to_dict() for ref in verdict.flaky],
        "quarantined": [item.to_dict() for item in verdict.quarantined],
        "baseline": verdict.baseline.to_dict() if verdict.baseline else None,
        "inputs": {
            "paths": list(input_paths),
            "files": list(summary.files),
            "run_records": [run.source for run in results.runs],
            "problems": [problem.to_dict() for problem in summary.problems],
        },
        "outputs": {"paths": list(output_paths)},
        "git": _git(provenance, results),
        "ci": provenance.ci.to_dict() if provenance.ci else None,
        "artifacts": [artifact.to_dict() for artifact in artifacts],
        "tools": tools,
        "run": {"started": run_started, "finished": run_finished} if results.runs else None,
        "started": started,
        "finished": finished,
    }


def _git(provenance: Provenance, results: GateResults) -> dict[str, Any]:
    """Git facts; the tree counts as dirty also when the cells tested uncommitted changes."""
    data = provenance.git.to_dict()
    dirty_runs = [run.source for run in results.runs if run.record.dirty]
    if dirty_runs:
        data["dirty"] = True
        data["dirty_paths"] = [
            *data["dirty_paths"],
            *(f"{source} (tested uncommitted changes)" for source in dirty_runs),
        ]
    return data


def write(path: Path, record: Mapping[str, Any]) -> None:
    """Write the gate file, and append its verdict to ``history.jsonl`` beside it (what
    ``pytest-pipeline status`` reads to name the last commit whose gate opened)."""
    from pytest_pipeline.gate import history

    fileio.write_json_atomic(path, record)
    history.record_verdict(path, record)


def schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return data


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class GateRecord:
    """The parts of a gate file that publish and baselines rely on (all checked)."""

    path: str
    verdict: str
    code: int
    commit: str | None
    dirty: bool
    is_pull_request: bool
    artifacts: tuple[Artifact, ...]
    failures: tuple[TestRef, ...]
    cells: tuple[str, ...]
    """Cells that reported results."""
    reasons: tuple[str, ...]
    """``cell: message`` of each reason, for a refusal message."""
    input_paths: tuple[str, ...]
    """What the gate read (results, plan, baseline): not source, even when untracked."""
    output_paths: tuple[str, ...]
    """What the gate wrote (the gate file, the attestation): not source either."""
    data: Mapping[str, Any]

    @property
    def open(self) -> bool:
        return self.verdict == "open" and self.code == 0


def read(path: Path) -> GateRecord:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise GateFileError(f"{path}: does not exist") from None
    except OSError as exc:
        raise GateFileError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise GateFileError(f"{path}: is not JSON ({str(exc)[:120]})") from None
    if not isinstance(data, dict):
        raise GateFileError(f"{path}: is not a gate file (not a JSON object)")
    version = data.get("version")
    if version != GATE_FILE_VERSION:
        raise GateFileError(
            f"{path}: gate file version {version!r} is not supported (expected {GATE_FILE_VERSION})"
        )
    try:
        return _parse(path, data)
    except (KeyError, TypeError, ValueError) as exc:
        raise GateFileError(
            f"{path}: is not a valid gate file ({type(exc).__name__}: {str(exc)[:120]})"
        ) from None


def _parse(path: Path, data: Mapping[str, Any]) -> GateRecord:
    verdict = data["verdict"]
    code = data["code"]
    if verdict not in ("open", "closed") or not isinstance(code, int) or isinstance(code, bool):
        raise ValueError("verdict must be 'open' or 'closed' and code an integer")
    git = data.get("git") or {}
    if not isinstance(git, dict):
        raise TypeError("git must be an object")
    commit = git.get("commit")
    if commit is not None and not isinstance(commit, str):
        raise TypeError("git.commit must be a string")
    ci = data.get("ci") or {}
    if not isinstance(ci, dict):
        raise TypeError("ci must be an object")
    artifacts = []
    for item in data.get("artifacts") or ():
        artifact = Artifact.from_dict(item)
        if not isinstance(artifact.name, str) or not _SHA256.match(str(artifact.sha256)):
            raise ValueError(f"artifact {item!r} needs a name and a lowercase hex sha256")
        artifacts.append(artifact)
    failures = tuple(TestRef.from_dict(ref) for ref in data.get("failures") or ())
    cells = tuple(cell["name"] for cell in data.get("cells") or () if cell.get("reported"))
    reasons = tuple(
        f"{reason.get('cell')}: {reason.get('message')}" if reason.get("cell") else str(reason.get("message"))
        for reason in data.get("reasons") or ()
    )
    inputs = data.get("inputs") or {}
    outputs = data.get("outputs") or {}  # absent in files of earlier writers
    if not isinstance(inputs, dict) or not isinstance(outputs, dict):
        raise TypeError("inputs and outputs must be objects")
    input_paths = tuple(str(p) for p in inputs.get("paths") or ())
    output_paths = tuple(str(p) for p in outputs.get("paths") or ())
    return GateRecord(
        path=str(path),
        verdict=verdict,
        code=code,
        commit=commit,
        dirty=bool(git.get("dirty", False)),
        is_pull_request=bool(ci.get("is_pull_request", False)),
        artifacts=tuple(artifacts),
        failures=failures,
        cells=cells,
        reasons=reasons,
        input_paths=input_paths,
        output_paths=output_paths,
        data=data,
    )
