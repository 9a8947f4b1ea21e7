"""``pytest-pipeline rerun --failed``: re-run what failed in the last run, then judge again.

The CI's "re-run failed jobs" button, locally: only the cells that failed, crashed, could
not install, were interrupted or cancelled, or that the gate named; within a cell whose
tests failed, only its failed and blocked tests (see :mod:`pytest_pipeline.rerun.plan`).
It re-tests the very package the last run tested (``<reports>/dist/``), on the same
commit, the way it ran (the pytest arguments after ``--``, the backend and the installer,
from ``run.json``), keeps the other cells' results, updates ``run.json``, the merged
``junit.xml`` and ``gate.json``, and exits with the new gate's code.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pytest_pipeline.cli_marks import built_in_hook
from pytest_pipeline.errors import PipelineError
from pytest_pipeline.exitcodes import ExitCode

if TYPE_CHECKING:
    from pytest_pipeline.config import PipelineConfig
    from pytest_pipeline.rerun.plan import CellEvents, RerunPlan
    from pytest_pipeline.run_record import RunRecord
    from pytest_pipeline.runner.outputs import Reports

FILTER_PLUGIN = "pytest_pipeline.plugin.rerun_filter"


@built_in_hook
def pytest_pipeline_add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "rerun",
        help="re-run the cells and tests that failed in the last run; update the reports and the gate",
        description="Re-run only what failed in the last run (the reports folder's run.json and "
        "gate.json): cells that failed, crashed, could not install, were interrupted or cancelled, "
        "or that the gate named; within a cell whose tests failed, only the failed and blocked "
        "tests. Same package, same commit; the other cells' results are kept. Exit code: the new "
        "gate's.",
    )
    parser.add_argument("--failed", action="store_true", help="re-run what failed (required)")
    parser.add_argument(
        "--whole-cells", action="store_true", help="re-run failed cells whole, not only their failed tests"
    )
    parser.add_argument(
        "-p",
        "--parallel",
        default=None,
        metavar="auto|N",
        help="cells testing at once (default: [tool.pytest-pipeline.run] parallel, else auto)",
    )
    parser.add_argument(
        "--reports-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="the last run's reports folder "
        "(default: [tool.pytest-pipeline] reports-dir, else pipeline-reports)",
    )
    parser.add_argument(
        "--project", type=Path, default=Path("."), metavar="DIR", help="the project (default: .)"
    )
    parser.add_argument("--html", action="store_true", help="also write <reports-dir>/report.html")
    parser.add_argument(
        "--no-pytest-args",
        action="store_true",
        help="do not give the re-run cells' pytest the arguments the last run passed after --",
    )
    parser.add_argument(
        "pytest_args",
        nargs="*",
        metavar="-- PYTEST-ARGS",
        help="after --: passed to the re-run cells' pytest instead of the last run's "
        "(which are reused when none are given)",
    )
    parser.set_defaults(handler=run)


def _load_record(path: Path) -> RunRecord:
    from pytest_pipeline.run_record import RunRecord

    if not path.is_file():
        raise PipelineError(
            f"no {path}: nothing to re-run; run `pytest-pipeline run` first (or pass --reports-dir)"
        )
    try:
        return RunRecord.read(path)
    except (OSError, ValueError) as exc:
        raise PipelineError(
            f"{path} is not a readable run record ({str(exc)[:200]}); run `pytest-pipeline run` again"
        ) from None


def _check_same_commit(
    project: Path, root: Path, record: RunRecord, gate: dict[str, object] | None
) -> bool | None:
    """Refuse when HEAD moved since the last run; return whether the tree is dirty now
    (None outside git), our reports folder not counted."""
    from pytest_pipeline.gate.provenance import git_facts

    facts = git_facts(project, [str(root)])
    git = gate.get("git") if gate else None
    tested = record.commit or (git.get("commit") if isinstance(git, dict) else None)
    head = facts.commit
    if tested and head and tested != head:
        raise PipelineError(
            f"HEAD moved since the last run ({str(tested)[:12]} -> {head[:12]}): the results kept from "
            "the other cells are of the old commit; run `pytest-pipeline run` to test this one"
        )
    return None if facts.toplevel is None else facts.dirty


def _wheel(root: Path, record: RunRecord) -> Path | None:
    """The package the last run tested, so the re-run cells test that very file."""
    from pytest_pipeline.fileio import sha256_file

    artifact = record.artifact
    if artifact is None:
        return None
    path = root / "dist" / artifact.name
    if not path.is_file() or sha256_file(path) != artifact.sha256:
        raise PipelineError(
            f"{path}: the package the last run tested is missing or changed (sha256 {artifact.sha256[:12]}); "
            "rerun re-tests that very file: run `pytest-pipeline run` instead"
        )
    return path


def _events(reports: Reports, record: RunRecord) -> dict[str, CellEvents | None]:
    from pytest_pipeline.rerun.plan import read_events

    found: dict[str, CellEvents | None] = {}
    for cell in record.cells:
        path = reports.events(cell.name)
        try:
            with path.open(encoding="utf-8", errors="replace") as handle:
                found[cell.name] = read_events(handle)
        except OSError:
            found[cell.name] = None
    return found


def describe(chosen: RerunPlan) -> list[str]:
    lines = []
    for cell in chosen.cells:
        if cell.tests is not None:
            what = f"{len(cell.tests)} test{'s' if len(cell.tests) != 1 else ''}"
        else:
            what = "whole cell" + (f" ({cell.whole_because})" if cell.whole_because else "")
        lines.append(f"  {cell.name}: {cell.why}, {what}")
    return lines


def _scratch(project: Path) -> Path:
    """A fresh folder for the re-run beside our discovery cache (ignored by git, not source)."""
    import tempfile

    from pytest_pipeline.tool_output import own_dir

    base = own_dir(project) / "rerun"
    base.mkdir(exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="run-", dir=base))


def run(args: argparse.Namespace) -> int:
    import shlex

    from pytest_pipeline import config as config_mod
    from pytest_pipeline.gate import gatefile
    from pytest_pipeline.rerun.plan import plan as make_plan
    from pytest_pipeline.runner import locks, outputs

    if not args.failed:
        raise PipelineError("rerun: say what to re-run: --failed (the cells and tests that failed last time)")
    parallel = _parallel(args.parallel)
    project: Path = args.project.resolve()
    if not project.is_dir():
        raise PipelineError(f"--project {args.project}: no such folder; give the folder holding tox.ini")
    pyproject = project / "pyproject.toml"
    config = config_mod.load(pyproject if pyproject.is_file() else None)
    main = outputs.Reports(outputs.locate(config, given=args.reports_dir, project=project).resolve())
    record = _load_record(main.run_record)
    gate: dict[str, object] | None = None
    if main.gate.is_file():
        try:
            gate = gatefile.read(main.gate).to_dict()
        except gatefile.GateFileError:
            gate = None  # the cells' statuses still say what failed; counts cannot be checked
    dirty = _check_same_commit(project, main.root, record, gate)
    chosen = make_plan(record, gate, _events(main, record), whole_cells=args.whole_cells)
    out = sys.stdout
    if not chosen.cells:
        headline = str(gate.get("headline")) if gate else "no gate.json"
        out.write(f"nothing to re-run: every cell of the last run finished cleanly ({headline})\n")
        for reason in chosen.unfixable[:5]:
            out.write(f"  not fixable by a re-run: {reason}\n")
        code = gate.get("code") if gate else None
        return code if isinstance(code, int) else int(ExitCode.INCOMPLETE)
    wheel = _wheel(main.root, record)
    pytest_args = choose_pytest_args(record, tuple(args.pytest_args), forget=args.no_pytest_args)
    out.write(
        f"re-running {len(chosen.cells)} of {len(record.cells)} cells:\n" + "\n".join(describe(chosen)) + "\n"
    )
    if pytest_args and not args.pytest_args:
        out.write(
            f"with the last run's pytest arguments: {shlex.join(pytest_args)} "
            "(new ones after --, or --no-pytest-args)\n"
        )
    out.flush()
    try:
        with locks.hold(main.root / outputs.LOCK_NAME):
            code = _rerun(
                project=project,
                config=config,
                main=main,
                record=record,
                chosen=chosen,
                wheel=wheel,
                dirty=dirty,
                parallel=parallel,
                pytest_args=pytest_args,
            )
    except locks.LockBusy as busy:
        raise PipelineError(
            f"reports folder {main.root} is in use by another pytest-pipeline run ({busy.owner}); "
            "wait for it to finish"
        ) from None
    if args.html:
        from pytest_pipeline.commands.report import HTML_NAME, shown, write_html

        written = write_html(main.root, main.root / HTML_NAME, default_stage=config.default_stage)
        print(f"report: {shown(written)}")
    return int(code)


def choose_pytest_args(record: RunRecord, given: tuple[str, ...], *, forget: bool) -> tuple[str, ...]:
    """The pytest arguments of the re-run cells: the ones given now, else (unless told to
    forget them) the last run's, so ``run -- -k foo`` then ``rerun --failed`` re-runs
    what ``-k foo`` selected and not the whole cell."""
    if given or forget:
        return given
    return record.pytest_args


def _rerun(
    *,
    project: Path,
    config: PipelineConfig,
    main: Reports,
    record: RunRecord,
    chosen: RerunPlan,
    wheel: Path | None,
    dirty: bool | None,
    parallel: str | int | None,
    pytest_args: tuple[str, ...],
) -> ExitCode:
    """Run the chosen cells in a scratch folder, fold the results in, ask the gate."""
    import contextlib
    import dataclasses
    import json
    import shutil

    from pytest_pipeline.commands._finish import finish
    from pytest_pipeline.commands.run import RunOptions, run_pipeline
    from pytest_pipeline.gate import policy
    from pytest_pipeline.rerun import combine
    from pytest_pipeline.runner import outputs

    out = sys.stdout
    scratch = _scratch(project)
    try:
        selection = scratch / "selection.json"
        selection.write_text(json.dumps({"version": 1, "cells": chosen.selection}), encoding="utf-8")
        filter_args = ("-p", FILTER_PLUGIN, f"--pipeline-rerun={selection}") if chosen.selection else ()
        tools = {cell.tool for cell in record.cells}
        options = RunOptions(
            project=project,
            reports_dir=scratch / "reports",
            parallel=parallel,
            cells=tuple(cell.name for cell in chosen.cells),
            tool=tools.pop() if len(tools) == 1 else None,
            installpkg=wheel,
            backend=_backend(record.backend),
            installer=record.installer,
            pytest_args=(*filter_args, *pytest_args),
            verdict=False,
            stream=out,
            fresh=True,  # a re-run runs: stored results would only say the same again
        )
        result = run_pipeline(options, config=config)
        rerun_reports = outputs.Reports(result.reports)
        asked = {name: len(tests) for name, tests in chosen.selection.items()}
        staged = combine.stage_cells(
            main,
            rerun_reports,
            {cell.name: cell for cell in result.record.cells},
            asked,
            config.default_stage,
        )
        for name in staged:
            combine.install_cell(main, rerun_reports.cell_dir(name), name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        with contextlib.suppress(OSError):  # another re-run may still use it
            scratch.parent.rmdir()
    # The re-run's own record judged dirtiness with its scratch folder as the reports
    # folder (so it counted ours as a change): use what we saw before it started.
    combined = combine.combined_record(record, dataclasses.replace(result.record, dirty=dirty), staged)
    # The next re-run gives the cells the arguments this one gave (not the filter's).
    combined = dataclasses.replace(combined, pytest_args=pytest_args)
    main.write_run_record(combined)
    code, _ = finish(
        main,
        combined.cells,
        combined.stages,
        config,
        policy.from_config(config, {}),
        project=project,
        stream=out,
    )
    return ExitCode.INTERRUPTED if result.code is ExitCode.INTERRUPTED else code


def _backend(recorded: str | None) -> Literal["auto", "tox"] | None:
    """The last run's backend; None (the configured one) for a record that has none."""
    if recorded == "tox":
        return "tox"
    return "auto" if recorded == "auto" else None


def _parallel(value: str | None) -> str | int | None:
    from pytest_pipeline.commands.run import parse_parallel

    if value is None:
        return None
    try:
        return parse_parallel(value)
    except ValueError as exc:
        raise PipelineError(f"-p {value}: {exc}") from None
