"""The end of a run: merge the cells' reports, show the cells x stages table, judge.

(A module of the commands, not a command: its name starts with ``_``.)

One function, :func:`finish`, for every command that ran cells (``run``, and ``rerun``
once it has folded its cells in): the merged ``junit.xml``, the summary table, then the
gate over the run's record, as ``pytest-pipeline gate`` would judge it (``gate.json``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from pytest_pipeline import config as config_mod
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.fileio import relative_to_cwd
from pytest_pipeline.gate.policy import Policy
from pytest_pipeline.results import ResultSummary
from pytest_pipeline.run_record import CellRecord
from pytest_pipeline.runner import summary
from pytest_pipeline.runner.outputs import Reports


def merge_results(reports: Reports, records: Sequence[CellRecord], default_stage: str) -> ResultSummary:
    """The cells' JUnit files merged into ``junit.xml``; no report at all leaves no
    merged file behind."""
    from pytest_pipeline import junit

    files = [reports.root / record.junit for record in records if record.junit]
    files = [path for path in files if path.is_file()]
    if not files:
        reports.merged.unlink(missing_ok=True)
        return ResultSummary()
    return junit.merge(files, reports.merged, default_stage=default_stage)


def gate_results(
    reports: Reports,
    config: config_mod.PipelineConfig,
    gate_policy: Policy,
    project: Path,
    stream: IO[str],
) -> ExitCode:
    """The ``gate`` command's own evaluation over this run's record: gate.json, verdict."""
    from pytest_pipeline.gate import evaluate

    request = evaluate.Request(
        inputs=(str(reports.run_record),),
        output=reports.gate,
        policy=gate_policy,
        default_stage=config.default_stage,
        cwd=project,
        environ=os.environ,
        not_source=(str(reports.root),),
        config_file=config.source,
    )
    evaluation = evaluate.evaluate(request)
    # The gate file is named as the user would type it: relative to where they are.
    stream.write("\n")
    evaluate.show(dataclasses.replace(evaluation, output=relative_to_cwd(reports.gate)), stream)
    stream.write(
        f"reports: {relative_to_cwd(reports.root)} (run.json, junit.xml, gate.json, cells/<cell>/log.txt)\n"
    )
    stream.flush()
    return evaluation.code


def finish(
    reports: Reports,
    records: Sequence[CellRecord],
    stages: Sequence[str],
    config: config_mod.PipelineConfig,
    gate_policy: Policy,
    *,
    project: Path,
    stream: IO[str],
    verdict: bool = True,
) -> tuple[ExitCode, ResultSummary]:
    """Merge, show the table, judge: the gate's code (OK without ``verdict``) and what the
    merge counted. ``run.json`` must be written before (the gate reads it)."""
    merged = merge_results(reports, records, config.default_stage)
    if not verdict:
        return ExitCode.OK, merged
    from pytest_pipeline.gate.render import use_colour

    summary.render(records, merged, stages, stream, colour=use_colour(stream))
    return gate_results(reports, config, gate_policy, project, stream), merged
