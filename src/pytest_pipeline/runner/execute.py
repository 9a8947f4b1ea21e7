"""Run one cell: its environment, our plugin in it, its commands; say how it ended.

How each cell runs is decided by :mod:`.tox_route` (``plan`` shows it): a tox cell's
environment is made as tox makes it and its commands run as tox runs them
(:mod:`.cell_tox`), or tox itself does it; a nox cell runs as ``nox -s`` runs it
(:mod:`.cell_nox`). In every case the cell's pytest gets our plugin (:mod:`.inject`),
and each pytest session of the cell leaves a JUnit file that ends up in
``cells/<cell>/junit.xml``; the status comes from the exit code and that file.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.results import CellRecord, CellStatus, describe_exit
from pytest_pipeline.runner import cell_junit, cell_nox, cell_tox, envs, locks, tox_commands, tox_route
from pytest_pipeline.runner.build import Wheel
from pytest_pipeline.runner.inject import Injection
from pytest_pipeline.runner.outputs import Reports
from pytest_pipeline.runner.process import write_log_line
from pytest_pipeline.runner.slots import Slots

Backend = Literal["auto", "tox"]
StopReason = Literal["interrupted", "fail-fast", "timed-out"]

# The ``tox run`` exit code for "interrupted" and pytest's own; both mean the same here.
_PYTEST_INTERRUPTED = 2


@dataclass
class Cancel:
    """Set by the scheduler to stop a cell; ``reason`` tells the record what to say."""

    event: threading.Event = field(default_factory=threading.Event)
    reason: StopReason | None = None

    def set(self, reason: StopReason) -> None:
        if self.reason is None:
            self.reason = reason
        self.event.set()


Notify = Callable[..., None]
"""``notify(phase=..., ...)``: progress updates for the live view (keyword arguments)."""


@dataclass(frozen=True)
class RunContext:
    project: Path
    reports: Reports
    injection: Injection
    wheel: Wheel | None
    installer: envs.Installer
    """How matrix-axis pins are installed on top of an environment (uv, else pip)."""
    environ: Mapping[str, str]
    """The caller's environment, cleaned of variables that belong to an outer tox run."""
    config_file: Path | None = None
    """The project's pyproject.toml (``PYTEST_PIPELINE_CONFIG`` in cells)."""
    tool_config: Path | None = None
    """The tox/nox configuration file (``tox -c`` / ``nox -f``)."""
    pytest_args: tuple[str, ...] = ()
    backend: Backend = "auto"
    recreate: bool = False
    """Recreate environments (ours through their fingerprints; tox ``-r``; nox ``--reuse-venv=no``)."""
    slots: Slots | None = None
    """Test slots (``-p``) a cell takes once its environment is ready; None: no limit
    beyond the scheduler's (see :mod:`.slots`)."""
    seed: str = "0"
    """The run's ``PYTHONHASHSEED`` (tox draws one per run; every cell of a run shares it)."""
    tox_plugins: tuple[str, ...] = ()
    """Distributions with tox plugins here (:func:`.tox_route.tox_plugins`)."""

    def route(self, cell: Cell) -> tox_route.Route:
        return tox_route.route(cell, self.project, backend=self.backend, plugins=self.tox_plugins)


# --------------------------------------------------------------------------- status


def classify(
    *,
    exit_code: int | None,
    junit: bool,
    cancelled: StopReason | None,
) -> tuple[CellStatus, str]:
    """How a cell ended, from the test command's exit code and whether it left a report.

    A process that left no report is trusted by its exit code and said to be so (nox's
    rule); a report with a non-zero exit is a failure whose details are in the report.
    """
    if cancelled == "interrupted":
        return CellStatus.INTERRUPTED, "interrupted"
    if cancelled == "fail-fast":
        return CellStatus.CANCELLED, "stopped by --fail-fast"
    if cancelled == "timed-out":
        return CellStatus.TIMED_OUT, "timed out"
    if exit_code is None:
        return CellStatus.CRASHED, "the test command did not run"
    if not junit:
        if exit_code == 0:
            return CellStatus.CRASHED, "exit 0 but no JUnit report: did the commands run pytest?"
        return CellStatus.CRASHED, f"no report: {describe_exit(exit_code)}"
    if exit_code == 0:
        return CellStatus.PASSED, ""
    if exit_code == 1:
        return CellStatus.FAILED, "tests failed"
    if exit_code == 5:
        return CellStatus.NO_TESTS, "no tests ran"
    if exit_code == _PYTEST_INTERRUPTED:
        return CellStatus.FAILED, "pytest stopped early (exit 2: collection errors or an interruption)"
    if exit_code < 0:
        return CellStatus.CRASHED, f"pytest {describe_exit(exit_code)}; see the log"
    return CellStatus.CRASHED, f"pytest exited with {exit_code} (internal or usage error); see the log"


def classify_by_exit_code(exit_code: int | None, *, runs_pytest: bool = False) -> tuple[CellStatus, str]:
    """A cell with no per-test results (lint, docs, unittest) has only its exit code to
    say, as for tox. Its record then says ``runs_pytest: false``: the gate judges it by
    that code and expects no stage results from it."""
    why = (
        "no per-test results (no pytest session loaded the pipeline plugin)"
        if runs_pytest
        else "runs no pytest"
    )
    if exit_code == 0:
        return CellStatus.PASSED, f"{why}: judged by its exit code"
    return CellStatus.FAILED, f"{why}: exited with {exit_code}"


def junit_present(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


# --------------------------------------------------------------------------- one cell


@dataclass
class _Attempt:
    exit_code: int | None = None
    env_error: str | None = None
    cancelled: bool = False
    """A command (or the wait for the environment's lock) was stopped by a cancel."""
    notes: list[str] = field(default_factory=list)
    waited: float = 0.0
    """Seconds spent ready, waiting for a test slot: not part of the cell's duration."""


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def record_of(cell: Cell, status: CellStatus, message: str = "") -> CellRecord:
    """A record naming ``cell`` as every record of it does (run, not started or crashed);
    how it ran (exit code, files, times) is filled in by whoever ran it."""
    return CellRecord(
        name=cell.name,
        status=status,
        tool=cell.tool,
        env=cell.env,
        python=cell.python,
        factors=dict(cell.factors),
        stages=tuple(cell.stages),
        message=message,
        runs_pytest=cell.runs_pytest,
        ignore_outcome=cell.ignore_outcome,
        tested=_tested(cell),
    )


def _tested(cell: Cell) -> str:
    """What of the project a cell's tests see (see ``CellRecord.tested``)."""
    if cell.tool == "nox":
        return "source"
    installs = not cell.config.get("skip_install") and cell.config.get("package") != "skip"
    return "wheel" if installs else "nothing"


def env_folder(cell: Cell, project: Path) -> Path:
    """The cell's environment: tox's ``env_dir`` for it (discovery asked tox with our
    ``--workdir``, beside tox's own folders); for a nox cell, the ``--envdir`` nox makes
    the session's environment in."""
    if cell.tool == "nox":
        return project / ".nox" / ".pipeline" / _plain_name(cell.name)
    env_dir = cell.config.get("env_dir")
    if isinstance(env_dir, str) and env_dir:
        return Path(env_dir)
    return project / ".tox" / ".pipeline" / cell.name


def _plain_name(name: str) -> str:
    """``name`` with only letters, digits and ``._+-``, made unique by a hash when changed.

    nox sessions are named like calls (``tests-3.12(attrs='24.2')``). In a folder named
    so, the scripts of a virtualenv whose path is too long for a ``#!`` line (it starts
    them through ``/bin/sh`` then) fail on the parentheses and quotes.
    """
    plain = re.sub(r"[^A-Za-z0-9._+-]+", "-", name).strip("-.")
    if plain == name:
        return name
    return f"{plain}-{hashlib.sha1(name.encode()).hexdigest()[:6]}"


def run_cell(ctx: RunContext, cell: Cell, cancel: Cancel, notify: Notify) -> CellRecord:
    reports = ctx.reports
    reports.cell_dir(cell.name).mkdir(parents=True, exist_ok=True)
    junit, log_path, events = reports.junit(cell.name), reports.log(cell.name), reports.events(cell.name)
    sessions = cell_junit.sessions_dir(junit)
    started_at, started = now_iso(), time.monotonic()
    base = dataclasses.replace(
        record_of(cell, CellStatus.RUNNING), log=reports.relative(log_path), started=started_at
    )

    waited = 0.0

    def record(status: CellStatus, message: str, exit_code: int | None = None) -> CellRecord:
        return dataclasses.replace(
            base,
            status=status,
            exit_code=exit_code,
            junit=reports.relative(junit) if junit_present(junit) else None,
            duration=time.monotonic() - started - waited,
            finished=now_iso(),
            message=message,
        )

    with log_path.open("ab") as log:
        stages = ",".join(cell.stages) or "all"
        write_log_line(log, f"pytest-pipeline: cell {cell.name} ({cell.tool} {cell.env}), stages {stages}")
        if cell.missing:
            write_log_line(log, f"pytest-pipeline: interpreter {cell.python} not found on this machine")
            return record(CellStatus.MISSING_INTERPRETER, f"python {cell.python} not found")
        folder = env_folder(cell, ctx.project)
        lock = folder.with_name(folder.name + ".lock")
        try:
            with locks.hold(
                lock,
                wait=True,
                cancel=cancel.event,
                on_wait=lambda owner: notify(phase=f"waiting for {owner}"),
            ):
                attempt = _dispatch(
                    ctx, cell, sessions=sessions, events=events, log=log, cancel=cancel, notify=notify
                )
        except locks.LockBusy:
            attempt = _Attempt(cancelled=True)
        finally:
            broken = cell_junit.collect(sessions, junit)
        waited = attempt.waited
        by_exit_code = False
        if attempt.cancelled and cancel.reason is not None:
            status, message = classify(exit_code=attempt.exit_code, junit=False, cancelled=cancel.reason)
        elif attempt.env_error is not None:
            status, message = CellStatus.ENV_ERROR, attempt.env_error
        elif broken:
            status, message = (
                CellStatus.CRASHED,
                f"a pytest session left an unreadable JUnit file ({broken[0]})",
            )
        elif not junit_present(junit) and not cell_junit.plugin_reported(events):
            # No pytest session of ours ran: unittest, a lint env, or a pytest that did
            # not load the plugin. tox judges it by its exit code, and so do we.
            by_exit_code = True
            status, message = classify_by_exit_code(attempt.exit_code, runs_pytest=cell.runs_pytest)
            message = "; ".join([*attempt.notes, message])
        else:
            status, message = classify(
                exit_code=attempt.exit_code, junit=junit_present(junit), cancelled=None
            )
            message = "; ".join([*attempt.notes, message] if message else attempt.notes)
        write_log_line(
            log, f"pytest-pipeline: cell {cell.name}: {status.value}" + (f" - {message}" if message else "")
        )
        done = record(status, message, attempt.exit_code)
        return dataclasses.replace(done, runs_pytest=False) if by_exit_code else done


def _dispatch(
    ctx: RunContext,
    cell: Cell,
    *,
    sessions: Path,
    events: Path,
    log: IO[bytes],
    cancel: Cancel,
    notify: Notify,
) -> _Attempt:
    def inject(base: Mapping[str, str], *, python_path: bool = False) -> dict[str, str]:
        return ctx.injection.environment(
            base,
            cell=cell.name,
            stages=cell.stages,
            junit_dir=sessions.resolve(),
            config=ctx.config_file,
            events=events.resolve(),
            pytest_args=ctx.pytest_args,
            python_path=python_path,
        )

    route = ctx.route(cell)
    write_log_line(log, f"pytest-pipeline: runs {route.kind}: {route.why}")
    if cell.tool == "nox":
        nox_run = cell_nox.NoxCell(
            project=ctx.project, tool_config=ctx.tool_config, environ=ctx.environ, recreate=ctx.recreate
        )

        folder = env_folder(cell, ctx.project)

        def run_nox() -> _Attempt:
            notify(phase="nox")
            environ = inject(cell_nox.environment(nox_run, cell, folder), python_path=True)
            outcome = cell_nox.run(nox_run, cell, folder, environ, log=log, cancel=cancel.event)
            return _Attempt(
                exit_code=outcome.exit_code,
                env_error=outcome.env_error,
                cancelled=outcome.cancelled,
                notes=outcome.notes,
            )

        return _in_test_slot(ctx, cancel, notify, [], run_nox)
    return _run_tox(ctx, cell, route, inject=inject, log=log, cancel=cancel, notify=notify)


def _run_tox(
    ctx: RunContext,
    cell: Cell,
    route: tox_route.Route,
    *,
    inject: Callable[..., dict[str, str]],
    log: IO[bytes],
    cancel: Cancel,
    notify: Notify,
) -> _Attempt:
    run = cell_tox.ToxCell(
        project=ctx.project,
        tool_config=ctx.tool_config,
        wheel=ctx.wheel,
        environ=ctx.environ,
        seed=ctx.seed,
        installer=ctx.installer,
        recreate=ctx.recreate,
    )
    env = cell_tox.env_of(cell, ctx.project)
    try:
        interpreter, version = interpreter_of(cell)
        notify(phase="environment")
        action = cell_tox.prepare(
            run,
            cell,
            route,
            interpreter=interpreter,
            interpreter_version=version,
            log=log,
            cancel=cancel.event,
        )
        cell_tox.install_plugin(ctx.injection, env)
    except (cell_tox.EnvError, envs.EnvError) as exc:
        return _Attempt(env_error=str(exc), cancelled=cancel.event.is_set())
    notes = [f"environment {action}"] + ([f"through tox ({route.why})"] if route.kind != "native" else [])
    package = ctx.wheel.path.resolve() if ctx.wheel is not None and env.installs_package else None

    def commands() -> _Attempt:
        cell_tox.reset_folders(env)
        if route.kind == "tox":
            notify(phase="tox")
            code, cancelled = cell_tox.run_tox_commands(
                run, cell, env, inject(ctx.environ), log=log, cancel=cancel.event
            )
            return _Attempt(exit_code=code, cancelled=cancelled, notes=notes)
        environ = inject(tox_commands.environment(env, ctx.environ, seed=ctx.seed, package=package))
        outcome = tox_commands.run_all(
            env,
            environ=environ,
            log=log,
            cancel=cancel.event,
            on_phase=lambda key: notify(phase=_PHASES.get(key, key)),
        )
        attempt = _Attempt(
            exit_code=outcome.exit_code, cancelled=outcome.cancelled, notes=[*notes, *outcome.notes]
        )
        if outcome.not_allowed:
            attempt.env_error = (
                f"{outcome.not_allowed} is not allowed: add it to allowlist_externals (as tox says)"
            )
        elif outcome.not_found:
            attempt.env_error = f"{outcome.not_found}: command not found"
        return attempt

    return _in_test_slot(ctx, cancel, notify, notes, commands)


_PHASES = {"commands": "tests"}


def _in_test_slot(
    ctx: RunContext, cancel: Cancel, notify: Notify, notes: list[str], run: Callable[[], _Attempt]
) -> _Attempt:
    """``run()`` while holding one of the run's test slots; the seconds waited for the slot
    go to the attempt (they are not the cell's time). A cell cancelled while it waits
    never runs."""
    waited = 0.0
    if ctx.slots is not None:
        notify(phase="ready")
        acquired = ctx.slots.acquire(cancel.event)
        if acquired is None:
            return _Attempt(cancelled=True, notes=notes)
        waited = acquired
    try:
        attempt = run()
    finally:
        if ctx.slots is not None:
            ctx.slots.release()
    attempt.waited = waited
    return attempt


def interpreter_of(cell: Cell) -> tuple[str, str]:
    """(path, version) of the cell's base interpreter."""
    path = cell.python_path
    if not path:
        base = cell.config.get("base_python")
        candidates = [base] if isinstance(base, str) else list(base or [])
        for candidate in candidates:
            if Path(str(candidate)).is_absolute():
                path = str(candidate)
                break
        else:
            path = shutil.which(f"python{cell.python}") if cell.python else sys.executable
    if not path:
        raise cell_tox.EnvError(f"python {cell.python} not found")
    version = cell.python_version or _ask_version(path)
    return path, version


def _ask_version(path: str) -> str:
    try:
        done = subprocess.run(
            [path, "-c", "import sys; print('.'.join(map(str, sys.version_info[:3])))"],
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise cell_tox.EnvError(f"{path} does not run ({exc})") from None
    if done.returncode != 0:
        raise cell_tox.EnvError(f"{path} does not run (exit {done.returncode})")
    return done.stdout.strip()
