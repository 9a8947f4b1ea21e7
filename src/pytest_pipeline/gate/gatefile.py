"""``gate.json``: the versioned record of a verdict, written atomically, read by publish.

Its content is a :class:`~pytest_pipeline.gate.record.GateRecord`; its shape is
documented by the JSON Schema shipped beside this module (``gate.schema.json``), and the
tests validate every file they write against it. Every read checks the version first: a
file from a newer, incompatible writer is refused rather than half-understood.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pytest_pipeline import fileio
from pytest_pipeline.gate.evidence import GateResults
from pytest_pipeline.gate.policy import Policy
from pytest_pipeline.gate.provenance import GitFacts, Provenance
from pytest_pipeline.gate.record import (
    GATE_FILE_VERSION,
    GateCell,
    GateCounts,
    GateInputs,
    GateRecord,
    Required,
    RunSpan,
    UnsupportedVersion,
)
from pytest_pipeline.gate.verdict import Verdict
from pytest_pipeline.results import Counts
from pytest_pipeline.run_record import Artifact

__all__ = ["GATE_FILE_NAME", "GATE_FILE_VERSION", "GateFileError", "GateRecord", "build", "read", "write"]

GATE_FILE_NAME = "gate.json"
SCHEMA_PATH = Path(__file__).with_name("gate.schema.json")


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
) -> GateRecord:
    """The gate file's content. ``input_paths`` are the paths the gate was given (results,
    plan, baseline) and ``output_paths`` the files it writes (this file, the attestation):
    publish does not count either as a dirty tree."""
    summary = results.summary
    stages: dict[str, Counts] = {}
    cells: dict[str, Counts] = {}
    for (cell, stage), counts in summary.groups.items():
        stages.setdefault(stage, Counts()).update(counts)
        cells.setdefault(cell, Counts()).update(counts)
    run_cells = {record.name: record for run in results.runs for record in run.record.cells}
    reported = results.reported_cells
    cell_names = sorted(set(cells) | set(run_cells) | set(results.expected_cells))
    run_times = [(run.record.started, run.record.finished) for run in results.runs]
    return GateRecord(
        verdict="open" if verdict.open else "closed",
        code=verdict.code,
        headline=headline,
        reasons=verdict.reasons,
        notes=verdict.notes,
        required=Required(verdict.required_stages, policy.required_cells, verdict.required_cells),
        policy=policy.to_dict(),
        counts=GateCounts(summary.total(), stages, cells, dict(summary.groups)),
        cells=tuple(
            GateCell(
                name=name,
                status=run_cells[name].status if name in run_cells else None,
                reported=name in reported,
                required=name in verdict.required_cells,
                tested=run_cells[name].tested if name in run_cells else None,
                reused_from=run_cells[name].reused_from if name in run_cells else None,
            )
            for name in cell_names
        ),
        failures=verdict.failures,
        flaky=verdict.flaky,
        quarantined=verdict.quarantined,
        baseline=verdict.baseline,
        inputs=GateInputs(
            paths=tuple(input_paths),
            files=tuple(summary.files),
            run_records=tuple(run.source for run in results.runs),
            problems=tuple(summary.problems),
        ),
        outputs=tuple(output_paths),
        git=_git(provenance, results),
        ci=provenance.ci,
        artifacts=tuple(artifacts),
        tools=dict(provenance.tools),
        run=RunSpan(
            started=min((s for s, _ in run_times if s), default=None),
            finished=max((f for _, f in run_times if f), default=None),
        )
        if results.runs
        else None,
        started=started,
        finished=finished,
    )


def _git(provenance: Provenance, results: GateResults) -> GitFacts:
    """Git facts; the tree counts as dirty also when the cells tested uncommitted changes."""
    dirty_runs = [run.source for run in results.runs if run.record.dirty]
    if not dirty_runs:
        return provenance.git
    tested = (f"{source} (tested uncommitted changes)" for source in dirty_runs)
    return dataclasses.replace(provenance.git, dirty=True, dirty_paths=(*provenance.git.dirty_paths, *tested))


def write(path: Path, record: GateRecord) -> None:
    """Write the gate file, and append its verdict to ``history.jsonl`` beside it (what
    ``pytest-pipeline status`` reads to name the last commit whose gate opened)."""
    from pytest_pipeline.gate import history

    data = record.to_dict()
    fileio.write_json_atomic(path, data)
    history.record_verdict(path, data)


def schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return data


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
    try:
        return GateRecord.from_dict(data, path=str(path))
    except UnsupportedVersion as exc:
        raise GateFileError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise GateFileError(
            f"{path}: is not a valid gate file ({type(exc).__name__}: {str(exc)[:120]})"
        ) from None
