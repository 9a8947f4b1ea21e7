"""Checks of the inputs and of each cell as a whole: unreadable files, unfinished or
stale runs, how each cell ended, cells that are missing or were cancelled."""

from __future__ import annotations

import re

from pytest_pipeline import globs
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.gate.decision import Decision
from pytest_pipeline.gate.evidence import CellReport, LoadedRun
from pytest_pipeline.gate.findings import TEST_FAILURE_KINDS, NoteKind, ReasonKind
from pytest_pipeline.run_record import CellRecord, CellStatus, describe_exit, describe_origin


def input_problems(decision: Decision) -> None:
    for problem in decision.results.summary.problems:
        decision.reason(ExitCode.INCOMPLETE, ReasonKind.UNREADABLE, f"{problem.path}: {problem.message}")
    for folder, why in decision.results.unfinished_runs:
        decision.reason(ExitCode.INCOMPLETE, ReasonKind.UNFINISHED_RUN, f"{folder}: {why}")


def ignored_outcomes(decision: Decision) -> None:
    for name in sorted(decision.ignored_outcome):
        if not decision.cell_required(name):
            decision.note(
                NoteKind.IGNORE_OUTCOME,
                "not required: its tox environment sets ignore_outcome = true (its results are "
                "reported; name the cell in required-cells to require it)",
                cell=name,
            )


def run_records(decision: Decision) -> dict[str, tuple[str, ...]]:
    """Check each cell's status; return the stages each run-record cell planned."""
    planned: dict[str, tuple[str, ...]] = {}
    for run in decision.results.runs:
        if run.record.interrupted:
            decision.reason(
                ExitCode.INTERRUPTED, ReasonKind.INTERRUPTED, f"{run.source}: the run was interrupted"
            )
        run_commit(decision, run)
        for cell in run.record.cells:
            if cell.stages:
                planned[cell.name] = cell.stages
            report = run.reports.get(cell.name, CellReport(path=cell.junit, readable=False))
            cell_status(decision, run, cell, report)
    return planned


def run_commit(decision: Decision, run: LoadedRun) -> None:
    # Results of another commit say nothing about this one: a run, then a commit,
    # then a gate over the old reports must not open the gate for the new commit.
    head = decision.context.git.commit
    tested = run.record.commit
    if head and not tested:
        decision.reason(
            ExitCode.INCOMPLETE,
            ReasonKind.STALE_RESULTS,
            f"{run.source} records no commit, so nothing ties its results to HEAD {head[:12]}; "
            "run the cells inside the repository (pytest-pipeline run records the commit)",
        )
    elif tested and head and tested != head:
        decision.reason(
            ExitCode.INCOMPLETE,
            ReasonKind.STALE_RESULTS,
            f"{run.source} holds results for commit {tested[:12]}, but HEAD is {head[:12]}; "
            "run the cells again on this commit",
        )
    if run.record.dirty:
        decision.note(
            NoteKind.DIRTY_RUN,
            f"{run.source}: the cells tested uncommitted changes; publish will refuse this gate",
        )


def _ended_badly(
    decision: Decision, cell: CellRecord, report: CellReport
) -> tuple[ExitCode, ReasonKind, str] | None:
    """The code, kind and message of a cell that did not run to its end, else None."""
    status = cell.status
    detail = f": {cell.message}" if cell.message else ""
    log = f" (log: {cell.log})" if cell.log else ""
    if status is CellStatus.ENV_ERROR:
        return ExitCode.INCOMPLETE, ReasonKind.ENV_ERROR, f"its environment could not be set up{detail}{log}"
    if status is CellStatus.CRASHED:
        return ExitCode.INCOMPLETE, ReasonKind.CRASHED, f"{crash_message(cell, report.readable)}{log}"
    if status is CellStatus.TIMED_OUT:
        return ExitCode.INCOMPLETE, ReasonKind.TIMED_OUT, f"did not finish in time{detail}{log}"
    if status is CellStatus.INTERRUPTED:
        return ExitCode.INTERRUPTED, ReasonKind.INTERRUPTED, f"interrupted{detail}"
    if status in (CellStatus.QUEUED, CellStatus.RUNNING):
        return ExitCode.INCOMPLETE, ReasonKind.UNFINISHED, f"never finished (status {status.value})"
    if status is CellStatus.MISSING_INTERPRETER and decision.policy.closes_on_missing_interpreter(
        decision.context.in_ci
    ):
        interpreter = cell.python or "its interpreter"
        return ExitCode.INCOMPLETE, ReasonKind.MISSING_INTERPRETER, f"{interpreter} is not installed{detail}"
    return None


def cell_status(decision: Decision, run: LoadedRun, cell: CellRecord, report: CellReport) -> None:
    required = decision.cell_required(cell.name)
    status = cell.status
    log = f" (log: {cell.log})" if cell.log else ""
    if status is CellStatus.CANCELLED:
        decision.explained.add(cell.name)
        if required:
            decision.cancelled.append((run, cell))
        else:
            decision.note(ReasonKind.CANCELLED, "cancelled (not a required cell)", cell=cell.name)
        return
    closing = _ended_badly(decision, cell, report)
    if closing is None and status is CellStatus.MISSING_INTERPRETER:
        decision.explained.add(cell.name)
        decision.note(
            ReasonKind.MISSING_INTERPRETER,
            f"skipped: {cell.python or 'its interpreter'} is not installed (allowed here; closes the gate "
            "in CI or with missing-interpreters = 'fail')",
            cell=cell.name,
        )
        return
    if closing is not None:
        decision.explained.add(cell.name)
        code, kind, message = closing
        if required:
            decision.reason(code, kind, message, cell=cell.name)
        else:
            decision.note(kind, f"{message} (not a required cell)", cell=cell.name)
        return
    if not cell.runs_pytest and report.path is None:
        without_pytest(decision, cell, required, log)
        return
    # passed / failed / no-tests: the cell says it ran, so its report must be there.
    if not report.readable:
        no_report(decision, cell, report, required, log)
        return
    if status is CellStatus.FAILED and required and decision.results.summary.cell_total(cell.name).bad == 0:
        decision.reason(
            ExitCode.TESTS_FAILED,
            ReasonKind.CELL_FAILED,
            f"exited with code {cell.exit_code} but its report shows no failing test "
            f"(a command after pytest failed?){log}",
            cell=cell.name,
        )


def no_report(decision: Decision, cell: CellRecord, report: CellReport, required: bool, log: str) -> None:
    decision.explained.add(cell.name)
    why = report.problem or ("the run record names no JUnit file" if report.path is None else "missing")
    verdict = "failed" if cell.exit_code else "passed"
    message = f"no report ({why}): trusting exit code {cell.exit_code} ({verdict}) is not enough{log}"
    if required:
        decision.reason(ExitCode.INCOMPLETE, ReasonKind.NO_REPORT, message, cell=cell.name)
    else:
        decision.note(ReasonKind.NO_REPORT, message, cell=cell.name)


def without_pytest(decision: Decision, cell: CellRecord, required: bool, log: str) -> None:
    """A cell included on purpose that runs no pytest (lint, docs): it can have no
    JUnit report, so its own commands' exit code is all there is to judge it by."""
    decision.explained.add(cell.name)
    decision.by_exit_code.add(cell.name)
    if cell.exit_code == 0 and cell.status is CellStatus.PASSED:
        message = "runs no pytest (no JUnit report): passed by its exit code 0"
        decision.note(NoteKind.NO_PYTEST, message, cell=cell.name)
        return
    code = "no exit code" if cell.exit_code is None else f"exit code {cell.exit_code}"
    message = f"runs no pytest (no JUnit report) and its commands failed with {code}{log}"
    if required:
        decision.reason(ExitCode.TESTS_FAILED, ReasonKind.CELL_FAILED, message, cell=cell.name)
    else:
        decision.note(ReasonKind.CELL_FAILED, f"{message} (not a required cell)", cell=cell.name)


def missing_cells(decision: Decision) -> None:
    results = decision.results
    present = results.reported_cells | results.run_cells
    for name in dict.fromkeys(results.expected_cells):
        if name in present or not decision.cell_required(name):
            continue
        decision.explained.add(name)
        decision.reason(
            ExitCode.INCOMPLETE,
            ReasonKind.MISSING_CELL,
            "expected but has no results (no result file and no run record names it)",
            cell=name,
        )
    known = present | set(results.expected_cells)
    for pattern in decision.policy.required_cells:
        if any(globs.matches_name(pattern, name) for name in known):
            continue
        what = "cell" if globs.is_literal_name(pattern) else "cell matching"
        decision.reason(
            ExitCode.INCOMPLETE,
            ReasonKind.MISSING_CELL,
            f"required {what} {pattern!r} has no results",
            cell=pattern,
        )


def cancelled_cells(decision: Decision) -> None:
    # --fail-fast cancels the rest of the matrix after a failure. When that failure
    # already closes the gate, the cancelled cells are its consequence, not a second
    # problem; otherwise (the failure was outside the requirements, or nothing says
    # why) they are cells that did not run: incomplete.
    failing = any(r.kind in TEST_FAILURE_KINDS for r in decision.reasons)
    for _, cell in decision.cancelled:
        if failing:
            decision.note(
                ReasonKind.CANCELLED,
                "cancelled by --fail-fast after a failure that closes the gate",
                cell=cell.name,
            )
        else:
            decision.reason(
                ExitCode.INCOMPLETE,
                ReasonKind.CANCELLED,
                f"cancelled before it finished{': ' + cell.message if cell.message else ''}",
                cell=cell.name,
            )


def source_tested(decision: Decision) -> None:
    """nox cells test what their session installs (the source tree), not the run's
    wheel: the gate says so rather than let the artifact's sha256 speak for them."""
    names = sorted(
        cell.name
        for run in decision.results.runs
        for cell in run.record.cells
        if cell.tested == "source" and decision.cell_required(cell.name)
    )
    if names:
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        decision.note(
            NoteKind.TESTED_SOURCE,
            f"{shown} tested the source tree as nox installed it, not a built artifact: "
            "no artifact's sha256 vouches for them",
        )


def reused_results(decision: Decision) -> None:
    """Cells whose results a run reused from an earlier run with the same inputs: a
    note each (the gate says where its results came from), or, under
    ``reused-results = "refuse"``, incomplete for a required one."""
    for run in decision.results.runs:
        for cell in run.record.cells:
            if cell.reused_from is None:
                continue
            origin = describe_origin(cell.reused_from)
            if decision.policy.reused_results == "refuse" and decision.cell_required(cell.name):
                decision.reason(
                    ExitCode.INCOMPLETE,
                    ReasonKind.REUSED_RESULTS,
                    f"{origin}; the policy refuses reused results (reused-results = 'refuse'): "
                    "run it again with pytest-pipeline run --fresh",
                    cell=cell.name,
                )
            else:
                decision.note(
                    ReasonKind.REUSED_RESULTS,
                    f"{origin}: its inputs were byte-for-byte those of that run",
                    cell=cell.name,
                )


def dirty_tree(decision: Decision) -> None:
    git = decision.context.git
    if git.dirty:
        shown = ", ".join(git.dirty_paths[:3])
        decision.note(
            NoteKind.DIRTY_TREE, f"the working tree has uncommitted changes ({shown}); publish will refuse"
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
