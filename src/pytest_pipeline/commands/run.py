"""``pytest-pipeline run``: run the project's tox/nox matrix in stages, merge, gate.

The command owns its flow (:func:`run_pipeline`): load -> plan -> build -> run cells
(:mod:`pytest_pipeline.runner`) -> merge -> summarize -> gate
(:mod:`pytest_pipeline.commands._finish`).

Exit code = the gate's code (0 open, 1 tests failed, 2 interrupted, 3 incomplete,
4 usage error, 5 a required stage ran no tests).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

from pytest_pipeline.cli_hooks import hookimpl
from pytest_pipeline.commands._durations import previous_durations
from pytest_pipeline.errors import PipelineError

if TYPE_CHECKING:
    from pytest_pipeline.ci.provider import Provider
    from pytest_pipeline.config import PipelineConfig
    from pytest_pipeline.exitcodes import ExitCode
    from pytest_pipeline.gate.policy import Policy, PolicyOverrides
    from pytest_pipeline.matrix.model import Plan
    from pytest_pipeline.matrix.settings import RunSettings
    from pytest_pipeline.results import ResultSummary
    from pytest_pipeline.run_record import RunRecord
    from pytest_pipeline.runner.build import EarlyBuild
    from pytest_pipeline.runner.context import Reuse
    from pytest_pipeline.runner.envs import Installer
    from pytest_pipeline.runner.outputs import Reports

Backend = Literal["auto", "tox"]


def parse_parallel(value: str) -> str | int:
    """``-p`` of ``run`` and ``rerun``: ``auto`` or a number of cells >= 1 (else ValueError)."""
    if value == "auto":
        return value
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise ValueError("expected 'auto' or a number of cells >= 1")
    return count


def _parallel(value: str) -> str | int:
    try:
        return parse_parallel(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}, got {value!r}") from None


def _split(values: list[str] | None) -> tuple[str, ...]:
    """``-e py310,py312``: tox's comma lists, but a comma inside parentheses belongs to a
    nox session name (``tests(python='3.10', attrs='23.2')``), as ``plan`` reads it."""
    from pytest_pipeline.matrix.select import split_patterns

    return split_patterns(values or ())


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``run``; ``tox -e matrix -- ...`` accepts the same."""
    parser.add_argument(
        "-p",
        "--parallel",
        type=_parallel,
        default=None,
        metavar="auto|N",
        help="cells testing at once, while a few more create their environments "
        "(default: [tool.pytest-pipeline.run] parallel, else auto = number of CPUs)",
    )
    parser.add_argument(
        "--fail-fast",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="stop at the first failing stage anywhere: start no more cells, cancel the running ones",
    )
    parser.add_argument(
        "-e",
        "--cell",
        action="append",
        metavar="NAME/GLOB",
        help="run only these cells (tox envs / nox sessions; globs and comma lists allowed; repeatable)",
    )
    parser.add_argument(
        "-m", "--label", action="append", metavar="LABEL", help="run cells with this tox label / nox tag"
    )
    parser.add_argument(
        "--tool",
        choices=("auto", "tox", "nox"),
        default=None,
        help="whose matrix to run (default: [tool.pytest-pipeline.run] tool, else auto: tox if "
        "the project has a tox configuration, else nox)",
    )
    parser.add_argument(
        "--backend",
        choices=("auto", "tox"),
        default=None,
        help="auto: each tox cell runs the fastest way proven equal to tox (plan shows which); "
        "tox: every tox cell runs through tox run (default: [tool.pytest-pipeline.run] backend, else auto)",
    )
    parser.add_argument(
        "--installer",
        choices=("auto", "uv", "pip"),
        default=None,
        help="uv or pip for what we install ourselves: a matrix axis's pins on top of a tox cell's "
        "environment, and the wheel's build (uv build; pip: python -m build or pip wheel); tox's runner "
        "or nox makes the environments themselves. auto = uv when found "
        "(default: [tool.pytest-pipeline.run] installer, else auto)",
    )
    parser.add_argument(
        "--timeout",
        default=None,
        metavar="DURATION",
        help="end a cell that runs longer than this (e.g. 10m, 90s; waiting for a test slot does not "
        "count); it is 'timed-out' and the run goes on. 0 or none: no limit "
        "(default: [tool.pytest-pipeline.run] timeout, else none)",
    )
    parser.add_argument(
        "--run-timeout",
        default=None,
        metavar="DURATION",
        help="end the whole run after this long (e.g. 1h): running cells are 'timed-out', the rest "
        "not started. 0 or none: no limit (default: [tool.pytest-pipeline.run] run-timeout, else none)",
    )
    parser.add_argument(
        "--reports-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where run.json, junit.xml, gate.json, dist/ and cells/ go; a folder of its own (the project "
        "folder, or one holding it, is refused) whose previous run's outputs are cleared "
        "(default: [tool.pytest-pipeline] reports-dir, else pipeline-reports)",
    )
    parser.add_argument(
        "--installpkg",
        type=Path,
        default=None,
        metavar="WHEEL",
        help="test this wheel instead of building the project (CI: the exact file you will publish)",
    )
    parser.add_argument(
        "--recreate",
        action="store_true",
        help="rebuild the package (not from the build cache) and recreate every cell's environment "
        "(nox: --reuse-venv=no)",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="run every cell even when an earlier run's results for exactly its inputs are stored "
        "(.pytest-pipeline/results; this run's results are still stored)",
    )
    parser.add_argument(
        "--html",
        action="store_true",
        help="also write the HTML report, <reports-dir>/report.html (see `pytest-pipeline report`)",
    )
    parser.add_argument(
        "--project", type=Path, default=Path("."), metavar="DIR", help="the project to run (default: .)"
    )
    parser.add_argument(
        "pytest_args",
        nargs="*",
        metavar="-- PYTEST-ARGS",
        help="after --: passed to every cell's pytest (through PYTEST_ADDOPTS), e.g. -- -x -k smoke",
    )


@hookimpl
def pytest_pipeline_add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the tox/nox matrix in stages, in parallel; merge; exit with the gate code",
        description="Run every selected cell of the project's tox environments (or nox sessions) in "
        "stage order, in parallel, each in its own process group with its own log; build the "
        "package once and install that wheel everywhere; merge the JUnit reports and exit with "
        "the gate's code. Reports go to pipeline-reports/ (run.json, junit.xml, gate.json, cells/).",
    )
    add_run_arguments(parser)
    parser.set_defaults(handler=run)


def time_limit_option(value: str | None, option: str) -> float | None:
    """``--timeout``/``--run-timeout``: None when not given (the configuration decides),
    0.0 for ``none`` or 0 (no limit, whatever is configured), else seconds."""
    if value is None:
        return None
    if value.strip().lower() == "none":
        return 0.0
    from pytest_pipeline.matrix.settings import time_limit

    return time_limit(value, option) or 0.0


def options_from(args: argparse.Namespace) -> RunOptions:
    from pytest_pipeline import ci

    project: Path = args.project
    if not project.is_dir():
        raise PipelineError(
            f"--project {project}: no such folder; give the folder holding tox.ini or noxfile.py"
        )
    return RunOptions(
        project=project,
        reports_dir=args.reports_dir,
        parallel=args.parallel,
        fail_fast=args.fail_fast,
        cells=_split(args.cell),
        labels=_split(args.label),
        tool=args.tool,
        backend=args.backend,
        installer=args.installer,
        installpkg=args.installpkg,
        pytest_args=tuple(args.pytest_args),
        recreate=args.recreate,
        fresh=args.fresh,
        timeout=time_limit_option(args.timeout, "--timeout"),
        run_timeout=time_limit_option(args.run_timeout, "--run-timeout"),
        stream=sys.stdout,
        ci=ci.detect(args.plugin_manager, os.environ, sys.stdout),
    )


def run(args: argparse.Namespace) -> int:
    from pytest_pipeline import config as config_mod

    options = options_from(args)
    config = config_mod.load(options.project.resolve() / "pyproject.toml")  # once: run and report
    result = run_pipeline(options, config=config)
    if getattr(args, "html", False):
        _write_html(result.reports, config.default_stage)
    return int(result.code)


def _write_html(reports: Path, default_stage: str) -> None:
    from pytest_pipeline.commands.report import HTML_NAME, shown, write_html

    written = write_html(reports, reports / HTML_NAME, default_stage=default_stage)
    print(f"report: {shown(written)}", flush=True)


# --------------------------------------------------------------------------- the run flow


def _no_overrides() -> PolicyOverrides:
    return {}


@dataclass(frozen=True)
class RunOptions:
    project: Path
    reports_dir: Path | None = None
    parallel: str | int | None = None
    fail_fast: bool | None = None
    cells: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    tool: str | None = None
    backend: Backend | None = None
    installer: str | None = None
    installpkg: Path | None = None
    pytest_args: tuple[str, ...] = ()
    recreate: bool = False
    fresh: bool = False
    """Run every cell, whatever the result store holds (the results are still stored)."""
    timeout: float | None = None
    """Seconds a cell may take; 0: no limit; None: ``[tool.pytest-pipeline.run] timeout``."""
    run_timeout: float | None = None
    """Seconds the run may take; 0: no limit; None: ``[tool.pytest-pipeline.run] run-timeout``."""
    gate_overrides: PolicyOverrides = field(default_factory=_no_overrides)
    verdict: bool = True
    """False: stop after run.json and the merged junit.xml, without the summary table and
    the gate (the code is then OK or INTERRUPTED): ``rerun`` shows and judges the results
    combined with the cells it did not re-run."""
    stream: IO[str] = field(default=sys.stdout, compare=False)
    ci: Provider | None = field(default=None, compare=False)
    """The CI this runs in (None: a developer's machine, whose terminal keeps the logs
    out of sight in ``cells/<cell>/log.txt``). In CI the files are an artifact away, so
    each cell's log is printed into the job log, folded, once the cells are done."""


@dataclass
class RunResult:
    code: ExitCode
    record: RunRecord
    summary: ResultSummary | None
    reports: Path


def run_pipeline(
    options: RunOptions,
    *,
    plan: Plan | None = None,
    config: PipelineConfig | None = None,
) -> RunResult:
    """load -> plan -> build -> run cells -> merge -> summarize -> gate: the gate's code.
    ``plan``/``config`` can be given (tests; ``tox -e matrix``)."""
    import contextlib
    import time

    from pytest_pipeline import config as config_mod
    from pytest_pipeline.exitcodes import ExitCode
    from pytest_pipeline.matrix.settings import run_settings
    from pytest_pipeline.run_record import RunRecord, now_iso
    from pytest_pipeline.runner import outputs, process, watchdog
    from pytest_pipeline.runner import run as runner
    from pytest_pipeline.runner.interrupts import signals_as_interrupt
    from pytest_pipeline.runner.slots import worker_count

    started_clock = time.monotonic()
    project = options.project.resolve()
    config = config or config_mod.load(project / "pyproject.toml")
    settings = run_settings(config)
    gate_policy = _gate_policy(config, options)  # validate [gate] before any work
    _check_hook_settings(config)
    given_wheel = runner.read_installpkg(options.installpkg)
    workers = worker_count(options.parallel if options.parallel is not None else settings.parallel)
    fail_fast = settings.fail_fast if options.fail_fast is None else options.fail_fast
    backend = options.backend or settings.backend
    installer = runner.choose_installer(options.installer or settings.installer)
    limits = runner.time_limits(options.timeout, options.run_timeout, settings, started_clock)
    reports_root = _reports_root(config, options)
    started = now_iso()
    durations = previous_durations(reports_root)  # before this run replaces its run.json
    commit, dirty = git_provenance(project, reports_root)
    run_id = watchdog.new_run_id()

    def say(text: str) -> None:
        options.stream.write(f"pytest-pipeline: {text}\n")

    # SIGTERM is Ctrl-C from here on: a build, discovery or a merge in progress stops cleanly too.
    with signals_as_interrupt(), contextlib.ExitStack() as stack:
        # Before any child starts: each one carries the run's id, and dies with the run.
        stack.enter_context(process.run_scope(run_id, say=say))
        plan, early = (
            (plan, None)
            if plan is not None
            else _discover_while_building(options, config, settings, installer, reports_root)
        )
        if early is not None:
            stack.callback(early.cancel)  # a no-op once its wheel was taken
        runner.check_plan(plan)
        for name, why in plan.off_platform.items():  # as tox says it skips them
            say(f"{name}: left out, {why} (tox `platform`)")
        reports = stack.enter_context(outputs.open_reports(reports_root, run_id=run_id, say=say))
        ctx = runner.cell_context(
            plan,
            reports,
            config,
            project=project,
            wheel=None,
            installer=installer,
            pytest_args=options.pytest_args,
            backend=backend,
            recreate=options.recreate,
            reuse=_reuse(options, gate_policy, reports_root, run_id, commit),
            durations=durations,
        )
        ctx = runner.with_wheel(
            ctx, plan, early, given_wheel, rebuild=options.recreate, workers=workers, stack=stack
        )
        outcome = runner.run_cells(
            plan, ctx, workers=workers, fail_fast=fail_fast, stream=options.stream, limits=limits
        )
        records, interrupted = outcome.records, outcome.interrupted
        record = RunRecord(
            cells=tuple(records),
            stages=plan.stages,
            artifact=ctx.wheel.artifact if ctx.wheel else None,
            interrupted=interrupted,
            started=started,
            finished=now_iso(),
            tool_versions=runner.tool_versions(plan, installer),
            commit=commit,
            dirty=dirty,
            pytest_args=options.pytest_args,
            backend=backend,
            installer=installer.name,
        )
        _write_record(reports, record, options.ci)
        from pytest_pipeline.commands._finish import finish

        code, merged = finish(
            reports,
            records,
            plan.stages,
            config,
            gate_policy,
            project=project,
            stream=options.stream,
            verdict=options.verdict,
        )
        if interrupted:
            code = ExitCode.INTERRUPTED
        return RunResult(code, record, merged, reports.root)


def _reports_root(config: PipelineConfig, options: RunOptions) -> Path:
    """The reports folder, refused (exit 4) when it is the project or holds it."""
    from pytest_pipeline.runner import outputs

    project = options.project.resolve()
    root = outputs.locate(config, given=options.reports_dir, project=project).resolve()
    where = "--reports-dir" if options.reports_dir is not None else "[tool.pytest-pipeline] reports-dir"
    outputs.check_root(root, project, where)
    return root


def _write_record(reports: Reports, record: RunRecord, ci: Provider | None) -> None:
    """run.json; in CI also each cell's log, folded, into the job's log."""
    reports.write_run_record(record)
    if ci is not None:
        from pytest_pipeline.ci.report import fold_cell_logs

        fold_cell_logs(ci, list(record.cells), reports.root)


def _discover_while_building(
    options: RunOptions,
    config: PipelineConfig,
    settings: RunSettings,
    installer: Installer,
    reports_root: Path,
) -> tuple[Plan, EarlyBuild | None]:
    """A cold run's build and `tox config` take about as long: the build starts first, in
    the background, and discovery runs meanwhile (a given --installpkg builds nothing)."""
    from pytest_pipeline.runner import run as runner

    early = None
    if options.installpkg is None:
        early = runner.build_early(
            options.project.resolve(),
            tool=options.tool or settings.tool,
            uv=installer.uv,
            reports_root=reports_root,
            rebuild=options.recreate,
        )
    runner.preload(runner.WHILE_BUILDING)
    try:
        plan = runner.discover_plan(
            options.project.resolve(), config, tool=options.tool, cells=options.cells, labels=options.labels
        )
    except BaseException:
        if early is not None:
            early.cancel()
        raise
    return plan, early


def _reuse(options: RunOptions, policy: Policy, reports_root: Path, run_id: str, commit: str | None) -> Reuse:
    """What the cells need to look up and store results (see runner/reuse.py)."""
    from pytest_pipeline.runner import reuse
    from pytest_pipeline.runner.context import Reuse

    return Reuse(
        project_digest=reuse.project_digest(options.project.resolve(), skip=(reports_root,)),
        origin={"run": run_id, "commit": commit or ""},
        # A gate that refuses reused results would close on them: run every cell.
        fresh=options.fresh or options.recreate or policy.reused_results == "refuse",
    )


def _gate_policy(config: PipelineConfig, options: RunOptions) -> Policy:
    """Check the gate policy now (its files too): a typo in [gate] must not cost a whole run."""
    from pytest_pipeline.gate.loading import checked_policy

    return checked_policy(config, options.gate_overrides)


def _check_hook_settings(config: PipelineConfig) -> None:
    """[hook] belongs to install-hook, but a wrong key there is still a wrong key of
    [tool.pytest-pipeline]: refused before any work, like the rest (exit 4)."""
    from pytest_pipeline.ci.githook import configured_command

    configured_command(config)


def git_provenance(project: Path, reports_root: Path) -> tuple[str | None, bool | None]:
    """The commit the cells test and whether the tree has uncommitted changes, taken
    before anything runs; (None, None) outside a git repository. Our own outputs (the
    reports folder, .tox/.pipeline, .pytest-pipeline) are not changes."""
    from pytest_pipeline.gate.provenance import git_facts

    facts = git_facts(project, [str(reports_root)])
    if facts.toplevel is None:
        return None, None
    return facts.commit, facts.dirty
