"""One gate evaluation: load results -> decide -> write gate.json (+ attestation) -> show.

``pytest-pipeline gate`` and the end of ``pytest-pipeline run`` both call
:func:`evaluate`, so a verdict given at the end of a run is the very verdict the
``gate`` command gives over the same files, and both print it with :func:`show`.
What differs between them (which inputs, which folders are output rather than source,
which artifacts) is the :class:`Request`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pytest_pipeline import fileio
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.gate import attestation, gatefile, inputs, provenance, render, verdict
from pytest_pipeline.gate.evidence import GateResults
from pytest_pipeline.gate.loading import load_policy_files
from pytest_pipeline.gate.policy import Policy, PolicyFiles
from pytest_pipeline.gate.record import GateRecord
from pytest_pipeline.run_record import Artifact


@dataclass(frozen=True)
class Request:
    inputs: tuple[str, ...]
    """Run records, JUnit files, folders or globs (see :mod:`pytest_pipeline.gate.inputs`)."""
    output: Path
    """Where gate.json goes."""
    policy: Policy
    default_stage: str
    cwd: Path
    """Where git is asked about the commit and the tree."""
    environ: Mapping[str, str]
    """For the CI facts (provider, run, pull request)."""
    expected_cells: tuple[str, ...] = ()
    given_artifacts: tuple[Artifact, ...] = ()
    """``--artifact`` files: what will be published (checked against what was tested)."""
    not_source: tuple[str, ...] = ()
    """Paths that are our outputs or downloaded inputs, never a dirty tree (reports folder,
    artifact folders, the plan, the baseline); relative to the current directory or absolute."""
    input_paths: tuple[str, ...] = ()
    """Recorded in gate.json so that ``publish`` does not count them as a dirty tree either."""
    attestation: Path | None = None
    """Also write an in-toto test-result Statement here."""
    config_file: Path | None = None
    """The pyproject.toml the policy came from (an attestation names it)."""
    files: PolicyFiles | None = None
    """What the policy's quarantine file and baseline say, when the caller read them
    already (:func:`~pytest_pipeline.gate.loading.load_policy_files`); None: read here."""


@dataclass(frozen=True)
class Evaluation:
    verdict: verdict.Verdict
    results: GateResults
    headline: str
    output: Path
    record: GateRecord

    @property
    def code(self) -> ExitCode:
        return ExitCode(int(self.verdict.code))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def evaluate(
    request: Request,
    *,
    reader: inputs.Reader | None = None,
    now: Callable[[], dt.datetime] = _now,
) -> Evaluation:
    """Decide over ``request.inputs`` and write gate.json (and the attestation).

    Raises :class:`~pytest_pipeline.errors.PipelineError` before writing anything when
    the request cannot be answered (an attestation without a subject).
    """
    started = now()
    files = request.files if request.files is not None else load_policy_files(request.policy)
    results = inputs.load(
        request.inputs,
        reader or inputs.junit_reader(request.default_stage),
        expected_cells=request.expected_cells,
    )
    results.given_artifacts = request.given_artifacts
    artifacts = list(request.given_artifacts) or list(results.artifacts)
    # Our own outputs are not source: recorded in gate.json, so that publish agrees.
    outputs = [str(request.output)]
    if request.attestation is not None:
        outputs.append(str(request.attestation))
    context = provenance.gather(request.cwd, request.environ, [*request.not_source, *outputs])
    if request.attestation is not None:
        attestation.subjects(artifacts, context)  # fail before writing anything
    decided = verdict.decide(results, request.policy, context, started, files)
    headline = render.headline(decided)
    record = gatefile.build(
        verdict=decided,
        results=results,
        policy=request.policy,
        provenance=context,
        artifacts=artifacts,
        started=iso(started),
        finished=iso(now()),
        headline=headline,
        input_paths=request.input_paths,
        output_paths=outputs,
    )
    gatefile.write(request.output, record)
    if request.attestation is not None:
        configuration = [request.output]
        if request.config_file is not None:
            configuration.append(request.config_file)
        if request.policy.quarantine_path:
            configuration.append(Path(request.policy.quarantine_path))
        configuration += [Path(run.source) for run in results.runs]
        statement = attestation.statement(
            verdict=decided,
            results=results,
            provenance=context,
            artifacts=artifacts,
            configuration=configuration,
        )
        fileio.write_text_atomic(request.attestation, json.dumps(statement, indent=2) + "\n")
    return Evaluation(decided, results, headline, request.output, record)


def show(evaluation: Evaluation, stream: IO[str], *, quiet: bool = False) -> None:
    """The verdict block (or only its headline), naming the gate file as given."""
    if quiet:
        stream.write(evaluation.headline + "\n")
    else:
        render.show(evaluation.verdict, evaluation.results, str(evaluation.output), stream)
    stream.flush()
