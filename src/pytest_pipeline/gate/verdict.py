"""The verdict: a pure function of results, policy, context and time.

:func:`decide` reads no file, no clock and no environment; everything arrives as an
argument, so each way of failing closed is a table row in the tests.

Every finding is either a :class:`Reason` (closes the gate with its code) or a
:class:`Note` (listed, does not close it). The exit code is the worst reason code by
:data:`pytest_pipeline.exitcodes.PRECEDENCE`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pytest_pipeline.exitcodes import PRECEDENCE, ExitCode, worst
from pytest_pipeline.gate import baseline as baseline_mod
from pytest_pipeline.gate import globs, quarantine
from pytest_pipeline.gate.evidence import CellReport, GateResults, LoadedRun
from pytest_pipeline.gate.policy import Policy
from pytest_pipeline.gate.provenance import Provenance
from pytest_pipeline.gate.releases import release_of
from pytest_pipeline.results import (
    COLLECTION_FAILURE,
    CellRecord,
    CellStatus,
    Outcome,
    TestRef,
    describe_exit,
)

# Reason kinds that mean "a test (or a cell's own command) failed": a --fail-fast
# cancel caused by one of them is not reported as incomplete on top.
TEST_FAILURE_KINDS = frozenset({"failed", "error", "blocked", "flaky", "quarantine-expired", "cell-failed"})


@dataclass(frozen=True)
class Reason:
    """A finding that closes the gate with ``code``."""

    code: ExitCode
    kind: str
    message: str
    cell: str | None = None
    stage: str | None = None
    test: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": int(self.code),
            "kind": self.kind,
            "message": self.message,
            "cell": self.cell,
            "stage": self.stage,
            "test": self.test,
        }


@dataclass(frozen=True)
class Note:
    """A finding that is listed but does not close the gate."""

    kind: str
    message: str
    cell: str | None = None
    stage: str | None = None
    test: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "message": self.message,
            "cell": self.cell,
            "stage": self.stage,
            "test": self.test,
        }


@dataclass(frozen=True)
class Quarantined:
    test: TestRef
    entry: quarantine.QuarantineEntry

    def to_dict(self) -> dict[str, Any]:
        return {**self.test.to_dict(), "quarantine": self.entry.to_dict()}


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
    expired_quarantine: tuple[quarantine.QuarantineEntry, ...] = field(default=())

    @property
    def open(self) -> bool:
        return self.code is ExitCode.OK

    @property
    def warned(self) -> bool:
        """Open, but with something a person should look at (flaky, quarantined, allowed gaps)."""
        return self.open and bool(self.flaky or self.quarantined or self.notes)


def decide(results: GateResults, policy: Policy, context: Provenance, now: dt.datetime) -> Verdict:
    return _Decision(results, policy, context, now).run()


class _Decision:
    def __init__(self, results: GateResults, policy: Policy, context: Provenance, now: dt.datetime) -> None:
        self.results = results
        self.policy = policy
        self.context = context
        self.today = now.astimezone(dt.timezone.utc).date() if now.tzinfo else now.date()
        self.reasons: list[Reason] = []
        self.notes: list[Note] = []
        self.quarantined: list[Quarantined] = []
        self.cancelled: list[tuple[LoadedRun, CellRecord]] = []
        # Cells whose own status already explains why they have no (good) results:
        # they get no "ran no tests" reason on top.
        self.explained: set[str] = set()
        # Cells where pytest stopped at a collection error that closes the gate: it ran
        # no test, so their empty stages are that error, not one more reason each.
        self.stopped_at_collection: set[str] = set()
        # Cells with no per-test results, judged by their exit code (as tox judges them).
        self.by_exit_code: set[str] = set()
        self.ignored_outcome = {
            cell.name for run in results.runs for cell in run.record.cells if cell.ignore_outcome
        }

    # ------------------------------------------------------------------ helpers

    def reason(self, code: ExitCode, kind: str, message: str, **where: str | None) -> None:
        self.reasons.append(Reason(code, kind, message, **where))

    def note(self, kind: str, message: str, **where: str | None) -> None:
        self.notes.append(Note(kind, message, **where))

    def cell_required(self, cell: str) -> bool:
        if cell in self.ignored_outcome and cell not in self.policy.required_cells:
            return False  # tox's ignore_outcome, unless the policy names the cell itself
        return globs.matches_any(self.policy.required_cells, cell)

    def in_scope(self, ref: TestRef) -> bool:
        return self.cell_required(ref.cell) and self.policy.stage_required(ref.stage)

    # ------------------------------------------------------------------ steps

    def run(self) -> Verdict:
        self.input_problems()
        for name in sorted(self.ignored_outcome):
            if not self.cell_required(name):
                self.note(
                    "ignore-outcome",
                    "not required: its tox environment sets ignore_outcome = true (its results are "
                    "reported; name the cell in required-cells to require it)",
                    cell=name,
                )
        run_stages = self.run_records()
        self.missing_cells()
        failures = self.failures()
        self.empty_stages(run_stages)
        flaky = self.flaky_tests()
        expired = self.unused_expired_entries(failures, flaky)
        diff = None
        if self.policy.baseline is not None:
            diff = baseline_mod.diff(self.policy.baseline, failures, self.results.reported_cells)
        self.cancelled_cells()
        self.artifact_checks()
        self.source_tested()
        if self.context.git.dirty:
            shown = ", ".join(self.context.git.dirty_paths[:3])
            self.note(
                "dirty-tree", f"the working tree has uncommitted changes ({shown}); publish will refuse"
            )
        order = {code: index for index, code in enumerate(PRECEDENCE)}
        reasons = sorted(self.reasons, key=lambda r: order[r.code])
        return Verdict(
            code=worst([r.code for r in reasons]),
            reasons=tuple(reasons),
            notes=tuple(self.notes),
            required_stages=self.policy.required_stages,
            required_cells=tuple(sorted(c for c in self.all_cells() if self.cell_required(c))),
            cell_patterns=self.policy.required_cells,
            failures=tuple(failures),
            flaky=tuple(flaky),
            quarantined=tuple(self.quarantined),
            baseline=diff,
            expired_quarantine=expired,
        )

    def source_tested(self) -> None:
        """nox cells test what their session installs (the source tree), not the run's
        wheel: the gate says so rather than let the artifact's sha256 speak for them."""
        names = sorted(
            cell.name
            for run in self.results.runs
            for cell in run.record.cells
            if cell.tested == "source" and self.cell_required(cell.name)
        )
        if names:
            shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            self.note(
                "tested-source",
                f"{shown} tested the source tree as nox installed it, not a built artifact: "
                "no artifact's sha256 vouches for them",
            )

    def all_cells(self) -> set[str]:
        return self.results.reported_cells | self.results.run_cells | set(self.results.expected_cells)

    def input_problems(self) -> None:
        for problem in self.results.summary.problems:
            self.reason(ExitCode.INCOMPLETE, "unreadable", f"{problem.path}: {problem.message}")
        for folder, why in self.results.unfinished_runs:
            self.reason(ExitCode.INCOMPLETE, "unfinished-run", f"{folder}: {why}")

    def run_records(self) -> dict[str, tuple[str, ...]]:
        """Check each cell's status; return the stages each run-record cell planned."""
        planned: dict[str, tuple[str, ...]] = {}
        for run in self.results.runs:
            if run.record.interrupted:
                self.reason(ExitCode.INTERRUPTED, "interrupted", f"{run.source}: the run was interrupted")
            self.run_commit(run)
            for cell in run.record.cells:
                if cell.stages:
                    planned[cell.name] = cell.stages
                report = run.reports.get(cell.name, CellReport(path=cell.junit, readable=False))
                self.cell_status(run, cell, report)
        return planned

    def run_commit(self, run: LoadedRun) -> None:
        # Results of another commit say nothing about this one: a run, then a commit,
        # then a gate over the old reports must not open the gate for the new commit.
        head = self.context.git.commit
        tested = run.record.commit
        if head and not tested:
            self.reason(
                ExitCode.INCOMPLETE,
                "stale-results",
                f"{run.source} records no commit, so nothing ties its results to HEAD {head[:12]}; "
                "run the cells inside the repository (pytest-pipeline run records the commit)",
            )
        elif tested and head and tested != head:
            self.reason(
                ExitCode.INCOMPLETE,
                "stale-results",
                f"{run.source} holds results for commit {tested[:12]}, but HEAD is {head[:12]}; "
                "run the cells again on this commit",
            )
        if run.record.dirty:
            self.note(
                "dirty-run",
                f"{run.source}: the cells tested uncommitted changes; publish will refuse this gate",
            )

    def cell_status(self, run: LoadedRun, cell: CellRecord, report: CellReport) -> None:
        required = self.cell_required(cell.name)
        status = cell.status
        detail = f": {cell.message}" if cell.message else ""
        log = f" (log: {cell.log})" if cell.log else ""
        if status is CellStatus.CANCELLED:
            self.explained.add(cell.name)
            if required:
                self.cancelled.append((run, cell))
            else:
                self.note("cancelled", "cancelled (not a required cell)", cell=cell.name)
            return
        closing: tuple[ExitCode, str, str] | None = None
        if status is CellStatus.ENV_ERROR:
            closing = (ExitCode.INCOMPLETE, "env-error", f"its environment could not be set up{detail}{log}")
        elif status is CellStatus.CRASHED:
            closing = (ExitCode.INCOMPLETE, "crashed", f"{crash_message(cell, report.readable)}{log}")
        elif status is CellStatus.TIMED_OUT:
            closing = (ExitCode.INCOMPLETE, "timed-out", f"did not finish in time{detail}{log}")
        elif status is CellStatus.INTERRUPTED:
            closing = (ExitCode.INTERRUPTED, "interrupted", f"interrupted{detail}")
        elif status in (CellStatus.QUEUED, CellStatus.RUNNING):
            closing = (ExitCode.INCOMPLETE, "unfinished", f"never finished (status {status.value})")
        elif status is CellStatus.MISSING_INTERPRETER:
            interpreter = cell.python or "its interpreter"
            if self.policy.closes_on_missing_interpreter(self.context.in_ci):
                closing = (
                    ExitCode.INCOMPLETE,
                    "missing-interpreter",
                    f"{interpreter} is not installed{detail}",
                )
            else:
                self.explained.add(cell.name)
                self.note(
                    "missing-interpreter",
                    f"skipped: {interpreter} is not installed (allowed here; closes the gate in CI "
                    "or with missing-interpreters = 'fail')",
                    cell=cell.name,
                )
                return
        if closing is not None:
            self.explained.add(cell.name)
            code, kind, message = closing
            if required:
                self.reason(code, kind, message, cell=cell.name)
            else:
                self.note(kind, f"{message} (not a required cell)", cell=cell.name)
            return
        if not cell.runs_pytest and report.path is None:
            self.without_pytest(cell, required, log)
            return
        # passed / failed / no-tests: the cell says it ran, so its report must be there.
        if not report.readable:
            self.explained.add(cell.name)
            why = report.problem or (
                "the run record names no JUnit file" if report.path is None else "missing"
            )
            verdict = "failed" if cell.exit_code else "passed"
            message = f"no report ({why}): trusting exit code {cell.exit_code} ({verdict}) is not enough{log}"
            if required:
                self.reason(ExitCode.INCOMPLETE, "no-report", message, cell=cell.name)
            else:
                self.note("no-report", message, cell=cell.name)
            return
        if status is CellStatus.FAILED and required:
            bad = self.results.summary.cell_total(cell.name).bad
            if bad == 0:
                self.reason(
                    ExitCode.TESTS_FAILED,
                    "cell-failed",
                    f"exited with code {cell.exit_code} but its report shows no failing test "
                    f"(a command after pytest failed?){log}",
                    cell=cell.name,
                )

    def without_pytest(self, cell: CellRecord, required: bool, log: str) -> None:
        """A cell included on purpose that runs no pytest (lint, docs): it can have no
        JUnit report, so its own commands' exit code is all there is to judge it by."""
        self.explained.add(cell.name)
        self.by_exit_code.add(cell.name)
        if cell.exit_code == 0 and cell.status is CellStatus.PASSED:
            message = "runs no pytest (no JUnit report): passed by its exit code 0"
            self.note("no-pytest", message, cell=cell.name)
            return
        code = "no exit code" if cell.exit_code is None else f"exit code {cell.exit_code}"
        message = f"runs no pytest (no JUnit report) and its commands failed with {code}{log}"
        if required:
            self.reason(ExitCode.TESTS_FAILED, "cell-failed", message, cell=cell.name)
        else:
            self.note("cell-failed", f"{message} (not a required cell)", cell=cell.name)

    def missing_cells(self) -> None:
        present = self.results.reported_cells | self.results.run_cells
        for name in dict.fromkeys(self.results.expected_cells):
            if name in present or not self.cell_required(name):
                continue
            self.explained.add(name)
            self.reason(
                ExitCode.INCOMPLETE,
                "missing-cell",
                "expected but has no results (no result file and no run record names it)",
                cell=name,
            )
        known = present | set(self.results.expected_cells)
        for pattern in self.policy.required_cells:
            if any(globs.matches(pattern, name) for name in known):
                continue
            what = "cell" if globs.is_literal(pattern) else "cell matching"
            self.reason(
                ExitCode.INCOMPLETE,
                "missing-cell",
                f"required {what} {pattern!r} has no results",
                cell=pattern,
            )

    def empty_stages(self, planned: dict[str, tuple[str, ...]]) -> None:
        summary = self.results.summary
        required = [c for c in sorted(self.all_cells()) if self.cell_required(c)]
        if required and set(required) <= self.by_exit_code:
            # unittest, a lint env...: no cell can say which stage a test was in. Stages are
            # not judged; each cell's exit code is its verdict, as tox's is.
            self.note(
                "no-per-test-results",
                "no required cell reports per-test results (none runs pytest with the pipeline "
                "plugin): stages are not judged, the cells' exit codes decide",
            )
            return
        usable = [c for c in required if c in self.results.reported_cells and c not in self.explained]
        for stage in self.policy.required_stages:
            if stage in self.policy.unused_stages_ok and not any(
                counts.tests for (_, group_stage), counts in summary.groups.items() if group_stage == stage
            ):
                self.note(
                    "unused-stage",
                    f"stage {stage!r} has no tests in any cell; the project declares no stages, so it is "
                    "not required (list them in [tool.pytest-pipeline] stages to require them)",
                    stage=stage,
                )
                continue
            applicable = 0
            for cell in usable:
                if not self.policy.stage_runs_in(stage, cell):
                    continue
                if cell in planned and stage not in planned[cell]:
                    continue
                applicable += 1
                if cell in self.stopped_at_collection:
                    continue
                counts = summary.groups.get((cell, stage))
                if counts is not None and (counts.ran or counts.blocked):
                    continue
                if counts is None or counts.tests == 0:
                    message = f"stage {stage!r} ran no tests"
                else:
                    message = f"stage {stage!r} ran no tests: all {counts.skipped} skipped"
                self.empty(stage, message, cell)
            if applicable:
                continue  # each usable cell answered for this stage above
            # No usable cell runs this stage: whatever else is wrong (cells skipped for a
            # missing interpreter, cancelled, broken), a required stage that ran nowhere
            # must never let the gate open.
            ran = any(
                (counts.ran or counts.blocked)
                for (cell, group_stage), counts in summary.groups.items()
                if group_stage == stage and cell in required
            )
            if not ran:
                message = (
                    f"required stage {stage!r} runs in none of the required cells"
                    if usable
                    else f"required stage {stage!r} ran no tests in any required cell"
                )
                self.empty(stage, message, None)

    def empty(self, stage: str, message: str, cell: str | None) -> None:
        if stage in self.policy.allow_empty_stages:
            self.note("empty-stage", f"{message} (allowed by allow-empty-stages)", cell=cell, stage=stage)
        else:
            self.reason(ExitCode.NO_TESTS, "empty-stage", message, cell=cell, stage=stage)

    def failures(self) -> list[TestRef]:
        all_bad = list(self.results.summary.failures)
        baseline = self.policy.baseline if self.policy.mode == "regressions-only" else None
        blocked: Counter[tuple[str, str]] = Counter()
        blocked_example: dict[tuple[str, str], TestRef] = {}
        for ref in all_bad:
            where = {"cell": ref.cell, "stage": ref.stage, "test": ref.test_id}
            if not self.in_scope(ref):
                self.note("not-required", f"{ref.outcome.value} outside the required cells/stages", **where)
                continue
            if baseline is not None and baseline.has(ref):
                self.note("baseline", f"still {ref.outcome.value} (also failing in the baseline)", **where)
                continue
            if ref.outcome is Outcome.BLOCKED:
                # One line per (cell, stage): a blocked stage is one event, not 500.
                blocked[(ref.cell, ref.stage)] += 1
                blocked_example.setdefault((ref.cell, ref.stage), ref)
                continue
            match = quarantine.find(self.policy.quarantine, ref, self.today)
            if match.active is not None:
                self.quarantined.append(Quarantined(ref, match.active))
                self.note(
                    "quarantined",
                    f"{ref.outcome.value}, quarantined until {match.active.expires}: {match.active.reason}",
                    **where,
                )
                continue
            summary = _first_line(ref.message)
            if match.expired is not None:
                self.reason(
                    ExitCode.TESTS_FAILED,
                    "quarantine-expired",
                    f"{ref.outcome.value}; its quarantine entry {match.expired.id!r} expired on "
                    f"{match.expired.expires} and no longer applies{summary}",
                    **where,
                )
                continue
            kind = "error" if ref.outcome is Outcome.ERROR else "failed"
            self.reason(ExitCode.TESTS_FAILED, kind, f"{ref.outcome.value}{summary}", **where)
            if ref.outcome is Outcome.ERROR and ref.message == COLLECTION_FAILURE:
                self.stopped_at_collection.add(ref.cell)
        omitted = self.results.summary.failures_omitted
        if omitted:
            # Not listed, so neither scope nor quarantine can be checked: they count.
            self.reason(
                ExitCode.TESTS_FAILED,
                "failed",
                f"{omitted} more failed, errored or blocked tests (too many to list; see the JUnit files)",
            )
        for (cell, stage), count in blocked.items():
            example = blocked_example[(cell, stage)]
            detail = _first_line(example.message) or ": blocked by a failure in an earlier stage"
            tests = "test" if count == 1 else "tests"
            self.reason(
                ExitCode.TESTS_FAILED, "blocked", f"{count} {tests} blocked{detail}", cell=cell, stage=stage
            )
        return all_bad

    def flaky_tests(self) -> list[TestRef]:
        flaky = list(self.results.summary.flaky)
        for ref in flaky:
            where = {"cell": ref.cell, "stage": ref.stage, "test": ref.test_id}
            attempts = f" after {ref.attempts} attempts" if ref.attempts > 1 else " after a failed attempt"
            if not self.in_scope(ref):
                self.note("flaky", f"passed{attempts} (not required)", **where)
            elif self.policy.flaky == "allow":
                self.note("flaky", f"passed{attempts} (allowed by flaky = 'allow')", **where)
            else:
                match = quarantine.find(self.policy.quarantine, ref, self.today)
                if match.active is not None:
                    self.quarantined.append(Quarantined(ref, match.active))
                    self.note("quarantined", f"flaky but quarantined until {match.active.expires}", **where)
                else:
                    self.reason(
                        ExitCode.TESTS_FAILED, "flaky", f"passed only{attempts} (flaky = 'fail')", **where
                    )
        omitted = self.results.summary.flaky_omitted
        if omitted and self.policy.flaky == "fail":
            self.reason(ExitCode.TESTS_FAILED, "flaky", f"{omitted} more flaky passes (too many to list)")
        return flaky

    def unused_expired_entries(
        self, failures: list[TestRef], flaky: list[TestRef]
    ) -> tuple[quarantine.QuarantineEntry, ...]:
        expired = tuple(entry for entry in self.policy.quarantine if entry.expired(self.today))
        for entry in expired:
            if any(entry.matches(ref) for ref in (*failures, *flaky)):
                continue  # already a reason of its own
            self.note(
                "quarantine-expired",
                f"quarantine entry {entry.id!r} expired on {entry.expires}; remove it or extend it",
                test=entry.id,
            )
        return expired

    def artifact_checks(self) -> None:
        # The gate vouches for one exact build: cells that installed different builds of
        # a package, or a --artifact that is not the build the cells installed, mean the
        # tested thing is not (all of) the thing that would be published.
        installed: dict[str, set[str]] = {}
        for artifact in self.results.artifacts:
            installed.setdefault(artifact.name, set()).add(artifact.sha256)
        for name, digests in installed.items():
            if len(digests) > 1:
                shown = ", ".join(sorted(d[:12] for d in digests))
                self.reason(
                    ExitCode.INCOMPLETE,
                    "artifact-mismatch",
                    f"the run records disagree about {name} (sha256 {shown}): the cells tested different "
                    "builds; build once and give every job the same file",
                )
        releases = {release_of(name): name for name in installed}
        for artifact in self.results.given_artifacts:
            tested = installed.get(artifact.name, set())
            if tested and artifact.sha256 not in tested:
                shown = ", ".join(sorted(d[:12] for d in tested))
                self.reason(
                    ExitCode.INCOMPLETE,
                    "artifact-mismatch",
                    f"--artifact {artifact.name} (sha256 {artifact.sha256[:12]}) is not the build the cells "
                    f"installed (sha256 {shown}); gate the file that was tested",
                )
            elif not tested and installed:
                # Not installed in any cell. Only the sdist built beside the tested wheel
                # (same project, version and commit) may go with it: another wheel of the
                # release (a platform wheel pip would prefer) holds code no cell ran.
                release = release_of(artifact.name) if not artifact.name.endswith(".whl") else None
                wheel = releases.get(release) if release is not None else None
                if wheel is not None:
                    self.note(
                        "artifact-companion",
                        f"--artifact {artifact.name} was not installed in the cells; it is the same "
                        f"project and version as the tested {wheel}",
                    )
                else:
                    self.reason(
                        ExitCode.INCOMPLETE,
                        "artifact-mismatch",
                        f"--artifact {artifact.name} is not what the cells tested "
                        f"({', '.join(sorted(installed))}) nor its project's release; gate the file that "
                        "was tested",
                    )

    def cancelled_cells(self) -> None:
        # --fail-fast cancels the rest of the matrix after a failure. When that failure
        # already closes the gate, the cancelled cells are its consequence, not a second
        # problem; otherwise (the failure was outside the requirements, or nothing says
        # why) they are cells that did not run: incomplete.
        failing = any(r.kind in TEST_FAILURE_KINDS for r in self.reasons)
        for _, cell in self.cancelled:
            if failing:
                self.note(
                    "cancelled",
                    "cancelled by --fail-fast after a failure that closes the gate",
                    cell=cell.name,
                )
            else:
                self.reason(
                    ExitCode.INCOMPLETE,
                    "cancelled",
                    f"cancelled before it finished{': ' + cell.message if cell.message else ''}",
                    cell=cell.name,
                )


def crash_message(cell: CellRecord, report_readable: bool) -> str:
    """``crashed: ...``, naming how the cell ended once.

    A cell killed by a signal says so first (the runner's own words, "no report: trusting
    exit code -9" or "pytest exited with -9", add nothing to it); otherwise the runner's
    message, with the exit code added only when the message does not already give it."""
    code = cell.exit_code
    if code is None:
        return f"crashed: {cell.message}" if cell.message else "crashed"
    no_report = "" if report_readable else ", no report"
    if code < 0 or not cell.message:
        return f"crashed: {describe_exit(code)}{no_report}"
    if re.search(rf"\bexit(?:ed with| code)? {code}\b", cell.message):
        return f"crashed: {cell.message}"
    return f"crashed: {cell.message} ({describe_exit(code)})"


def _first_line(message: str, limit: int = 200) -> str:
    line = message.strip().splitlines()[0] if message.strip() else ""
    if len(line) > limit:
        line = line[: limit - 1] + "…"
    return f": {line}" if line else ""
