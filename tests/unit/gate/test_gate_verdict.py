"""The verdict fails closed: one table row per way a release could slip through.

Every row builds results by hand (no files), runs the pure ``decide`` and asserts the
exit code and the reason (kind, where, message) that explains it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.gate.baseline import Baseline
from pytest_pipeline.gate.evidence import CellReport, GateResults, LoadedRun
from pytest_pipeline.gate.policy import Policy, PolicyFiles
from pytest_pipeline.gate.provenance import GitFacts, Provenance
from pytest_pipeline.gate.quarantine import QuarantineEntry
from pytest_pipeline.gate.verdict import Note, NoteKind, Reason, ReasonKind, Verdict, decide
from pytest_pipeline.results import Counts, InputProblem, Outcome, ResultSummary, TestRef
from pytest_pipeline.run_record import Artifact, CellRecord, CellStatus, RunRecord

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
STAGES = ("unit", "integration")
CELLS = ("py310", "py312")


def counts(
    *, passed: int = 0, failed: int = 0, errors: int = 0, skipped: int = 0, blocked: int = 0, flaky: int = 0
) -> Counts:
    return Counts(
        tests=passed + failed + errors + skipped + blocked,
        passed=passed,
        failed=failed,
        errors=errors,
        skipped=skipped,
        blocked=blocked,
        flaky=flaky,
    )


def ref(
    *,
    cell: str = "py310",
    stage: str = "unit",
    name: str = "test_add",
    outcome: Outcome = Outcome.FAILED,
    message: str = "assert 1 == 2",
    attempts: int = 1,
) -> TestRef:
    return TestRef(cell, stage, "tests.test_calc", name, outcome, message, attempts=attempts)


def green_groups(**changes: Counts) -> dict[tuple[str, str], Counts]:
    """Every cell x stage passing; ``py312__integration=counts(...)`` replaces one group."""
    groups = {(cell, stage): counts(passed=3) for cell in CELLS for stage in STAGES}
    for key, value in changes.items():
        cell, stage = key.split("__")
        groups[(cell, stage)] = value
    return groups


def summary(
    groups: Mapping[tuple[str, str], Counts] | None = None,
    failures: tuple[TestRef, ...] = (),
    flaky: tuple[TestRef, ...] = (),
    problems: tuple[InputProblem, ...] = (),
    failures_omitted: int = 0,
) -> ResultSummary:
    return ResultSummary(
        groups=dict(green_groups() if groups is None else groups),
        failures=list(failures),
        flaky=list(flaky),
        problems=list(problems),
        failures_omitted=failures_omitted,
    )


def run(
    *cells: CellRecord, interrupted: bool = False, unreadable: Mapping[str, str] | None = None
) -> LoadedRun:
    """A run record whose cells that say they ran have readable reports (unless listed)."""
    reports = {}
    for cell in cells:
        if cell.junit is None:
            continue
        problem = (unreadable or {}).get(cell.name)
        reports[cell.name] = CellReport(cell.junit, problem is None, problem)
    return LoadedRun(
        "reports/run.json", RunRecord(cells=cells, stages=STAGES, interrupted=interrupted), reports
    )


def cell(
    name: str, status: CellStatus, exit_code: int | None = 0, junit: str | None = "x.xml", **kw: Any
) -> CellRecord:
    return CellRecord(name=name, status=status, exit_code=exit_code, junit=junit, stages=STAGES, **kw)


def passing_run(*extra: CellRecord, **kw: Any) -> LoadedRun:
    names = {c.name for c in extra}
    cells = [cell(name, CellStatus.PASSED, junit=f"{name}.xml") for name in CELLS if name not in names]
    return run(*cells, *extra, **kw)


def policy(**changes: Any) -> Policy:
    return replace(Policy(stages=STAGES, required_stages=STAGES), **changes)


ORIGIN = {"run": "20261207T0800Z-1-ab", "finished": "2026-12-07T08:00:05+00:00", "commit": "0123456789abcdef"}
QUARANTINE_ACTIVE = QuarantineEntry("tests.test_calc::test_add", "flaky upstream, #12", dt.date(2026, 12, 31))
QUARANTINE_EXPIRED = QuarantineEntry("tests.test_calc::test_add", "flaky upstream, #12", dt.date(2026, 5, 31))
BASELINE = Baseline("old/gate.json", frozenset({("py310", "tests.test_calc::test_add")}), frozenset(CELLS))


def installed_and_given(tested: str, given: str) -> GateResults:
    """The cells installed ``tested`` (sha256 1...); ``--artifact`` names ``given`` (sha256 3...)."""
    return GateResults(
        summary(), artifacts=(Artifact(tested, "1" * 64),), given_artifacts=(Artifact(given, "3" * 64),)
    )


@dataclass
class Row:
    id: str
    results: GateResults
    code: ExitCode
    kind: str
    """The kind of the first (winning) reason; for an open gate, the kind of a note."""
    text: str
    """A fragment of that reason's message."""
    where: Mapping[str, str | None] = field(default_factory=dict)
    policy: Policy = field(default_factory=policy)
    in_ci: bool = False
    files: PolicyFiles = field(default_factory=PolicyFiles)
    """What the quarantine file and the baseline say."""


ROWS = [
    Row(
        "expected cell has no results",
        GateResults(summary(), expected_cells=("py310", "py312", "py311")),
        ExitCode.INCOMPLETE,
        "missing-cell",
        "expected but has no results",
        {"cell": "py311"},
    ),
    Row(
        "required cell named in policy never reported",
        GateResults(summary()),
        ExitCode.INCOMPLETE,
        "missing-cell",
        "required cell 'py313' has no results",
        {"cell": "py313"},
        policy=policy(required_cells=("py310", "py313")),
    ),
    Row(
        "no results at all",
        GateResults(summary(groups={})),
        ExitCode.INCOMPLETE,
        "missing-cell",
        "required cell matching '*' has no results",
    ),
    Row(
        "required stage ran zero tests in one cell",
        GateResults(summary(green_groups(py312__integration=counts()))),
        ExitCode.NO_TESTS,
        "empty-stage",
        "stage 'integration' ran no tests",
        {"cell": "py312", "stage": "integration"},
    ),
    Row(
        "required stage missing from a cell's report",
        GateResults(summary({k: v for k, v in green_groups().items() if k != ("py310", "unit")})),
        ExitCode.NO_TESTS,
        "empty-stage",
        "ran no tests",
        {"cell": "py310", "stage": "unit"},
    ),
    Row(
        "all tests skipped",
        GateResults(summary(green_groups(py310__unit=counts(skipped=4)))),
        ExitCode.NO_TESTS,
        "empty-stage",
        "all 4 skipped",
        {"cell": "py310", "stage": "unit"},
    ),
    Row(
        "required stage runs in none of the cells",
        GateResults(summary({k: v for k, v in green_groups().items() if k[1] == "unit"})),
        ExitCode.NO_TESTS,
        "empty-stage",
        "runs in none of the required cells",
        {"stage": "integration"},
        policy=policy(stage_cells={"integration": ("pypy*",)}),
    ),
    Row(
        "crashed cell",
        GateResults(
            summary(), runs=(passing_run(cell("py312", CellStatus.CRASHED, exit_code=-9, junit=None)),)
        ),
        ExitCode.INCOMPLETE,
        "crashed",
        "crashed: killed by SIGKILL (exit -9), no report",
        {"cell": "py312"},
    ),
    Row(
        "a cell ran out of time",
        GateResults(
            summary(),
            runs=(
                passing_run(
                    cell("py312", CellStatus.TIMED_OUT, -15, None, message="timed out after 10m", log="l.txt")
                ),
            ),
        ),
        ExitCode.INCOMPLETE,
        "timed-out",
        "did not finish in time: timed out after 10m (log: l.txt)",
        {"cell": "py312"},
    ),
    Row(
        "the results come from a run that never finished (killed)",
        GateResults(
            summary(green_groups()),
            runs=(passing_run(),),
            unfinished_runs=(("reports", "the run r1 (pid 7, started t) never finished (it was killed)"),),
        ),
        ExitCode.INCOMPLETE,
        "unfinished-run",
        "reports: the run r1 (pid 7, started t) never finished",
    ),
    Row(
        "environment could not be built",
        GateResults(
            summary(),
            runs=(
                passing_run(cell("py312", CellStatus.ENV_ERROR, 1, None, message="pip: no matching dist")),
            ),
        ),
        ExitCode.INCOMPLETE,
        "env-error",
        "pip: no matching dist",
        {"cell": "py312"},
    ),
    Row(
        "truncated result file",
        GateResults(summary(problems=(InputProblem("py310.xml", "truncated: the XML ends early"),))),
        ExitCode.INCOMPLETE,
        "unreadable",
        "py310.xml: truncated",
    ),
    Row(
        "XML bomb",
        GateResults(summary(problems=(InputProblem("evil.xml", "declares XML entities; refused"),))),
        ExitCode.INCOMPLETE,
        "unreadable",
        "evil.xml: declares XML entities",
    ),
    Row(
        "interrupted run wins over its failures",
        GateResults(summary(failures=(ref(),)), runs=(passing_run(interrupted=True),)),
        ExitCode.INTERRUPTED,
        "interrupted",
        "the run was interrupted",
    ),
    Row(
        "interrupted cell",
        GateResults(summary(), runs=(passing_run(cell("py312", CellStatus.INTERRUPTED, 2, None)),)),
        ExitCode.INTERRUPTED,
        "interrupted",
        "interrupted",
        {"cell": "py312"},
    ),
    Row(
        "stage blocked by an earlier failure",
        GateResults(
            summary(
                green_groups(py310__unit=counts(passed=2, failed=1), py310__integration=counts(blocked=2)),
                failures=(
                    ref(),
                    ref(
                        stage="integration",
                        name="test_a",
                        outcome=Outcome.BLOCKED,
                        message="blocked by a failure in stage unit",
                    ),
                    ref(
                        stage="integration",
                        name="test_b",
                        outcome=Outcome.BLOCKED,
                        message="blocked by a failure in stage unit",
                    ),
                ),
            )
        ),
        ExitCode.TESTS_FAILED,
        "failed",
        "assert 1 == 2",
        {"cell": "py310", "stage": "unit", "test": "tests.test_calc::test_add"},
    ),
    Row(
        "blocked stage alone is reported once per cell and stage",
        GateResults(
            summary(
                green_groups(py310__integration=counts(blocked=2)),
                failures=(
                    ref(
                        stage="integration",
                        name="test_a",
                        outcome=Outcome.BLOCKED,
                        message="blocked by a failure in stage unit",
                    ),
                    ref(
                        stage="integration",
                        name="test_b",
                        outcome=Outcome.BLOCKED,
                        message="blocked by a failure in stage unit",
                    ),
                ),
            )
        ),
        ExitCode.TESTS_FAILED,
        "blocked",
        "2 tests blocked: blocked by a failure in stage unit",
        {"cell": "py310", "stage": "integration"},
    ),
    Row(
        "errored test",
        GateResults(summary(failures=(ref(outcome=Outcome.ERROR, message="fixture 'db' not found"),))),
        ExitCode.TESTS_FAILED,
        "error",
        "fixture 'db' not found",
        {"cell": "py310", "test": "tests.test_calc::test_add"},
    ),
    Row(
        "flaky pass under flaky = 'fail'",
        GateResults(summary(flaky=(ref(outcome=Outcome.PASSED, attempts=3),))),
        ExitCode.TESTS_FAILED,
        "flaky",
        "passed only after 3 attempts",
        {"cell": "py310", "test": "tests.test_calc::test_add"},
        policy=policy(flaky="fail"),
    ),
    Row(
        "flaky pass under flaky = 'allow' is listed, gate open",
        GateResults(summary(flaky=(ref(outcome=Outcome.PASSED, attempts=2),))),
        ExitCode.OK,
        "flaky",
        "allowed by flaky = 'allow'",
    ),
    Row(
        "expired quarantine entry counts again",
        GateResults(summary(failures=(ref(),))),
        ExitCode.TESTS_FAILED,
        "quarantine-expired",
        "expired on 2026-05-31",
        {"test": "tests.test_calc::test_add"},
        files=PolicyFiles(quarantine=(QUARANTINE_EXPIRED,)),
    ),
    Row(
        "active quarantine keeps the gate open and lists the failure",
        GateResults(summary(failures=(ref(),))),
        ExitCode.OK,
        "quarantined",
        "quarantined until 2026-12-31",
        files=PolicyFiles(quarantine=(QUARANTINE_ACTIVE,)),
    ),
    Row(
        "quarantine limited to other cells does not apply",
        GateResults(summary(failures=(ref(),))),
        ExitCode.TESTS_FAILED,
        "failed",
        "assert 1 == 2",
        files=PolicyFiles(quarantine=(replace(QUARANTINE_ACTIVE, cells=("py312",)),)),
    ),
    Row(
        "missing interpreter in CI (auto)",
        GateResults(
            summary(),
            runs=(passing_run(cell("py312", CellStatus.MISSING_INTERPRETER, None, None, python="3.12")),),
        ),
        ExitCode.INCOMPLETE,
        "missing-interpreter",
        "3.12 is not installed",
        {"cell": "py312"},
        in_ci=True,
    ),
    Row(
        "missing interpreter locally (auto) is allowed with a warning",
        GateResults(
            summary({k: v for k, v in green_groups().items() if k[0] == "py310"}),
            runs=(passing_run(cell("py312", CellStatus.MISSING_INTERPRETER, None, None, python="3.12")),),
        ),
        ExitCode.OK,
        "missing-interpreter",
        "allowed here",
    ),
    Row(
        "missing interpreter locally with missing-interpreters = 'fail'",
        GateResults(
            summary(), runs=(passing_run(cell("py312", CellStatus.MISSING_INTERPRETER, None, None)),)
        ),
        ExitCode.INCOMPLETE,
        "missing-interpreter",
        "is not installed",
        policy=policy(missing_interpreters="fail"),
    ),
    Row(
        "cell says passed but left no report",
        GateResults(summary(), runs=(passing_run(cell("py312", CellStatus.PASSED, 0, None)),)),
        ExitCode.INCOMPLETE,
        "no-report",
        "trusting exit code 0 (passed) is not enough",
        {"cell": "py312"},
    ),
    Row(
        "cell's report is unreadable",
        GateResults(
            summary(),
            runs=(
                passing_run(
                    cell("py312", CellStatus.FAILED, 1, "py312.xml"), unreadable={"py312": "truncated"}
                ),
            ),
        ),
        ExitCode.INCOMPLETE,
        "no-report",
        "no report (truncated): trusting exit code 1 (failed)",
        {"cell": "py312"},
    ),
    Row(
        "cell failed outside its tests",
        GateResults(summary(), runs=(passing_run(cell("py312", CellStatus.FAILED, 1, "py312.xml")),)),
        ExitCode.TESTS_FAILED,
        "cell-failed",
        "exited with code 1 but its report shows no failing test",
        {"cell": "py312"},
    ),
    Row(
        "cancelled cell with nothing failing is incomplete",
        GateResults(summary(), runs=(passing_run(cell("py312", CellStatus.CANCELLED, None, None)),)),
        ExitCode.INCOMPLETE,
        "cancelled",
        "cancelled before it finished",
        {"cell": "py312"},
    ),
    Row(
        "cell still running when the record was written",
        GateResults(summary(), runs=(passing_run(cell("py312", CellStatus.RUNNING, None, None)),)),
        ExitCode.INCOMPLETE,
        "unfinished",
        "never finished",
        {"cell": "py312"},
    ),
    Row(
        "failure in a stage nobody declared still counts",
        GateResults(summary(failures=(ref(stage="perf"),))),
        ExitCode.TESTS_FAILED,
        "failed",
        "assert 1 == 2",
        {"stage": "perf"},
    ),
    Row(
        "more failures than the reader lists",
        GateResults(summary(failures_omitted=12)),
        ExitCode.TESTS_FAILED,
        "failed",
        "12 more failed",
    ),
    Row(
        "regressions-only: a new failure closes",
        GateResults(summary(failures=(ref(cell="py312"),))),
        ExitCode.TESTS_FAILED,
        "failed",
        "assert 1 == 2",
        {"cell": "py312"},
        policy=policy(mode="regressions-only"),
        files=PolicyFiles(baseline=BASELINE),
    ),
    Row(
        "regressions-only: a known failure is a note",
        GateResults(summary(failures=(ref(),))),
        ExitCode.OK,
        "baseline",
        "also failing in the baseline",
        policy=policy(mode="regressions-only"),
        files=PolicyFiles(baseline=BASELINE),
    ),
    Row(
        "a missing cell outranks test failures",
        GateResults(summary(failures=(ref(),)), expected_cells=("py311",)),
        ExitCode.INCOMPLETE,
        "missing-cell",
        "expected but has no results",
    ),
    Row(
        "an empty stage that is allowed is a note",
        GateResults(summary(green_groups(py312__integration=counts()))),
        ExitCode.OK,
        "empty-stage",
        "allowed by allow-empty-stages",
        policy=policy(allow_empty_stages=frozenset({"integration"})),
    ),
    Row(
        "cells installed different builds of the package",
        GateResults(
            summary(), artifacts=(Artifact("pkg-1.0.whl", "1" * 64), Artifact("pkg-1.0.whl", "2" * 64))
        ),
        ExitCode.INCOMPLETE,
        "artifact-mismatch",
        "the run records disagree about pkg-1.0.whl",
    ),
    Row(
        "--artifact is not the build the cells installed",
        installed_and_given("pkg-1.0.whl", "pkg-1.0.whl"),
        ExitCode.INCOMPLETE,
        "artifact-mismatch",
        "is not the build the cells installed (sha256 111111111111)",
    ),
    Row(
        "--artifact: another wheel of the tested release (a platform wheel no cell ran)",
        installed_and_given("pkg-1.0-py3-none-any.whl", "pkg-1.0-cp312-cp312-manylinux_2_17_x86_64.whl"),
        ExitCode.INCOMPLETE,
        "artifact-mismatch",
        "--artifact pkg-1.0-cp312-cp312-manylinux_2_17_x86_64.whl is not what the cells tested",
    ),
    Row(
        "--artifact of another project or version than the cells tested",
        installed_and_given("pkg-1.0-py3-none-any.whl", "pkg-1.1.tar.gz"),
        ExitCode.INCOMPLETE,
        "artifact-mismatch",
        "--artifact pkg-1.1.tar.gz is not what the cells tested (pkg-1.0-py3-none-any.whl)",
    ),
    Row(
        "every cell skipped for a missing interpreter: nothing ran",
        GateResults(
            summary(groups={}),
            runs=(
                run(
                    cell("py310", CellStatus.MISSING_INTERPRETER, None, None),
                    cell("py312", CellStatus.MISSING_INTERPRETER, None, None),
                ),
            ),
        ),
        ExitCode.NO_TESTS,
        "empty-stage",
        "required stage 'unit' ran no tests in any required cell",
        {"stage": "unit"},
    ),
    Row(
        "cell that runs no pytest (lint) failed: judged by its exit code",
        GateResults(
            summary(), runs=(passing_run(cell("lint", CellStatus.FAILED, 1, None, runs_pytest=False)),)
        ),
        ExitCode.TESTS_FAILED,
        "cell-failed",
        "runs no pytest (no JUnit report) and its commands failed with exit code 1",
        {"cell": "lint", "stage": None},
    ),
    Row(
        "cell that runs no pytest passed: a note, not a missing report",
        GateResults(
            summary(), runs=(passing_run(cell("lint", CellStatus.PASSED, 0, None, runs_pytest=False)),)
        ),
        ExitCode.OK,
        "no-pytest",
        "passed by its exit code 0",
        {"cell": "lint"},
    ),
    Row(
        "only cells without per-test results (unittest): stages are not judged, exit codes decide",
        GateResults(
            summary({}),
            runs=(run(*(cell(name, CellStatus.PASSED, 0, None, runs_pytest=False) for name in CELLS)),),
        ),
        ExitCode.OK,
        "no-per-test-results",
        "stages are not judged, the cells' exit codes decide",
    ),
    Row(
        "only cells without per-test results, one failed: the gate closes on its exit code",
        GateResults(
            summary({}),
            runs=(
                run(
                    cell("py310", CellStatus.PASSED, 0, None, runs_pytest=False),
                    cell("py312", CellStatus.FAILED, 1, None, runs_pytest=False),
                ),
            ),
        ),
        ExitCode.TESTS_FAILED,
        "cell-failed",
        "failed with exit code 1",
        {"cell": "py312"},
    ),
    Row(
        "a cell without per-test results beside a missing interpreter: the stage ran nowhere",
        GateResults(
            summary({}),
            runs=(
                run(
                    cell("py310", CellStatus.PASSED, 0, None, runs_pytest=False),
                    cell("py312", CellStatus.MISSING_INTERPRETER, None, None),
                ),
            ),
        ),
        ExitCode.NO_TESTS,
        "empty-stage",
        "required stage 'unit' ran no tests in any required cell",
        {"stage": "unit"},
    ),
    Row(
        "nox cells tested the source tree: the gate says so",
        GateResults(
            summary(),
            runs=(passing_run(cell("py312", CellStatus.PASSED, junit="py312.xml", tested="source")),),
        ),
        ExitCode.OK,
        "tested-source",
        "py312 tested the source tree as nox installed it, not a built artifact",
    ),
    Row(
        "a cell's results were reused: the gate names the run they came from",
        GateResults(
            summary(),
            runs=(passing_run(cell("py312", CellStatus.PASSED, junit="py312.xml", reused_from=ORIGIN)),),
        ),
        ExitCode.OK,
        "reused-results",
        "reused from run 20261207T0800Z-1-ab (2026-12-07T08:00:05+00:00, 0123456789ab): its inputs were",
        {"cell": "py312"},
    ),
    Row(
        "reused results under reused-results = refuse: incomplete",
        GateResults(
            summary(),
            runs=(passing_run(cell("py312", CellStatus.PASSED, junit="py312.xml", reused_from=ORIGIN)),),
        ),
        ExitCode.INCOMPLETE,
        "reused-results",
        "the policy refuses reused results (reused-results = 'refuse'): run it again with",
        {"cell": "py312"},
        policy=policy(reused_results="refuse"),
    ),
    Row(
        "reused results of a cell that is not required, under refuse: only a note",
        GateResults(
            summary(),
            runs=(
                passing_run(cell("lint", CellStatus.PASSED, 0, None, runs_pytest=False, reused_from=ORIGIN)),
            ),
        ),
        ExitCode.OK,
        "reused-results",
        "reused from run 20261207T0800Z-1-ab",
        {"cell": "lint"},
        policy=policy(required_cells=("py*",), reused_results="refuse"),
    ),
    Row(
        "cell that runs no pytest and is not required failed: a note",
        GateResults(
            summary(), runs=(passing_run(cell("lint", CellStatus.FAILED, 2, None, runs_pytest=False)),)
        ),
        ExitCode.OK,
        "cell-failed",
        "failed with exit code 2",
        {"cell": "lint"},
        policy=policy(required_cells=("py*",)),
    ),
    Row(
        "cell that runs no pytest but names an unreadable report: no report",
        GateResults(
            summary(),
            runs=(
                passing_run(
                    cell("lint", CellStatus.PASSED, 0, "lint.xml", runs_pytest=False),
                    unreadable={"lint": "truncated"},
                ),
            ),
        ),
        ExitCode.INCOMPLETE,
        "no-report",
        "no report (truncated)",
        {"cell": "lint"},
    ),
    Row(
        "failure in a cell that is not required is a note",
        GateResults(summary(failures=(ref(cell="py312"),))),
        ExitCode.OK,
        "not-required",
        "outside the required cells",
        policy=policy(required_cells=("py310",)),
    ),
    Row(
        "a built-in stage with no tests anywhere, no stages declared: a note",
        GateResults(summary({k: v for k, v in green_groups().items() if k[1] == "unit"})),
        ExitCode.OK,
        "unused-stage",
        "the project declares no stages",
        {"stage": "integration"},
        policy=policy(unused_stages_ok=frozenset({"integration"})),
    ),
    Row(
        "a built-in stage with tests in one cell only, no stages declared: still empty elsewhere",
        GateResults(summary({k: v for k, v in green_groups().items() if k != ("py312", "integration")})),
        ExitCode.NO_TESTS,
        "empty-stage",
        "stage 'integration' ran no tests",
        {"cell": "py312", "stage": "integration"},
        policy=policy(unused_stages_ok=frozenset({"integration"})),
    ),
    Row(
        "the default stage ran nothing, no stages declared: still closes",
        GateResults(summary({k: v for k, v in green_groups().items() if k[1] == "integration"})),
        ExitCode.NO_TESTS,
        "empty-stage",
        "stage 'unit' ran no tests",
        {"stage": "unit"},
        policy=policy(unused_stages_ok=frozenset({"integration"})),
    ),
]


def _decide(row: Row) -> Verdict:
    return decide(row.results, row.policy, Provenance(in_ci=row.in_ci), NOW, row.files)


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_gate_scenario(row: Row) -> None:
    verdict = _decide(row)
    assert verdict.code is row.code, [r.to_dict() for r in verdict.reasons]
    if row.code is ExitCode.OK:
        assert verdict.reasons == ()
        found = [n for n in verdict.notes if n.kind == row.kind]
        assert found, verdict.notes
        finding: Any = found[0]
    else:
        finding = verdict.reasons[0]
        assert finding.kind == row.kind
        assert finding.code is row.code
    assert row.text in finding.message
    for key, value in row.where.items():
        assert getattr(finding, key) == value


def test_table_covers_at_least_twenty_ways_of_failing_closed() -> None:
    assert sum(row.code is not ExitCode.OK for row in ROWS) >= 20


def test_green_matrix_opens_the_gate() -> None:
    verdict = decide(GateResults(summary(), runs=(passing_run(),)), policy(), Provenance(), NOW)
    assert verdict.code is ExitCode.OK
    assert verdict.reasons == ()
    assert verdict.notes == ()
    assert verdict.required_cells == CELLS
    assert not verdict.warned


def test_every_reason_is_listed_even_when_one_wins() -> None:
    results = GateResults(
        summary(
            green_groups(py312__integration=counts()),
            failures=(ref(),),
            problems=(InputProblem("a.xml", "bad"),),
        ),
        expected_cells=("py311",),
    )
    verdict = decide(results, policy(), Provenance(), NOW)
    assert verdict.code is ExitCode.INCOMPLETE
    kinds = [r.kind for r in verdict.reasons]
    assert sorted(kinds) == ["empty-stage", "failed", "missing-cell", "unreadable"]
    # worst first, by the documented precedence
    assert [r.code for r in verdict.reasons] == sorted(
        (r.code for r in verdict.reasons),
        key=[ExitCode.INCOMPLETE, ExitCode.TESTS_FAILED, ExitCode.NO_TESTS].index,
    )


def test_cancel_after_a_failure_reports_the_failure_not_incompleteness() -> None:
    results = GateResults(
        summary(failures=(ref(),)),
        runs=(passing_run(cell("py312", CellStatus.CANCELLED, None, None)),),
    )
    verdict = decide(results, policy(), Provenance(), NOW)
    assert verdict.code is ExitCode.TESTS_FAILED
    assert [n.kind for n in verdict.notes] == ["cancelled"]


def test_matching_artifacts_keep_the_gate_open() -> None:
    wheel = Artifact("pkg-1.0-py3-none-any.whl", "1" * 64)
    sdist = Artifact("pkg-1.0.tar.gz", "2" * 64)  # not installed: the same release as the wheel
    results = GateResults(summary(), artifacts=(wheel,), given_artifacts=(wheel, sdist))
    verdict = decide(results, policy(), Provenance(), NOW)
    assert verdict.code is ExitCode.OK
    assert [(n.kind, n.message) for n in verdict.notes] == [
        (
            "artifact-companion",
            "--artifact pkg-1.0.tar.gz was not installed in the cells; it is the same project and version "
            "as the tested pkg-1.0-py3-none-any.whl",
        )
    ]
    # Without a run record there is nothing to compare with: the given files are recorded.
    alone = GateResults(summary(), given_artifacts=(sdist,))
    assert decide(alone, policy(), Provenance(), NOW).code is ExitCode.OK


def test_dirty_tree_is_noted_for_publish() -> None:
    context = Provenance(git=GitFacts(commit="abc", dirty=True, dirty_paths=("src/x.py",)))
    verdict = decide(GateResults(summary()), policy(), context, NOW)
    assert verdict.code is ExitCode.OK
    assert any(n.kind == "dirty-tree" and "src/x.py" in n.message for n in verdict.notes)


def test_unused_expired_quarantine_entry_is_reported() -> None:
    verdict = decide(
        GateResults(summary()), policy(), Provenance(), NOW, PolicyFiles(quarantine=(QUARANTINE_EXPIRED,))
    )
    assert verdict.code is ExitCode.OK
    assert any(n.kind == "quarantine-expired" and "remove it" in n.message for n in verdict.notes)


def test_quarantine_applies_through_its_last_day() -> None:
    entry = replace(QUARANTINE_ACTIVE, expires=NOW.date())
    verdict = decide(
        GateResults(summary(failures=(ref(),))), policy(), Provenance(), NOW, PolicyFiles((entry,))
    )
    assert verdict.code is ExitCode.OK
    the_day_after = NOW + dt.timedelta(days=1)
    verdict = decide(
        GateResults(summary(failures=(ref(),))), policy(), Provenance(), the_day_after, PolicyFiles((entry,))
    )
    assert verdict.code is ExitCode.TESTS_FAILED


def test_baseline_diff_lists_new_fixed_and_still_failing() -> None:
    base = Baseline(
        "old.json",
        frozenset(
            {
                ("py310", "tests.test_calc::test_add"),
                ("py312", "tests.test_calc::test_gone"),
                ("py399", "t::x"),
            }
        ),
        frozenset({"py310", "py312", "py399"}),
    )
    failures = (ref(), ref(name="test_new"))
    verdict = decide(
        GateResults(summary(failures=failures)), policy(), Provenance(), NOW, PolicyFiles(baseline=base)
    )
    assert verdict.baseline is not None
    assert [r.name for r in verdict.baseline.new_failures] == ["test_new"]
    assert [r.name for r in verdict.baseline.still_failing] == ["test_add"]
    # py399 did not report this time: its test is not "fixed", just unknown
    assert verdict.baseline.fixed == (("py312", "tests.test_calc::test_gone"),)
    # mode "all": every failure closes, baseline or not
    assert verdict.code is ExitCode.TESTS_FAILED
    assert len(verdict.reasons) == 2


def test_results_of_another_commit_close_the_gate() -> None:
    record = RunRecord(cells=(cell("py310", CellStatus.PASSED),), stages=STAGES, commit="a" * 40)
    results = GateResults(
        summary(), runs=(LoadedRun("r/run.json", record, {"py310": CellReport("x", True)}),)
    )
    head = Provenance(git=GitFacts(commit="b" * 40))
    verdict = decide(results, policy(), head, NOW)
    assert verdict.code is ExitCode.INCOMPLETE
    assert verdict.reasons[0].kind == "stale-results"
    assert f"commit {'a' * 12}, but HEAD is {'b' * 12}" in verdict.reasons[0].message
    same = Provenance(git=GitFacts(commit="a" * 40))
    assert decide(results, policy(), same, NOW).code is ExitCode.OK


def test_a_run_record_without_a_commit_is_tied_to_nothing() -> None:
    record = RunRecord(cells=(cell("py310", CellStatus.PASSED),), stages=STAGES)
    results = GateResults(
        summary(), runs=(LoadedRun("r/run.json", record, {"py310": CellReport("x", True)}),)
    )
    verdict = decide(results, policy(), Provenance(git=GitFacts(commit="b" * 40)), NOW)
    assert verdict.code is ExitCode.INCOMPLETE
    assert verdict.reasons[0].kind == "stale-results"
    assert "r/run.json records no commit" in verdict.reasons[0].message
    # outside a repository there is no HEAD to tie anything to
    assert decide(results, policy(), Provenance(), NOW).code is ExitCode.OK


def test_results_of_uncommitted_changes_are_noted() -> None:
    record = RunRecord(cells=(cell("py310", CellStatus.PASSED),), stages=STAGES, dirty=True)
    results = GateResults(
        summary(), runs=(LoadedRun("r/run.json", record, {"py310": CellReport("x", True)}),)
    )
    verdict = decide(results, policy(), Provenance(), NOW)
    assert verdict.code is ExitCode.OK
    assert [n.kind for n in verdict.notes] == ["dirty-run"]


def test_a_tox_ignore_outcome_cell_is_reported_but_not_required() -> None:
    ignored = cell("py312", CellStatus.FAILED, 1, "py312.xml", ignore_outcome=True)
    failing = summary(green_groups(py312__unit=counts(passed=2, failed=1)), failures=(ref(cell="py312"),))
    verdict = decide(GateResults(failing, runs=(passing_run(ignored),)), policy(), Provenance(), NOW)
    assert verdict.code is ExitCode.OK, [r.to_dict() for r in verdict.reasons]
    assert verdict.required_cells == ("py310",)
    assert [(n.kind, n.cell) for n in verdict.notes] == [
        ("ignore-outcome", "py312"),
        ("not-required", "py312"),
    ]
    assert "ignore_outcome = true" in verdict.notes[0].message

    crashed = passing_run(cell("py312", CellStatus.CRASHED, 3, None, ignore_outcome=True))
    verdict = decide(GateResults(summary(), runs=(crashed,)), policy(), Provenance(), NOW)
    assert verdict.code is ExitCode.OK, [r.to_dict() for r in verdict.reasons]
    assert "crashed" in [n.kind for n in verdict.notes]

    # A policy that names the cell itself requires it after all; a glob does not.
    named = policy(required_cells=("py310", "py312"))
    verdict = decide(GateResults(failing, runs=(passing_run(ignored),)), named, Provenance(), NOW)
    assert verdict.code is ExitCode.TESTS_FAILED
    assert [(r.kind, r.cell) for r in verdict.reasons] == [("failed", "py312")]
    globbed = policy(required_cells=("py31*",))
    verdict = decide(GateResults(failing, runs=(passing_run(ignored),)), globbed, Provenance(), NOW)
    assert verdict.code is ExitCode.OK


def test_run_record_optional_fields_round_trip() -> None:
    bare = RunRecord(cells=())
    assert "commit" not in bare.to_dict()
    assert "artifacts" not in bare.to_dict()
    full = RunRecord(
        cells=(cell("py312", CellStatus.FAILED, 1, ignore_outcome=True),),
        commit="c" * 40,
        dirty=False,
        artifacts=(Artifact("p.tar.gz", "1" * 64),),
    )
    assert RunRecord.from_dict(full.to_dict()) == full


@pytest.mark.parametrize(
    ("exit_code", "junit", "message", "expected"),
    [
        # the messages runner.execute.classify gives a crashed cell
        (-9, None, "no report: trusting exit code -9", "crashed: killed by SIGKILL (exit -9), no report"),
        (-15, None, "no report: trusting exit code -15", "crashed: killed by SIGTERM (exit -15), no report"),
        (
            -11,
            "py312.xml",
            "pytest exited with -11 (internal or usage error); see the log",
            "crashed: killed by SIGSEGV (exit -11)",
        ),
        (3, None, "no report: trusting exit code 3", "crashed: no report: trusting exit code 3"),
        (
            3,
            "py312.xml",
            "pytest exited with 3 (internal or usage error); see the log",
            "crashed: pytest exited with 3 (internal or usage error); see the log",
        ),
        (None, None, "the test command did not run", "crashed: the test command did not run"),
        (0, None, "exit 0 but no JUnit report: did the commands run pytest?", "crashed: exit 0 but no JUnit"),
        # a record without a message (another writer of run.json)
        (-9, None, "", "crashed: killed by SIGKILL (exit -9), no report"),
        (4, None, "", "crashed: exit code 4, no report"),
        (-200, None, "", "crashed: killed by signal 200 (exit -200), no report"),
    ],
)
def test_a_crash_names_how_the_cell_ended_once(
    exit_code: int | None, junit: str | None, message: str, expected: str
) -> None:
    crashed = cell("py312", CellStatus.CRASHED, exit_code, junit, message=message)
    verdict = decide(GateResults(summary(), runs=(passing_run(crashed),)), policy(), Provenance(), NOW)
    (reason,) = [r for r in verdict.reasons if r.kind == "crashed"]
    assert reason.message.startswith(expected), reason.message
    if exit_code is not None:
        assert reason.message.count(str(exit_code)) == 1, reason.message


def collection_error(cell: str = "py312") -> GateResults:
    """What a cell's JUnit says when pytest stopped at a collection error (a module that
    does not import, a stage marker naming an unknown stage): one error, nothing ran."""
    error = ref(cell=cell, name="test_night", outcome=Outcome.ERROR, message="collection failure")
    groups = green_groups(**{f"{cell}__unit": counts(errors=1)})
    del groups[(cell, "integration")]
    return GateResults(summary(groups, failures=(error,)))


def test_a_collection_error_is_the_reason_its_cells_stages_ran_nothing() -> None:
    verdict = decide(collection_error(), policy(), Provenance(), NOW)
    assert verdict.code is ExitCode.TESTS_FAILED
    assert [(r.kind, r.cell, r.stage) for r in verdict.reasons] == [("error", "py312", "unit")]


@pytest.mark.parametrize(
    ("changes", "files"),
    [
        ({}, PolicyFiles((replace(QUARANTINE_ACTIVE, id="tests.test_calc::test_night"),))),
        ({"required_stages": ("integration",)}, PolicyFiles()),
    ],
    ids=["the collection error is quarantined", "the collection error is in a stage not required"],
)
def test_a_collection_error_that_closes_nothing_leaves_the_empty_stage_a_reason(
    changes: dict[str, Any], files: PolicyFiles
) -> None:
    verdict = decide(collection_error(), policy(**changes), Provenance(), NOW, files)
    assert verdict.code is ExitCode.NO_TESTS, [r.to_dict() for r in verdict.reasons]
    assert [(r.kind, r.cell, r.stage) for r in verdict.reasons] == [("empty-stage", "py312", "integration")]


def test_every_finding_the_verdict_gives_has_one_spelling() -> None:
    """Kinds are enum members whatever built them, and their JSON is the old string."""
    verdict = decide(
        GateResults(summary(failures=(ref(),), flaky=(ref(outcome=Outcome.PASSED, attempts=2),))),
        policy(),
        Provenance(),
        NOW,
    )
    assert [type(r.kind) for r in verdict.reasons] == [ReasonKind]
    assert {type(n.kind) for n in verdict.notes} == {ReasonKind}
    assert verdict.reasons[0].to_dict()["kind"] == "failed"
    assert Reason(ExitCode.TESTS_FAILED, "failed", "x").kind is ReasonKind.FAILED  # type: ignore[arg-type]
    assert Note("dirty-tree", "x").kind is NoteKind.DIRTY_TREE  # type: ignore[arg-type]
    assert f"{ReasonKind.EMPTY_STAGE}" == str(ReasonKind.EMPTY_STAGE) == "empty-stage"
