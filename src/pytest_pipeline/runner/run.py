"""``pytest-pipeline run``: load -> plan -> build -> run cells -> merge -> gate -> summarize.

Each step is a small function returning data; :func:`run` strings them together and
returns the gate's exit code. Nothing here parses command lines (see
:mod:`pytest_pipeline.commands.run`) or draws tables (see :mod:`.summary`, :mod:`.progress`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib
import importlib.metadata
import os
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pytest_pipeline import __version__, envvars
from pytest_pipeline import config as config_mod
from pytest_pipeline.errors import PipelineError
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.fileio import copy_atomic, ignore_in_git, relative_to_cwd
from pytest_pipeline.matrix.model import Cell, Plan
from pytest_pipeline.matrix.toolrun import NO_TOX_MATRIX_ENV
from pytest_pipeline.results import CellRecord, CellStatus, ResultSummary, RunRecord
from pytest_pipeline.runner import (
    build,
    envs,
    inject,
    outputs,
    process,
    progress,
    summary,
    tox_commands,
    tox_route,
    watchdog,
)
from pytest_pipeline.runner.execute import Backend, RunContext, env_folder, now_iso, run_cell
from pytest_pipeline.runner.interrupts import signals_as_interrupt
from pytest_pipeline.runner.scheduler import Job, Outcome, Scheduler, worker_count
from pytest_pipeline.runner.slots import Slots, lanes

if TYPE_CHECKING:
    from pytest_pipeline.ci.provider import Provider
    from pytest_pipeline.gate.policy import Policy
    from pytest_pipeline.matrix.settings import RunSettings

# Variables an outer tox run (``tox -e matrix``) or an outer cell sets; a cell must get
# its own, never inherit these.
_OUTER_VARIABLES = (
    "TOX_ENV_NAME",
    "TOX_ENV_DIR",
    "TOX_WORK_DIR",
    "TOX_PACKAGE",
    "VIRTUAL_ENV",
    envvars.CELL,
    envvars.EVENTS,
    envvars.STAGES,
    envvars.JUNIT_DIR,
    envvars.ACTIVE,
    "PYTEST_CURRENT_TEST",
    "PYTEST_XDIST_WORKER",
)


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
    timeout: float | None = None
    """Seconds a cell may take; 0: no limit; None: ``[tool.pytest-pipeline.run] timeout``."""
    run_timeout: float | None = None
    """Seconds the run may take; 0: no limit; None: ``[tool.pytest-pipeline.run] run-timeout``."""
    gate_overrides: Mapping[str, Any] = field(default_factory=dict)
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


def clean_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment cells and tools start from: ours minus an outer tox run's."""
    env = {key: value for key, value in environ.items() if key not in _OUTER_VARIABLES}
    outer_venv = environ.get("VIRTUAL_ENV")
    if outer_venv and "PATH" in env and environ.get("TOX_ENV_DIR") == outer_venv:
        # ``tox -e matrix`` puts its own venv first on PATH; the cells must not see it.
        # (A venv the user activated stays: ``tox run`` from that shell keeps it too.)
        outer_bin = str(envs.bin_dir(Path(outer_venv)))
        env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != outer_bin)
    env[NO_TOX_MATRIX_ENV] = "1"
    return env


def check_plan(plan: Plan) -> None:
    if not plan.cells:
        raise PipelineError(
            f"no cells to run in {plan.project_dir}: {plan.config_file} has no environment that runs pytest; "
            "select some with --cell or [tool.pytest-pipeline.run] include"
        )
    for cell in plan.cells:
        outputs.check_cell_name(cell.name)


def needs_package(plan: Plan) -> bool:
    return any(not cell.missing and _installs_package(cell) for cell in plan.cells)


def _installs_package(cell: Cell) -> bool:
    if cell.tool == "nox":
        return False  # a nox session installs what it installs itself (see cell_nox)
    return not cell.config.get("skip_install") and cell.config.get("package") != "skip"


def tool_root(plan: Plan) -> Path:
    """Our folder beside the tool's (``.tox/.pipeline``, ``.nox/.pipeline``): already
    ignored by every project's .gitignore that ignores the tool's own."""
    project = Path(plan.project_dir)
    for cell in plan.cells:
        return env_folder(cell, project).parent
    return project / ".tox" / ".pipeline"


def _own_tool_folders(root: Path) -> None:
    """``.tox/.pipeline`` (or ``.nox/.pipeline``) made, and kept out of ``git status``: the
    tool's own folder too when we are the first to make it (tox ignores ``.tox`` itself)."""
    for folder in (root.parent, root):
        if not folder.exists():
            folder.mkdir(parents=True, exist_ok=True)
            ignore_in_git(folder)
    ignore_in_git(root)


def read_installpkg(source: Path | None) -> build.Wheel | None:
    """``--installpkg``, read before the run touches anything: a wrong file must cost
    nothing, least of all the previous run's reports."""
    if source is None:
        return None
    if not source.is_file() or source.suffix != ".whl":
        raise PipelineError(f"--installpkg {source}: not a wheel file; pass a built .whl")
    try:
        return build.read_wheel(source)
    except PipelineError as exc:
        raise PipelineError(f"--installpkg {exc.message}") from None


def prepare_wheel(
    plan: Plan,
    reports: outputs.Reports,
    options: RunOptions,
    early: build.EarlyBuild | None,
    uv: str | None,
    *,
    given: build.Wheel | None = None,
) -> build.Wheel | None:
    """The wheel every cell installs: ``given`` (``--installpkg``, see :func:`read_installpkg`),
    or the run's build (started early or now), or None when no cell installs the package
    (an early build is then stopped)."""
    if given is not None:
        reports.dist.mkdir(parents=True, exist_ok=True)
        target = reports.dist / given.path.name
        copy_atomic(given.path, target)
        return dataclasses.replace(given, path=target)  # same bytes: no second hash
    if not needs_package(plan):
        if early is not None:
            early.cancel()
        return None
    return (early or start_build(options, uv, reports.root)).wheel(reports.dist, reports.build_log)


def start_build(options: RunOptions, uv: str | None, reports_root: Path) -> build.EarlyBuild:
    return build.EarlyBuild(
        options.project.resolve(), uv=uv, skip=(reports_root,), rebuild=options.recreate
    ).start()


def build_early(
    options: RunOptions, config: config_mod.PipelineConfig, uv: str | None, reports_root: Path
) -> build.EarlyBuild | None:
    """Start the package build before discovery when the run will most likely need it: a
    project that can be built, with no ``--installpkg``. When the plan then needs no
    package, the build is stopped."""
    from pytest_pipeline.matrix.discover import choose_tool
    from pytest_pipeline.matrix.settings import run_settings

    project = options.project.resolve()
    if options.installpkg is not None or not build.buildable(project):
        return None
    try:
        choose_tool(project, options.tool or run_settings(config).tool)
    except PipelineError:
        return None  # discovery says the same, in its own words
    try:
        return start_build(options, uv, reports_root)
    except OSError:
        return None  # no temporary folder to stage in: build after discovery, as before


def choose_installer(choice: str) -> envs.Installer:
    """``auto``: uv when found (PATH or the ``uv`` package), else virtualenv + pip."""
    if choice == "pip":
        return envs.Installer(None)
    uv = envs.find_uv()
    if choice == "uv" and uv is None:
        raise PipelineError(
            "installer = 'uv' but uv is not installed; pip install 'pytest-pipeline-gate[uv]' (or uv), "
            "or use --installer pip"
        )
    return envs.Installer(uv)


def companions(config: config_mod.PipelineConfig) -> tuple[inject.Companion, ...]:
    """Plugins the cells need besides ours: pytest-rerunfailures when a stage retries."""
    return (inject.RERUNFAILURES,) if any(stage.retries for stage in config.stages) else ()


def tool_versions(plan: Plan, installer: envs.Installer) -> dict[str, str]:
    versions = {"pytest-pipeline-gate": __version__, plan.tool: plan.tool_version}
    if installer.uv:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions["uv"] = importlib.metadata.version("uv")
    return versions


AFTER_CELLS = (
    "pytest_pipeline.junit",
    "pytest_pipeline.gate.evaluate",
    "pytest_pipeline.report.history",
    "rich.console",
    "rich.table",
    "rich.box",
)
"""What the end of a run imports (merge, summary table, gate): ~0.2-0.3 s of a 2-3 s warm
run, with nothing else to do in this process while the cells run."""


def preload(modules: Sequence[str]) -> threading.Thread:
    """Import ``modules`` in a background thread. The import system's module locks make
    a later import in the main thread wait for (never duplicate) one in progress; an
    import that fails here is tried again there and fails in its usual place."""

    def work() -> None:
        for name in modules:
            with contextlib.suppress(Exception):
                importlib.import_module(name)

    thread = threading.Thread(target=work, name="preload", daemon=True)
    thread.start()
    return thread


@dataclass(frozen=True)
class TimeLimits:
    cell: float | None = None
    """Seconds a cell may take (None: no limit)."""
    run: float | None = None
    """Seconds the run may take from ``started`` (None: no limit)."""
    started: float | None = None
    """When the run started (``time.monotonic()``)."""


def time_limits(options: RunOptions, settings: RunSettings, started: float) -> TimeLimits:
    """The command line's limits over the configured ones; 0 from the command line lifts one."""
    cell = settings.timeout if options.timeout is None else options.timeout
    whole = settings.run_timeout if options.run_timeout is None else options.run_timeout
    return TimeLimits(cell=cell or None, run=whole or None, started=started)


def run_cells(
    plan: Plan,
    ctx: RunContext,
    *,
    workers: int,
    fail_fast: bool,
    stream: IO[str],
    limits: TimeLimits = TimeLimits(),
) -> Outcome:
    """Run every cell: ``workers`` test at once, a few more prepare their environments
    meanwhile (see :mod:`.slots`)."""
    ctx = dataclasses.replace(ctx, slots=Slots(workers))
    jobs = [
        Job(cell, functools.partial(run_cell, ctx, cell), events=ctx.reports.events(cell.name))
        for cell in plan.cells
    ]
    board = progress.choose(plan.cells, stream)
    in_flight = lanes(workers, len(jobs))
    preload(AFTER_CELLS)
    scheduler = Scheduler(
        jobs,
        workers=in_flight,
        fail_fast=fail_fast,
        listener=board,
        cell_timeout=limits.cell,
        run_timeout=limits.run,
        started=limits.started,
    )
    with signals_as_interrupt(), board:
        outcome = scheduler.run()
    if outcome.timed_out and limits.run is not None:
        not_started = sum(1 for record in outcome.records if record.status is CellStatus.CANCELLED)
        stream.write(
            f"pytest-pipeline: the run's time limit of {config_mod.format_duration(limits.run)} passed: "
            f"running cells ended (timed-out), {not_started} not started\n"
        )
    return outcome


def merge_results(
    reports: outputs.Reports, records: Sequence[CellRecord], default_stage: str
) -> ResultSummary:
    """The cells' JUnit files merged into ``junit.xml`` (``run``, and ``rerun`` once it has
    folded its cells in); no report at all leaves no merged file behind."""
    from pytest_pipeline import junit

    files = [reports.root / record.junit for record in records if record.junit]
    files = [path for path in files if path.is_file()]
    if not files:
        reports.merged.unlink(missing_ok=True)
        return ResultSummary()
    return junit.merge(files, reports.merged, default_stage=default_stage)


def discover_plan(options: RunOptions, config: config_mod.PipelineConfig) -> Plan:
    from pytest_pipeline.matrix.discover import Request, discover

    request = Request(
        tool=options.tool,
        select=options.cells,
        labels=options.labels,
        environ=clean_environ(os.environ),
    )
    return discover(options.project.resolve(), config, request)


def run(
    options: RunOptions,
    *,
    plan: Plan | None = None,
    config: config_mod.PipelineConfig | None = None,
) -> RunResult:
    """The whole pipeline. ``plan``/``config`` can be given (tests; ``tox -e matrix``)."""
    from pytest_pipeline.matrix.settings import run_settings

    started_clock = time.monotonic()
    project = options.project.resolve()
    pyproject = project / "pyproject.toml"
    config = config or config_mod.load(pyproject if pyproject.is_file() else None)
    settings = run_settings(config)
    gate_policy = _gate_policy(config, options)  # validate [gate] before any work
    _check_hook_settings(config)
    given_wheel = read_installpkg(options.installpkg)
    workers = worker_count(options.parallel if options.parallel is not None else settings.parallel)
    fail_fast = settings.fail_fast if options.fail_fast is None else options.fail_fast
    backend: Backend = options.backend or settings.backend
    installer = choose_installer(options.installer or settings.installer)
    limits = time_limits(options, settings, started_clock)
    reports_root = (options.reports_dir or (project / config.reports_dir)).resolve()
    outputs.check_root(
        reports_root,
        project,
        "--reports-dir" if options.reports_dir is not None else "[tool.pytest-pipeline] reports-dir",
    )
    started = now_iso()
    # Before the build starts: a build may leave files in the tree (build/, *.egg-info).
    commit, dirty = git_provenance(project, reports_root)
    early: build.EarlyBuild | None = None
    run_id = watchdog.new_run_id()

    def say(text: str) -> None:
        options.stream.write(f"pytest-pipeline: {text}\n")

    # SIGTERM is Ctrl-C from here on: a build, discovery or a merge in progress stops cleanly too.
    with signals_as_interrupt(), contextlib.ExitStack() as stack:
        # Before any child starts: each one carries the run's id, and dies with the run.
        stack.enter_context(process.run_scope(run_id, say=say))
        if plan is None:
            # A cold run: the build and `tox config` take about as long; run them together.
            early = build_early(options, config, installer.uv, reports_root)
            if early is not None:
                stack.callback(early.cancel)  # a no-op once its wheel was taken
            plan = discover_plan(options, config)
        check_plan(plan)
        for name, why in plan.off_platform.items():  # as tox says it skips them
            options.stream.write(f"pytest-pipeline: {name}: left out, {why} (tox `platform`)\n")
        reports = stack.enter_context(outputs.open_reports(reports_root, run_id=run_id, say=say))
        root = tool_root(plan)
        _own_tool_folders(root)
        wheel = prepare_wheel(plan, reports, options, early, installer.uv, given=given_wheel)
        ctx = RunContext(
            project=project,
            reports=reports,
            injection=inject.prepare(root / ".pytest-pipeline-inject", companions=companions(config)),
            wheel=wheel,
            installer=installer,
            environ=clean_environ(os.environ),
            config_file=config.source,
            tool_config=project / plan.config_file if plan.config_file else None,
            pytest_args=options.pytest_args,
            backend=backend,
            recreate=options.recreate,
            seed=tox_commands.hash_seed(os.environ),
            tox_plugins=tox_route.tox_plugins() if plan.tool == "tox" else (),
        )
        outcome = run_cells(
            plan, ctx, workers=workers, fail_fast=fail_fast, stream=options.stream, limits=limits
        )
        records, interrupted = outcome.records, outcome.interrupted
        record = RunRecord(
            cells=tuple(records),
            stages=plan.stages,
            artifact=wheel.artifact if wheel else None,
            interrupted=interrupted,
            started=started,
            finished=now_iso(),
            tool_versions=tool_versions(plan, installer),
            commit=commit,
            dirty=dirty,
            pytest_args=options.pytest_args,
            backend=backend,
            installer=installer.name,
        )
        reports.write_run_record(record)
        if options.ci is not None:
            from pytest_pipeline.ci.report import fold_cell_logs

            fold_cell_logs(options.ci, records, reports.root)
        merged = merge_results(reports, records, config.default_stage)
        code = ExitCode.OK
        if options.verdict:
            from pytest_pipeline.gate.render import use_colour

            summary.render(records, merged, plan.stages, options.stream, colour=use_colour(options.stream))
            code = gate_results(reports, config, gate_policy, project, options.stream)
        if interrupted:
            code = ExitCode.INTERRUPTED
        return RunResult(code, record, merged, reports.root)


def _gate_policy(config: config_mod.PipelineConfig, options: RunOptions) -> Policy:
    """Check the gate policy now: a typo in [gate] must not cost a whole run."""
    from pytest_pipeline.gate import policy as policy_mod

    return policy_mod.from_config(config, dict(options.gate_overrides))


def _check_hook_settings(config: config_mod.PipelineConfig) -> None:
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


def gate_results(
    reports: outputs.Reports,
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
