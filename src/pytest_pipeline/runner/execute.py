"""Run one cell: prepare its environment, run its commands, say how it ended.

Three ways, chosen per cell:

* **native** (tox cells, the default): we materialise the environment tox describes
  (``tox config``: deps, extras, set_env, pass_env, commands, ...) in a folder of our
  own, install the one built wheel, and run the commands ourselves;
* **tox** (fallback): ``tox run -e ENV --installpkg WHEEL`` for a configuration we
  cannot reproduce faithfully (a custom ``install_command``, another runner, dependency
  groups, ...) or when ``backend = "tox"`` forces it;
* **nox**: nox makes the session's environment (``--install-only``), in a folder of the
  cell's own (``--envdir``); we put the one built wheel in place of the package the
  session installed from source, and the cell's axis pins; then nox runs the session's
  commands without installing again (``--no-install``).

In every case the cell's pytest gets our plugin through :mod:`.inject` and writes
``cells/<cell>/junit.xml``; the status comes from the exit code and that file.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.results import CellRecord, CellStatus
from pytest_pipeline.runner import envs, locks
from pytest_pipeline.runner.build import Wheel
from pytest_pipeline.runner.inject import Injection
from pytest_pipeline.runner.outputs import Reports
from pytest_pipeline.runner.process import CommandNotFound, run_command, write_log_line
from pytest_pipeline.runner.slots import Slots

Backend = Literal["auto", "tox"]
StopReason = Literal["interrupted", "fail-fast", "timed-out"]

NATIVE_RUNNERS = frozenset({"virtualenv", "uv-venv-runner"})
WHEEL_PACKAGES = frozenset(
    {"sdist", "wheel", "uv", "editable", "editable-legacy", "uv-editable", "sdist-wheel"}
)
NO_PACKAGE = frozenset({"skip"})
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


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    ignore_exit: bool = False
    """tox's ``-`` prefix: the exit code does not count."""
    invert: bool = False
    """tox's ``!`` prefix: success means a non-zero exit."""


def parse_command(text: str | Sequence[str]) -> Command | None:
    """A command as ``tox config`` prints it (a shell-quoted line) -> :class:`Command`."""
    argv = shlex.split(text) if isinstance(text, str) else list(text)
    ignore = invert = False
    while argv and argv[0] in ("-", "!"):
        ignore, invert = ignore or argv[0] == "-", invert or argv[0] == "!"
        argv = argv[1:]
    if argv and argv[0].startswith("-") and len(argv[0]) > 1 and not argv[0].startswith("--"):
        ignore, argv[0] = True, argv[0][1:]
    if argv and argv[0].startswith("!") and len(argv[0]) > 1:
        invert, argv[0] = True, argv[0][1:]
    if not argv:
        return None
    return Command(tuple(argv), ignore_exit=ignore, invert=invert)


def native_blockers(config: Mapping[str, Any], backend: Backend) -> list[str]:
    """Why this tox environment must run through tox itself (empty: we can run it)."""
    if backend == "tox":
        return ["backend = 'tox' is configured"]
    reasons: list[str] = []
    if "commands" not in config:
        reasons.append("tox did not report the environment's commands")
    runner = config.get("runner")
    if isinstance(runner, str) and runner and runner not in NATIVE_RUNNERS:
        reasons.append(f"runner = {runner}")
    package = config.get("package")
    if isinstance(package, str) and package not in WHEEL_PACKAGES | NO_PACKAGE:
        reasons.append(f"package = {package}")
    if config.get("dependency_groups"):
        reasons.append("dependency_groups")
    install = config.get("install_command")
    if isinstance(install, str) and not _default_install_command(install):
        reasons.append(f"install_command = {install}")
    return reasons


def _default_install_command(text: str) -> bool:
    tokens = [token.strip("'\"") for token in shlex.split(text)]
    if not tokens:
        return True
    program = Path(tokens[0]).name
    rest = tokens[1:]
    pip_rest = ["-I", "-m", "pip", "install", "{opts}", "{packages}"]
    pip_default = program.startswith("python") and rest == pip_rest
    uv_default = program.startswith("uv") and rest == ["pip", "install", "{packages}"]
    return pip_default or uv_default


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
        return CellStatus.CRASHED, f"no report: trusting exit code {exit_code}"
    if exit_code == 0:
        return CellStatus.PASSED, ""
    if exit_code == 1:
        return CellStatus.FAILED, "tests failed"
    if exit_code == 5:
        return CellStatus.NO_TESTS, "no tests ran"
    if exit_code == _PYTEST_INTERRUPTED:
        return CellStatus.FAILED, "pytest stopped early (exit 2: collection errors or an interruption)"
    return CellStatus.CRASHED, f"pytest exited with {exit_code} (internal or usage error); see the log"


def classify_by_exit_code(exit_code: int | None) -> tuple[CellStatus, str]:
    """An environment that runs no pytest (lint, docs) has only its exit code to say."""
    if exit_code == 0:
        return CellStatus.PASSED, "runs no pytest: judged by its exit code"
    return CellStatus.FAILED, f"runs no pytest: exited with {exit_code}"


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
    )


def env_folder(cell: Cell, project: Path) -> Path:
    """Our environment for ``cell``: beside tox's, never one of tox's own folders; for a
    nox cell, the ``--envdir`` nox makes the session's environment in."""
    if cell.tool == "nox":
        return project / ".nox" / ".pipeline" / _plain_name(cell.name)
    env_dir = cell.config.get("env_dir")
    work_dir = Path(env_dir).parent if isinstance(env_dir, str) and env_dir else project / ".tox"
    return work_dir / ".pipeline" / cell.name


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
                    ctx,
                    cell,
                    folder=folder,
                    junit=junit,
                    events=events,
                    log=log,
                    cancel=cancel,
                    notify=notify,
                )
        except locks.LockBusy:
            attempt = _Attempt(cancelled=True)
        waited = attempt.waited
        if attempt.cancelled and cancel.reason is not None:
            status, message = classify(exit_code=attempt.exit_code, junit=False, cancelled=cancel.reason)
        elif attempt.env_error is not None:
            status, message = CellStatus.ENV_ERROR, attempt.env_error
        elif not cell.runs_pytest and not junit_present(junit):
            status, message = classify_by_exit_code(attempt.exit_code)
            message = "; ".join([*attempt.notes, message])
        else:
            status, message = classify(
                exit_code=attempt.exit_code, junit=junit_present(junit), cancelled=None
            )
            message = "; ".join([*attempt.notes, message] if message else attempt.notes)
        write_log_line(
            log, f"pytest-pipeline: cell {cell.name}: {status.value}" + (f" - {message}" if message else "")
        )
        return record(status, message, attempt.exit_code)


def _dispatch(
    ctx: RunContext,
    cell: Cell,
    *,
    folder: Path,
    junit: Path,
    events: Path,
    log: IO[bytes],
    cancel: Cancel,
    notify: Notify,
) -> _Attempt:
    def inject(base: Mapping[str, str]) -> dict[str, str]:
        return ctx.injection.environment(
            base,
            cell=cell.name,
            stages=cell.stages,
            junit=junit.resolve(),
            config=ctx.config_file,
            events=events.resolve(),
            pytest_args=ctx.pytest_args,
        )

    if cell.tool == "nox":
        return _run_nox(ctx, cell, folder=folder, inject=inject, log=log, cancel=cancel, notify=notify)
    blockers = native_blockers(cell.config, ctx.backend)
    if blockers:
        note = f"run through tox ({', '.join(blockers)})"
        write_log_line(log, f"pytest-pipeline: {note}")
        # tox manages this folder now: our fingerprint must not vouch for its contents later.
        (folder / envs.FINGERPRINT_FILE).unlink(missing_ok=True)

        def run_tox() -> _Attempt:
            notify(phase="tox")
            argv = _tox_argv(ctx, cell, folder)
            return _run_tool(ctx, argv, inject(ctx.environ), log, cancel, notes=[note])

        return _in_test_slot(ctx, cancel, notify, [note], run_tox)
    return _run_native(ctx, cell, folder=folder, inject=inject, log=log, cancel=cancel, notify=notify)


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


def _run_tool(
    ctx: RunContext,
    argv: list[str],
    environ: Mapping[str, str],
    log: IO[bytes],
    cancel: Cancel,
    *,
    notes: list[str],
) -> _Attempt:
    try:
        result = run_command(argv, cwd=ctx.project, env=environ, log=log, cancel=cancel.event)
    except CommandNotFound as missing:
        return _Attempt(env_error=f"{missing.program}: command not found", notes=notes)
    return _Attempt(exit_code=result.returncode, notes=notes, cancelled=result.cancelled)


def _tox_argv(ctx: RunContext, cell: Cell, folder: Path) -> list[str]:
    section = f"testenv:{cell.env}"
    argv = [sys.executable, "-m", "tox", "run", "-e", cell.env, "--colored", "no"]
    if ctx.recreate:
        argv.append("--recreate")
    if ctx.tool_config is not None:
        argv.extend(["-c", str(ctx.tool_config)])
    if ctx.wheel is not None:
        argv.extend(["--installpkg", str(ctx.wheel.path.resolve())])
    argv.extend(["-x", f"{section}.pass_env+=PYTEST_ADDOPTS,PYTHONPATH,PYTEST_PIPELINE_*"])
    # Our own folder for it too: a plain ``tox`` run and this one never share an env.
    argv.extend(["-x", f"{section}.env_dir={folder}"])
    if cell.pins:
        argv.extend(["-x", f"{section}.deps+={','.join(cell.pins)}"])
    if cell.resolution:
        argv.extend(["-x", f"{section}.uv_resolution={cell.resolution}"])
    return argv


def _nox_argv(ctx: RunContext, cell: Cell, folder: Path, *, install: bool) -> list[str]:
    """``install``: make the environment and run only its installs (``--install-only``);
    else run the session's commands in the environment as it is (``--no-install``).
    ``--envdir``: every cell its own environment, also two axis cells of one session."""
    argv = [sys.executable, "-m", "nox", "--non-interactive", "--no-color"]
    if ctx.tool_config is not None:
        argv.extend(["-f", str(ctx.tool_config)])
    argv.extend(["-s", cell.env, "--envdir", str(folder.resolve())])
    if install:
        argv.extend(["--install-only", "--reuse-venv=no" if ctx.recreate else "--reuse-venv=yes"])
    else:
        argv.extend(["--no-install", "--reuse-venv=yes"])
    return argv


def nox_venv(folder: Path) -> Path | None:
    """The environment nox made for a session in ``folder`` (its ``--envdir``: one session,
    in a subfolder named after it), or None for a session without one (``python=False``)."""
    if not folder.is_dir():
        return None
    for child in sorted(folder.iterdir()):
        if envs.python_in(child).exists():
            return child
    return None


def _run_nox(
    ctx: RunContext,
    cell: Cell,
    *,
    folder: Path,
    inject: Callable[[Mapping[str, str]], dict[str, str]],
    log: IO[bytes],
    cancel: Cancel,
    notify: Notify,
) -> _Attempt:
    notify(phase="environment")
    made = _run_tool(ctx, _nox_argv(ctx, cell, folder, install=True), ctx.environ, log, cancel, notes=[])
    if made.cancelled or made.env_error is not None:
        return made
    if made.exit_code != 0:
        return _Attempt(env_error=f"nox --install-only exited with {made.exit_code}")
    try:
        notes = _overlay_nox(ctx, cell, nox_venv(folder), log=log, cancel=cancel)
    except envs.EnvError as exc:
        return _Attempt(env_error=str(exc), cancelled=cancel.event.is_set())
    except CommandNotFound as missing:
        return _Attempt(env_error=f"{missing.program}: command not found")

    def run_tests() -> _Attempt:
        notify(phase="nox")
        argv = _nox_argv(ctx, cell, folder, install=False)
        return _run_tool(ctx, argv, inject(ctx.environ), log, cancel, notes=notes)

    return _in_test_slot(ctx, cancel, notify, notes, run_tests)


def _overlay_nox(
    ctx: RunContext, cell: Cell, venv: Path | None, *, log: IO[bytes], cancel: Cancel
) -> list[str]:
    """The run's wheel and the cell's axis pins into the environment nox made: the
    cell's notes, saying what was done."""
    if venv is None:
        if cell.pins or cell.resolution:
            raise envs.EnvError("the nox session has no virtualenv to pin the matrix axes in")
        return []
    # Only in place of the package the session installed itself: a session that tests
    # the sources some other way does not get it added.
    wheel = ctx.wheel if ctx.wheel is not None and envs.installed(venv, ctx.wheel.project) else None
    overlay = envs.Overlay(
        python=envs.python_in(venv), wheel=wheel, pins=cell.pins, resolution=cell.resolution, root=ctx.project
    )
    notes: list[str] = []
    if wheel is not None:
        notes.append(f"the run's wheel installed over the session's {wheel.project}")
    if cell.pins:
        notes.append(f"pinned {', '.join(cell.pins)}")
    if cell.resolution:
        applies = not overlay.empty
        notes.append(
            f"resolution {cell.resolution}"
            + ("" if applies else ": nothing to resolve (no package, no pins)")
        )
    if notes:
        write_log_line(log, f"pytest-pipeline: in {venv}: {'; '.join(notes)} ({ctx.installer.name})")
    envs.apply_overlay(overlay, ctx.installer, log=log, cancel=cancel.event, environ=ctx.environ)
    return notes


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
        raise envs.EnvError(f"python {cell.python} not found")
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
        raise envs.EnvError(f"{path} does not run ({exc})") from None
    if done.returncode != 0:
        raise envs.EnvError(f"{path} does not run (exit {done.returncode})")
    return done.stdout.strip()


def env_spec(ctx: RunContext, cell: Cell, folder: Path) -> tuple[envs.EnvSpec, list[str]]:
    config = cell.config
    notes: list[str] = []
    interpreter, version = interpreter_of(cell)
    package = config.get("package")
    install = not config.get("skip_install") and package not in NO_PACKAGE
    if install and ctx.wheel is None:
        raise envs.EnvError("no package was built for this run")
    if install and isinstance(package, str) and "editable" in package:
        notes.append(f"package = {package}: installed the built wheel (as tox --installpkg would)")
    resolution = cell.resolution or (config.get("uv_resolution") or None)
    return (
        envs.EnvSpec(
            folder=folder,
            interpreter=interpreter,
            interpreter_version=version,
            deps=tuple(str(dep) for dep in config.get("deps") or ()),
            pins=tuple(cell.pins),
            constraints=tuple(str(c) for c in config.get("constraints") or ()),
            extras=tuple(str(extra) for extra in config.get("extras") or ()),
            resolution=str(resolution) if resolution else None,
            wheel=ctx.wheel if install else None,
            system_site_packages=bool(config.get("system_site_packages", False)),
            root=ctx.project,
        ),
        notes,
    )


def _run_native(
    ctx: RunContext,
    cell: Cell,
    *,
    folder: Path,
    inject: Callable[[Mapping[str, str]], dict[str, str]],
    log: IO[bytes],
    cancel: Cancel,
    notify: Notify,
) -> _Attempt:
    config = cell.config
    try:
        spec, notes = env_spec(ctx, cell, folder)
        notify(phase="environment")
        outcome = envs.prepare(spec, ctx.installer, log=log, cancel=cancel.event, environ=ctx.environ)
    except envs.EnvError as exc:
        return _Attempt(env_error=str(exc), cancelled=cancel.event.is_set())
    except CommandNotFound as missing:
        return _Attempt(env_error=f"{missing.program}: command not found")
    notes = [f"environment {outcome.action}", *notes]
    return _in_test_slot(
        ctx,
        cancel,
        notify,
        notes,
        lambda: _run_native_commands(
            ctx, config, folder=folder, inject=inject, log=log, cancel=cancel, notify=notify, notes=notes
        ),
    )


def _run_native_commands(
    ctx: RunContext,
    config: Mapping[str, Any],
    *,
    folder: Path,
    inject: Callable[[Mapping[str, str]], dict[str, str]],
    log: IO[bytes],
    cancel: Cancel,
    notify: Notify,
    notes: list[str],
) -> _Attempt:
    """``commands_pre``, ``commands`` (with our plugin), ``commands_post``, as tox runs them."""
    set_env = {str(k): str(v) for k, v in (config.get("set_env") or {}).items()}
    pass_env = [str(p) for p in config.get("pass_env") or ()]
    plain = envs.environ_for_commands(folder, ctx.environ, pass_env=pass_env, set_env=set_env)
    # The plugin's variables go on top of what the environment's commands get, so a
    # project's own PYTEST_ADDOPTS or PYTHONPATH (set_env) is kept and extended.
    with_plugin = inject(plain)
    cwd = Path(str(config.get("change_dir") or ctx.project))
    ignore_errors = bool(config.get("ignore_errors", False))
    attempt = _Attempt(notes=notes)
    notify(phase="commands_pre")
    pre = _run_commands(
        config.get("commands_pre"),
        environ=plain,
        cwd=cwd,
        log=log,
        cancel=cancel,
        ignore_errors=ignore_errors,
    )
    if pre.not_found:
        attempt.env_error = f"commands_pre: {pre.not_found}: command not found"
    elif pre.cancelled:
        attempt.cancelled = True
    elif pre.failed is not None:
        attempt.env_error = f"commands_pre failed (exit {pre.failed})"
    else:
        notify(phase="tests")
        main = _run_commands(
            config.get("commands"),
            environ=with_plugin,
            cwd=cwd,
            log=log,
            cancel=cancel,
            ignore_errors=ignore_errors,
        )
        if main.not_found:
            attempt.env_error = f"commands: {main.not_found}: command not found"
        attempt.exit_code = main.failed if main.failed is not None else 0
        attempt.cancelled = main.cancelled
    if not cancel.event.is_set():
        notify(phase="commands_post")
        post = _run_commands(
            config.get("commands_post"),
            environ=plain,
            cwd=cwd,
            log=log,
            cancel=cancel,
            ignore_errors=ignore_errors,
        )
        if post.failed is not None and attempt.exit_code == 0:
            attempt.notes.append(f"commands_post failed (exit {post.failed})")
    return attempt


@dataclass
class _Commands:
    failed: int | None = None
    """The first exit code that counts as a failure, or None."""
    not_found: str | None = None
    cancelled: bool = False


def _run_commands(
    lines: Any,
    *,
    environ: Mapping[str, str],
    cwd: Path,
    log: IO[bytes],
    cancel: Cancel,
    ignore_errors: bool,
) -> _Commands:
    outcome = _Commands()
    for line in lines or ():
        command = parse_command(line)
        if command is None:
            continue
        if cancel.event.is_set():
            outcome.cancelled = True
            break
        argv = list(command.argv)
        program = shutil.which(argv[0], path=environ.get("PATH"))
        if program is None and not Path(argv[0]).is_file():
            write_log_line(log, f"pytest-pipeline: {argv[0]}: command not found")
            outcome.not_found = argv[0]
            break
        if program is not None:
            argv[0] = program
        result = run_command(argv, cwd=cwd, env=environ, log=log, cancel=cancel.event)
        if result.cancelled:
            outcome.cancelled = True
            break
        code = result.returncode
        ok = (code != 0) if command.invert else (code == 0)
        if ok or command.ignore_exit:
            continue
        if outcome.failed is None:
            outcome.failed = code if code != 0 else 1
        if not ignore_errors:
            break
    return outcome
