"""An in-toto Statement (v1) with the test-result predicate, ready to be signed.

Spec: https://github.com/in-toto/attestation/blob/main/spec/predicates/test-result.md

- ``subject``: the tested artifacts, each ``{"name", "digest": {"sha256"}}``; without
  an artifact, the git commit (``{"digest": {"gitCommit"}}``), as the spec's example does.
- ``predicate.result``: ``FAILED`` when the gate is closed, ``WARNED`` when it is open
  with notes (allowed flaky passes, quarantined failures, allowed gaps), else ``PASSED``.
- ``passedTests``/``warnedTests``/``failedTests``: one entry per required
  (stage, cell), named ``"<stage> (<cell>)"`` like a CI matrix job; a summary of a
  test *suite* invocation, as the predicate intends, not a list of every test.
- ``configuration``: resource descriptors (name + sha256) of the files that decided
  the verdict: ``gate.json`` itself, the pyproject.toml, the quarantine file and the
  run records.
- ``url``: the CI run, when known.

Signing is left to standard tools (``cosign attest-blob``, ``in-toto-attestation``,
GitHub's ``actions/attest``), which take this Statement as the payload.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pytest_pipeline.errors import PipelineError
from pytest_pipeline.fileio import sha256_file
from pytest_pipeline.gate.evidence import GateResults
from pytest_pipeline.gate.findings import CELL_PROBLEM_KINDS
from pytest_pipeline.gate.provenance import Provenance
from pytest_pipeline.gate.verdict import Verdict
from pytest_pipeline.run_record import Artifact

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://in-toto.io/attestation/test-result/v0.1"


def group_name(stage: str, cell: str) -> str:
    return f"{stage} ({cell})"


def _display_name(path: Path) -> str:
    """Relative to the current directory when below it: stable across machines."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.name


def result(verdict: Verdict) -> str:
    if not verdict.open:
        return "FAILED"
    return "WARNED" if verdict.warned else "PASSED"


def group_results(verdict: Verdict, results: GateResults) -> tuple[list[str], list[str], list[str]]:
    """(passed, warned, failed) ``"<stage> (<cell>)"`` names over the required grid."""
    failed_cells = {
        r.cell for r in verdict.reasons if r.cell and r.stage is None and r.kind in CELL_PROBLEM_KINDS
    }
    failed_groups = {(r.cell, r.stage) for r in verdict.reasons if r.cell and r.stage}
    warned_cells = {n.cell for n in verdict.notes if n.cell and n.stage is None}
    warned_groups = {(n.cell, n.stage) for n in verdict.notes if n.cell and n.stage}
    passed: list[str] = []
    warned: list[str] = []
    failed: list[str] = []
    groups = results.summary.groups
    for cell in verdict.required_cells:
        for stage in verdict.required_stages:
            counts = groups.get((cell, stage))
            name = group_name(stage, cell)
            if cell in failed_cells or (cell, stage) in failed_groups:
                failed.append(name)
            elif counts is None or counts.tests == 0:
                # Not run here and not a reason: the stage does not run in this cell.
                if cell in warned_cells:
                    warned.append(name)
                continue
            elif cell in warned_cells or (cell, stage) in warned_groups or counts.flaky:
                warned.append(name)
            else:
                passed.append(name)
    return passed, warned, failed


def subjects(artifacts: Iterable[Artifact], provenance: Provenance) -> list[dict[str, Any]]:
    """The tested artifacts, else the commit; a usage error when there is neither."""
    subject: list[dict[str, Any]] = [{"name": a.name, "digest": {"sha256": a.sha256}} for a in artifacts]
    if subject:
        return subject
    if provenance.git.commit is None:
        raise PipelineError(
            "--attestation needs a subject: pass --artifact FILE (the built package), "
            "or run the gate inside a git repository"
        )
    return [{"digest": {"gitCommit": provenance.git.commit}}]


def statement(
    *,
    verdict: Verdict,
    results: GateResults,
    provenance: Provenance,
    artifacts: Iterable[Artifact],
    configuration: Iterable[Path],
) -> dict[str, Any]:
    subject = subjects(artifacts, provenance)
    passed, warned, failed = group_results(verdict, results)
    config = []
    for path in configuration:
        if path.is_file():
            config.append({"name": _display_name(path), "digest": {"sha256": sha256_file(path)}})
    predicate: dict[str, Any] = {
        "result": result(verdict),
        "configuration": config,
        "passedTests": passed,
        "warnedTests": warned,
        "failedTests": failed,
    }
    if provenance.ci is not None and provenance.ci.run_url:
        predicate["url"] = provenance.ci.run_url
    return {
        "_type": STATEMENT_TYPE,
        "subject": subject,
        "predicateType": PREDICATE_TYPE,
        "predicate": predicate,
    }
