"""The verdict: a pure function of results, policy, context and time.

:func:`decide` reads no file, no clock and no environment; everything arrives as an
argument, so each way of failing closed is a table row in the tests.

Every finding is either a :class:`Reason` (closes the gate with its code) or a
:class:`Note` (listed, does not close it). The checks that find them live by job in
:mod:`.cell_checks`, :mod:`.stage_checks`, :mod:`.failure_checks` and
:mod:`.artifact_checks`. The exit code is the worst reason code by
:data:`pytest_pipeline.exitcodes.PRECEDENCE`, decided here and only here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pytest_pipeline.exitcodes import PRECEDENCE, ExitCode, worst
from pytest_pipeline.gate import artifact_checks, cell_checks, failure_checks, stage_checks
from pytest_pipeline.gate import baseline as baseline_mod
from pytest_pipeline.gate.decision import Decision
from pytest_pipeline.gate.evidence import GateResults
from pytest_pipeline.gate.findings import Note, NoteKind, Quarantined, Reason, ReasonKind
from pytest_pipeline.gate.policy import Policy, PolicyFiles
from pytest_pipeline.gate.provenance import Provenance
from pytest_pipeline.gate.quarantine import QuarantineEntry
from pytest_pipeline.results import TestRef

__all__ = ["Note", "NoteKind", "Quarantined", "Reason", "ReasonKind", "Verdict", "decide"]


@dataclass(frozen=True)
class Verdict:
    code: ExitCode
    reasons: tuple[Reason, ...]
    notes: tuple[Note, ...] = ()
    required_stages: tuple[str, ...] = ()
    required_cells: tuple[str, ...] = ()
    """The cells that were required (patterns resolved against the cells found)."""
    cell_patterns: tuple[str, ...] = ("*",)
    failures: tuple[TestRef, ...] = ()
    """Every bad test in every cell (a later gate's baseline)."""
    flaky: tuple[TestRef, ...] = ()
    quarantined: tuple[Quarantined, ...] = ()
    baseline: baseline_mod.BaselineDiff | None = None
    expired_quarantine: tuple[QuarantineEntry, ...] = ()

    @property
    def open(self) -> bool:
        return self.code is ExitCode.OK

    @property
    def warned(self) -> bool:
        """Open, but with something a person should look at (flaky, quarantined, allowed gaps)."""
        return self.open and bool(self.flaky or self.quarantined or self.notes)


NO_FILES = PolicyFiles()


def decide(
    results: GateResults,
    policy: Policy,
    context: Provenance,
    now: dt.datetime,
    files: PolicyFiles = NO_FILES,
) -> Verdict:
    """The verdict over ``results``; ``files`` is what the policy's quarantine file and
    baseline say (:func:`pytest_pipeline.gate.loading.load_policy_files`)."""
    decision = Decision(results, policy, files, context, now)
    cell_checks.input_problems(decision)
    cell_checks.ignored_outcomes(decision)
    planned = cell_checks.run_records(decision)
    cell_checks.missing_cells(decision)
    failures = failure_checks.failures(decision)
    stage_checks.empty_stages(decision, planned)
    flaky = failure_checks.flaky_tests(decision)
    expired = failure_checks.unused_expired_entries(decision, failures, flaky)
    diff = None
    if files.baseline is not None:
        diff = baseline_mod.diff(files.baseline, failures, results.reported_cells)
    cell_checks.cancelled_cells(decision)  # after every check that may find a test failure
    artifact_checks.artifact_checks(decision)
    cell_checks.source_tested(decision)
    cell_checks.reused_results(decision)
    cell_checks.dirty_tree(decision)
    order = {code: index for index, code in enumerate(PRECEDENCE)}
    reasons = sorted(decision.reasons, key=lambda r: order[r.code])
    return Verdict(
        code=worst([r.code for r in reasons]),
        reasons=tuple(reasons),
        notes=tuple(decision.notes),
        required_stages=policy.required_stages,
        required_cells=tuple(sorted(c for c in decision.all_cells() if decision.cell_required(c))),
        cell_patterns=policy.required_cells,
        failures=tuple(failures),
        flaky=tuple(flaky),
        quarantined=tuple(decision.quarantined),
        baseline=diff,
        expired_quarantine=expired,
    )
