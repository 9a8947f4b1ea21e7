"""The pieces of a run below the command: the plan checked, the wheel built once, the
cells' shared context, and every cell run (``-p`` at a time, within the time limits).

The command strings them together (:mod:`pytest_pipeline.commands.run`) and judges the
results (:mod:`pytest_pipeline.commands._finish`); nothing here parses command lines,
merges reports or sees the gate.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from pytest_pipeline import __version__, envvars
from pytest_pipeline import config as config_mod
from pytest_pipeline.errors import PipelineError
from pytest_pipeline.fileio import copy_atomic, ignore_in_git
from pytest_pipeline.matrix.model import Cell, Plan
from pytest_pipeline.matrix.select import check_cell_name
from pytest_pipeline.matrix.toolrun import NO_TOX_MATRIX_ENV
from pytest_pipeline.run_record import CellStatus
from pytest_pipeline.runner import (
    build,
    envs,
    inject,
    outputs,
    tox_commands,
    tox_install,
    tox_route,
)
from pytest_pipeline.runner.context import Backend, Reuse, RunContext, env_folder
from pytest_pipeline.runner.interrupts import signals_as_interrupt
from pytest_pipeline.runner.slots import Slots, lanes

if TYPE_CHECKING:
    from pytest_pipeline.matrix.settings import RunSettings
    from pytest_pipeline.runner.scheduler import Outcome

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
        check_cell_name(cell.name, plan.config_file)


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


def own_tool_folders(root: Path) -> None:
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
    *,
    project: Path,
    rebuild: bool,
    early: build.EarlyBuild | None,
    uv: str | None,
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
    if early is not None:
        return early.wheel(reports.dist, reports.build_log)  # the run's stack cancels it at the end
    started = start_build(project, uv=uv, reports_root=reports.root, rebuild=rebuild)
    try:
        return started.wheel(reports.dist, reports.build_log)
    finally:
        started.cancel()  # its thread, done when its snapshot is removed


def with_wheel(
    ctx: RunContext,
    plan: Plan,
    early: build.EarlyBuild | None,
    given: build.Wheel | None,
    *,
    rebuild: bool,
    workers: int,
    stack: contextlib.ExitStack,
) -> RunContext:
    """``ctx`` with the run's wheel (:func:`prepare_wheel`); while it builds, the cells'
    new environments begin (:mod:`.ahead`)."""
    ahead = None
    if early is not None:
        from pytest_pipeline.runner.ahead import Ahead

        ahead = Ahead(ctx, plan.cells, lanes=lanes(workers, len(plan.cells))).start()
        stack.callback(ahead.cancel)  # at the end a no-op; after a failed build it stops them
    try:
        wheel = prepare_wheel(
            plan,
            ctx.reports,
            project=ctx.project,
            rebuild=rebuild,
            early=early,
            uv=ctx.installer.uv,
            given=given,
        )
    except BaseException:
        if ctx.injection_making is not None:
            with contextlib.suppress(Exception):  # the build's error is the one to tell
                ctx.injection_making.wait()
        raise
    if ahead is not None:
        ahead.stop()
    if ctx.injection_making is not None:
        ctx.injection_making.wait()  # the cells' pytest loads our plugin from it
    return dataclasses.replace(ctx, wheel=wheel, ahead=ahead, injection_making=None)


def start_build(project: Path, *, uv: str | None, reports_root: Path, rebuild: bool) -> build.EarlyBuild:
    return build.EarlyBuild(project.resolve(), uv=uv, skip=(reports_root,), rebuild=rebuild).start()


def build_early(
    project: Path, *, tool: str, uv: str | None, reports_root: Path, rebuild: bool
) -> build.EarlyBuild | None:
    """Start the package build before discovery when the run will most likely need it: a
    project that can be built with ``tool`` (``auto``, ``tox``, ``nox``). When the plan
    then needs no package, the build is stopped."""
    from pytest_pipeline.matrix.discover import choose_tool

    project = project.resolve()
    if not build.buildable(project):
        return None
    try:
        chosen = choose_tool(project, tool)
    except PipelineError:
        return None  # discovery says the same, in its own words
    if chosen == "tox" and not (project / ".tox" / ".pipeline").is_dir():
        # No environment of ours yet: the cells will make theirs with tox's parsers.
        preload(tox_install.TOX_HELPERS)
    try:
        return start_build(project, uv=uv, reports_root=reports_root, rebuild=rebuild)
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
    from pytest_pipeline import installed

    versions = {"pytest-pipeline-gate": __version__, plan.tool: plan.tool_version}
    uv_version = installed.version("uv") if installer.uv else None
    if uv_version is not None:
        versions["uv"] = uv_version
    return versions


WHILE_BUILDING = (
    "pytest_pipeline.installed",
    "pytest_pipeline.runner.execute",
    "pytest_pipeline.runner.scheduler",
    "pytest_pipeline.runner.progress",
    "pytest_pipeline.commands._finish",
)
"""What running the cells imports (~40 ms): loaded while the package builds, so that the
build starts without waiting for them (see ``commands.run``)."""

AFTER_CELLS = (
    "pytest_pipeline.junit",
    "pytest_pipeline.gate.evaluate",
    "pytest_pipeline.gate.history",
)
"""What the end of a run imports (merge, gate): ~0.2-0.3 s of a 2-3 s warm run, with
nothing else to do in this process while the cells run. Not rich: a terminal's progress
board has loaded it already, and plain output prints the summary table without it."""


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


def time_limits(
    cell_timeout: float | None, run_timeout: float | None, settings: RunSettings, started: float
) -> TimeLimits:
    """The command line's limits over the configured ones; 0 from the command line lifts one."""
    cell = settings.timeout if cell_timeout is None else cell_timeout
    whole = settings.run_timeout if run_timeout is None else run_timeout
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
    """Run every cell: ``workers`` test slots, each cell holding one or its xdist workers'
    (:mod:`.slots`), a few more preparing their environments meanwhile; the longest cells
    of the previous run (``ctx.durations``) first (:func:`.scheduler.schedule`)."""
    from pytest_pipeline.runner import progress
    from pytest_pipeline.runner.execute import run_cell
    from pytest_pipeline.runner.scheduler import Job, Scheduler, schedule

    planned = schedule(
        plan.cells,
        pool=workers,
        project=ctx.project,
        environ=ctx.environ,
        pytest_args=ctx.pytest_args,
        durations=ctx.durations,
    )
    interpreters = {cell.name: cell.python or "" for cell in plan.cells}
    ctx = dataclasses.replace(ctx, slots=Slots(workers, planned.allotments, planned.order, interpreters))
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
        order=planned.order,
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


def discover_plan(
    project: Path,
    config: config_mod.PipelineConfig,
    *,
    tool: str | None,
    cells: tuple[str, ...],
    labels: tuple[str, ...],
) -> Plan:
    from pytest_pipeline.matrix.discover import Request, discover

    request = Request(tool=tool, select=cells, labels=labels, environ=clean_environ(os.environ))
    return discover(project.resolve(), config, request)


def cell_context(
    plan: Plan,
    reports: outputs.Reports,
    config: config_mod.PipelineConfig,
    *,
    project: Path,
    wheel: build.Wheel | None,
    installer: envs.Installer,
    pytest_args: tuple[str, ...],
    backend: Backend,
    recreate: bool,
    reuse: Reuse | None = None,
    durations: Mapping[str, float] | None = None,
) -> RunContext:
    """What every cell of the run shares: the reports, the wheel, our plugin's folder
    (beside the tool's, ``.tox/.pipeline``), the caller's variables, the hash seed."""
    root = tool_root(plan)
    own_tool_folders(root)
    injection, making = inject.prepare_soon(root / ".pytest-pipeline-inject", companions=companions(config))
    return RunContext(
        project=project,
        reports=reports,
        injection=injection,
        injection_making=making,
        wheel=wheel,
        installer=installer,
        environ=clean_environ(os.environ),
        config_file=config.source,
        tool_config=project / plan.config_file if plan.config_file else None,
        pytest_args=pytest_args,
        backend=backend,
        recreate=recreate,
        seed=tox_commands.hash_seed(os.environ),
        tox_plugins=tox_route.tox_plugins() if plan.tool == "tox" else (),
        reuse=reuse,
        durations=dict(durations or {}),
    )
