"""Checks of the stages: every required stage ran tests in every required cell it runs in."""

from __future__ import annotations

from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.gate.decision import Decision
from pytest_pipeline.gate.findings import NoteKind, ReasonKind


def empty_stages(decision: Decision, planned: dict[str, tuple[str, ...]]) -> None:
    """``planned``: the stages each run-record cell planned (its other stages do not apply)."""
    required = [c for c in sorted(decision.all_cells()) if decision.cell_required(c)]
    if required and set(required) <= decision.by_exit_code:
        # unittest, a lint env...: no cell can say which stage a test was in. Stages are
        # not judged; each cell's exit code is its verdict, as tox's is.
        decision.note(
            NoteKind.NO_PER_TEST_RESULTS,
            "no required cell reports per-test results (none runs pytest with the pipeline "
            "plugin): stages are not judged, the cells' exit codes decide",
        )
        return
    usable = [c for c in required if c in decision.results.reported_cells and c not in decision.explained]
    for stage in decision.policy.required_stages:
        if _unused(decision, stage):
            decision.note(
                NoteKind.UNUSED_STAGE,
                f"stage {stage!r} has no tests in any cell; the project declares no stages, so it is "
                "not required (list them in [tool.pytest-pipeline] stages to require them)",
                stage=stage,
            )
            continue
        if _in_each_cell(decision, stage, usable, planned):
            continue  # each usable cell answered for this stage
        # No usable cell runs this stage: whatever else is wrong (cells skipped for a
        # missing interpreter, cancelled, broken), a required stage that ran nowhere
        # must never let the gate open.
        ran = any(
            (counts.ran or counts.blocked)
            for (cell, group_stage), counts in decision.results.summary.groups.items()
            if group_stage == stage and cell in required
        )
        if not ran:
            message = (
                f"required stage {stage!r} runs in none of the required cells"
                if usable
                else f"required stage {stage!r} ran no tests in any required cell"
            )
            _empty(decision, stage, message, None)


def _unused(decision: Decision, stage: str) -> bool:
    """A built-in stage the project never declared, with no test anywhere."""
    groups = decision.results.summary.groups
    return stage in decision.policy.unused_stages_ok and not any(
        counts.tests for (_, group_stage), counts in groups.items() if group_stage == stage
    )


def _in_each_cell(
    decision: Decision, stage: str, usable: list[str], planned: dict[str, tuple[str, ...]]
) -> bool:
    """Check ``stage`` in each usable cell it runs in; False when it runs in none of them."""
    applicable = 0
    for cell in usable:
        if not decision.policy.stage_runs_in(stage, cell):
            continue
        if cell in planned and stage not in planned[cell]:
            continue
        applicable += 1
        if cell in decision.stopped_at_collection:
            continue
        counts = decision.results.summary.groups.get((cell, stage))
        if counts is not None and (counts.ran or counts.blocked):
            continue
        if counts is None or counts.tests == 0:
            message = f"stage {stage!r} ran no tests"
        else:
            message = f"stage {stage!r} ran no tests: all {counts.skipped} skipped"
        _empty(decision, stage, message, cell)
    return applicable > 0


def _empty(decision: Decision, stage: str, message: str, cell: str | None) -> None:
    if stage in decision.policy.allow_empty_stages:
        decision.note(
            ReasonKind.EMPTY_STAGE, f"{message} (allowed by allow-empty-stages)", cell=cell, stage=stage
        )
    else:
        decision.reason(ExitCode.NO_TESTS, ReasonKind.EMPTY_STAGE, message, cell=cell, stage=stage)
