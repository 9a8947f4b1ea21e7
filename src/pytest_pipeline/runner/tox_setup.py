"""A tox cell's environment, made as tox makes it, with our plugin in it.

The environment lives where ``tox run -e ENV --workdir .tox/.pipeline`` keeps it (the
``env_dir`` discovery read from tox), so everything tox resolved from it, such as
``{envpython}`` in ``commands``, points into the cell's own environment.

A fingerprint of everything that decides the environment's contents is kept in it. A
warm environment with the same fingerprint is used as it is; when only the package was
rebuilt (same requirements), only the package is reinstalled, as tox does.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pytest_pipeline import __version__
from pytest_pipeline.fileio import sha256_file
from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.matrix.tool_config import tox_config
from pytest_pipeline.runner import envs, tox_commands, tox_install
from pytest_pipeline.runner.backends.base import Attempt
from pytest_pipeline.runner.build import Wheel
from pytest_pipeline.runner.installer_verdict import log_position, why_failed
from pytest_pipeline.runner.process import CommandNotFound, run_command, write_log_line
from pytest_pipeline.runner.tox_route import Route
from pytest_pipeline.runner.toxenv import ToxEnv, from_config, site_packages
from pytest_pipeline.runner.xdist_workers import AUTO_VARIABLE

if TYPE_CHECKING:
    from pytest_pipeline.runner.ahead import Ahead
    from pytest_pipeline.runner.backends.base import CellJob
    from pytest_pipeline.runner.context import RunContext

FINGERPRINT_FILE = ".pytest-pipeline-env.json"
FINGERPRINT_VERSION = 3
BEGUN_MARKER = ".pytest-pipeline-begun"
"""In an environment :func:`begin` made: the run's token. Another process that makes the
environment between our release of its lock and the cell's taking it removes it."""
CREATED = "environment created"
"""The first note of :func:`prepare_cell` for an environment made in this run."""
PROJECT_FILES = ("pyproject.toml", "setup.cfg", "setup.py", "uv.lock")
"""Files tox reads while it makes an environment (package metadata, dependency groups, a
uv lock): a change re-runs tox's setup for ``tox-env`` cells."""


class EnvError(Exception):
    """The environment could not be made (details are in the cell's log)."""


@dataclass(frozen=True)
class ToxCell:
    """Everything one tox cell needs from the run."""

    project: Path
    tool_config: Path | None
    wheel: Wheel | None
    environ: Mapping[str, str]
    """The caller's environment (cleaned of an outer tox run's variables)."""
    seed: str
    """``PYTHONHASHSEED`` of the run (tox draws one per invocation)."""
    installer: envs.Installer
    recreate: bool = False
    ahead: Ahead | None = None
    """Environments begun while the package built (:mod:`.ahead`), for :func:`prepare` to take over."""


Inject = Callable[[Mapping[str, str]], dict[str, str]]


def env_of(cell: Cell, project: Path) -> ToxEnv:
    """The cell's tox environment; a ``resolution`` axis is tox-uv's ``uv_resolution``."""
    env = from_config(cell.env, tox_config(cell.config), project)
    if cell.resolution and tox_install.uv_binary(env) is not None:
        command = list(env.install_command)
        if "--resolution" in command:
            at = command.index("--resolution")
            del command[at : at + 2]
        at = command.index(tox_install.PACKAGES) if tox_install.PACKAGES in command else len(command)
        command[at:at] = ["--resolution", cell.resolution]
        env = dataclasses.replace(env, install_command=tuple(command))
    return env


# --------------------------------------------------------------------------- environment


def prepare(
    run: ToxCell,
    cell: Cell,
    route: Route,
    *,
    interpreter: str,
    interpreter_version: str,
    log: IO[bytes],
    cancel: Any,
) -> str:
    """Make, update or reuse the cell's environment; what was done (``created``,
    ``reused``, ...). Raises :class:`EnvError`.

    The fingerprint is of what tox's steps are made from (the settings tox reported, the
    files they name, the interpreter, the tools' versions), not of the steps: a warm
    environment is known to be current without asking tox's code for the steps."""
    env = env_of(cell, run.project)
    wheel = run.wheel if env.installs_package else None
    if env.installs_package and run.wheel is None:
        raise EnvError("no package was built for this run")
    new = _fingerprint(
        run,
        cell=cell,
        env=env,
        route=route,
        interpreter=interpreter,
        version=interpreter_version,
        wheel=wheel,
    )
    old = _read_fingerprint(env.env_dir)
    action = _action(old, new, env.env_dir, recreate=run.recreate)
    if action == "reused":
        write_log_line(log, f"pytest-pipeline: environment {env.env_dir}: reused")
        return action
    install: tox_install.InstallPlan | None = None
    if route.kind == "native":
        try:
            install = tox_install.plan(env, interpreter=interpreter, wheel=wheel)
        except tox_install.UnsupportedInstall as exc:
            write_log_line(log, f"pytest-pipeline: tox makes this environment: {exc}")
    how = "ours" if install is not None else "tox"
    write_log_line(log, f"pytest-pipeline: environment {env.env_dir}: {action} ({how})")
    (env.env_dir / FINGERPRINT_FILE).unlink(missing_ok=True)
    variables = tox_commands.environment(env, run.environ, seed=run.seed, package=None)
    if install is None:
        _tox_setup(run, cell, env, log=log, cancel=cancel, recreate=run.recreate or action == "created")
    elif action == "created":
        steps = (install.create, *install.installs, *([install.package] if install.package else []))
        head = _head(steps)
        output = run.ahead.take(env.env_dir, new["base"], head) if run.ahead is not None else None
        if output is not None:  # begun while the package built: the same steps, done
            labels = ", ".join(step.label for step in head)
            write_log_line(log, f"pytest-pipeline: begun while the package built ({labels}):")
            log.write(output)
            log.flush()
            steps = steps[len(head) :]
        elif env.env_dir.exists():
            shutil.rmtree(env.env_dir)
        for step in steps:
            _step(step, env, variables, log=log, cancel=cancel)
    else:  # package-reinstalled
        assert install.package is not None
        _step(install.package, env, variables, log=log, cancel=cancel)
    _overlay(run, cell, env, log=log, cancel=cancel)
    env.env_dir.mkdir(parents=True, exist_ok=True)
    (env.env_dir / FINGERPRINT_FILE).write_text(json.dumps(new, indent=1) + "\n", encoding="utf-8")
    return action


def begin(
    run: ToxCell, cell: Cell, route: Route, *, log: IO[bytes], cancel: Any, token: str
) -> tuple[dict[str, Any], tuple[tox_install.Step, ...]] | None:
    """Before the package is built: the steps :func:`prepare` would take first (the
    virtual environment, ``deps``) when it will certainly make the environment anew;
    (settings fingerprint, steps done), or None when nothing was done (see :mod:`.ahead`).
    The environment is marked with ``token`` for :meth:`.ahead.Ahead.take`."""
    env = env_of(cell, run.project)
    try:
        interpreter, version = interpreter_of(cell)
    except EnvError:
        return None
    base = _fingerprint(
        run, cell=cell, env=env, route=route, interpreter=interpreter, version=version, wheel=None
    )["base"]
    old = _read_fingerprint(env.env_dir)
    same_base = old is not None and old.get("base") == base and envs.python_in(env.env_dir).exists()
    if same_base and not run.recreate:
        return None  # reused or only the package reinstalled: that waits for the package
    try:  # only now: tox's parsers take a while to load
        install = tox_install.plan(env, interpreter=interpreter, wheel=None)
    except tox_install.UnsupportedInstall:
        return None
    head = _head((install.create, *install.installs))
    (env.env_dir / FINGERPRINT_FILE).unlink(missing_ok=True)
    if env.env_dir.exists():
        shutil.rmtree(env.env_dir)
    variables = tox_commands.environment(env, run.environ, seed=run.seed, package=None)
    try:
        for step in head:
            _step(step, env, variables, log=log, cancel=cancel)
    except EnvError:
        return None  # the cell tries again and says why in its own log
    (env.env_dir / BEGUN_MARKER).write_text(token, encoding="utf-8")
    return base, head


def _head(steps: Sequence[tox_install.Step]) -> tuple[tox_install.Step, ...]:
    """The steps that do not need the package: the virtual environment and ``deps``."""
    return tuple(itertools.takewhile(lambda step: step.label in ("venv", "install_deps"), steps))


def _fingerprint(
    run: ToxCell,
    *,
    cell: Cell,
    env: ToxEnv,
    route: Route,
    interpreter: str,
    version: str,
    wheel: Wheel | None,
) -> dict[str, Any]:
    """What decides the environment's content: every setting tox reported for it, the
    files tox or its installers read (``-r``/``-c`` files; the project's metadata files
    when tox makes the environment), the interpreter, the tools' versions."""
    files = _referenced_files(env.tox_root, lines=(*env.deps, *env.constraints))
    if route.kind != "native":
        files.update({name: _hash(env.tox_root / name) for name in (*PROJECT_FILES, env.pylock) if name})
    base = {
        "version": FINGERPRINT_VERSION,
        "pytest_pipeline": __version__,
        "how": "ours" if route.kind == "native" else "tox",
        "config": {key: value for key, value in sorted(cell.config.items()) if key != "description"},
        "install_command": list(env.install_command),
        "files": files,
        "interpreter": [interpreter, version],
        "tools": tox_install.versions(),
        "resolution_environ": tox_install.resolution_environ(run.environ),
        "pins": list(cell.pins),
        "resolution": cell.resolution,
    }
    package = None
    if wheel is not None:
        package = {"sha256": wheel.artifact.sha256, "requires": list(wheel.requires)}
    return {"base": base, "package": package}


def _referenced_files(root: Path, lines: Sequence[str] = ()) -> dict[str, str]:
    """Hashes of requirement and constraint files the installs name: editing one changes
    the environment although no setting changed."""
    words: list[str] = []
    for line in lines:
        words.extend(line.split())
    found: dict[str, str] = {}
    for option, value in itertools.pairwise(words):
        if option in ("-r", "-c", "--requirement", "--constraint"):
            found[value] = _hash(root / value)
    for word in words:
        for prefix in ("-r", "-c", "--requirement=", "--constraint="):
            if word.startswith(prefix) and len(word) > len(prefix) and not word.startswith("--c"):
                found[word] = _hash(root / word[len(prefix) :])
    return found


def _hash(path: Path) -> str:
    try:
        return sha256_file(path)
    except OSError:
        return "absent"


def _read_fingerprint(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / FINGERPRINT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _action(old: Mapping[str, Any] | None, new: Mapping[str, Any], folder: Path, *, recreate: bool) -> str:
    if recreate or old is None or not envs.python_in(folder).exists():
        return "created"
    if old == new:
        return "reused"
    old_package, new_package = old.get("package"), new.get("package")
    if (
        old.get("base") == new.get("base")
        and old_package is not None
        and new_package is not None
        and old_package.get("requires") == new_package.get("requires")
    ):
        return "package-reinstalled"
    return "created"


def _step(
    step: tox_install.Step, env: ToxEnv, variables: Mapping[str, str], *, log: IO[bytes], cancel: Any
) -> None:
    argv = list(step.argv)
    try:
        if step.label != "venv":  # installers run from the environment, like tox's commands
            argv = tox_commands.resolve(argv, env, variables, env.tox_root)
    except CommandNotFound as missing:
        raise EnvError(f"{step.label}: {missing.program}: command not found") from None
    except tox_commands.NotAllowed as refused:
        raise EnvError(f"{step.label}: {refused} is not allowed by allowlist_externals") from None
    environ = {**variables, **step.environ}
    if step.label == "venv":
        environ.pop("VIRTUAL_ENV", None)
    since = log_position(log)
    try:
        result = run_command(argv, cwd=env.tox_root, env=environ, log=log, cancel=cancel)
    except CommandNotFound as missing:
        raise EnvError(f"{step.label}: {missing.program}: command not found") from None
    if result.cancelled:
        raise EnvError("cancelled")
    if result.returncode != 0:
        raise EnvError(f"{step.label} failed (exit {result.returncode}){why_failed(log, since)}; see the log")


def _overlay(run: ToxCell, cell: Cell, env: ToxEnv, *, log: IO[bytes], cancel: Any) -> None:
    """The cell's matrix-axis pins (ours, not tox's) on top of what tox's steps installed."""
    if not cell.pins:
        return
    overlay = envs.Overlay(python=envs.python_in(env.env_dir), pins=cell.pins, root=run.project)
    write_log_line(log, f"pytest-pipeline: matrix axis pins: {', '.join(cell.pins)}")
    try:
        envs.apply_overlay(overlay, run.installer, log=log, cancel=cancel, environ=run.environ)
    except envs.EnvError as exc:
        raise EnvError(str(exc)) from None


# --------------------------------------------------------------------------- tox itself


def tox_argv(run: ToxCell, cell: Cell, env: ToxEnv, *extra: str) -> list[str]:
    """``tox run -e ENV`` in the cell's folder, with the run's hash seed."""
    argv = [sys.executable, "-m", "tox", "run", "-e", cell.env, "--colored", "no"]
    if run.tool_config is not None:
        argv.extend(["-c", str(run.tool_config)])
    argv.extend(["--workdir", str(env.work_dir), "--hashseed", run.seed])
    if env.env_dir.name != cell.env:  # a matrix-axis cell: its own folder
        argv.extend(["-x", override(run.tool_config, cell.env, "env_dir", str(env.env_dir))])
    if cell.resolution:
        argv.extend(["-x", override(run.tool_config, cell.env, "uv_resolution", cell.resolution)])
    argv.extend(extra)
    return argv


def _tox_setup(run: ToxCell, cell: Cell, env: ToxEnv, *, log: IO[bytes], cancel: Any, recreate: bool) -> None:
    extra = ["--notest"]
    if run.wheel is not None and env.installs_package:
        extra.extend(["--installpkg", str(run.wheel.path.resolve())])
    if recreate:
        extra.append("--recreate")
    environ = dict(run.environ)
    since = log_position(log)
    try:
        result = run_command(
            tox_argv(run, cell, env, *extra), cwd=run.project, env=environ, log=log, cancel=cancel
        )
    except CommandNotFound as missing:
        raise EnvError(f"{missing.program}: command not found") from None
    if result.cancelled:
        raise EnvError("cancelled")
    if result.returncode != 0:
        why = why_failed(log, since)
        raise EnvError(f"tox could not make the environment (exit {result.returncode}){why}; see the log")


def override(config: Path | None, env: str, key: str, value: str) -> str:
    """tox's ``-x`` for one environment's setting: INI (``testenv:ENV.key``) or TOML
    (``env.ENV.key``), as the configuration file is written."""
    if config is not None and _toml_config(config):
        return f"env.{env}.{key}={value}"
    return f"testenv:{env}.{key}={value}"


def _toml_config(config: Path) -> bool:
    if config.name == "tox.toml":
        return True
    if config.name != "pyproject.toml":
        return False
    try:
        text = config.read_text(encoding="utf-8")
    except OSError:
        return False
    return "legacy_tox_ini" not in text  # [tool.tox] with an INI string in it reads as INI


def run_tox_commands(
    run: ToxCell, cell: Cell, env: ToxEnv, environ: Mapping[str, str], *, log: IO[bytes], cancel: Any
) -> tuple[int, bool]:
    """The ``tox`` route: tox runs the commands in the environment made above."""
    passed = f"PYTEST_ADDOPTS,PYTEST_PIPELINE_*,{AUTO_VARIABLE}"  # what the injection sets
    argv = tox_argv(
        run, cell, env, "--skip-pkg-install", "-x", override(run.tool_config, cell.env, "pass_env+", passed)
    )
    result = run_command(argv, cwd=run.project, env=environ, log=log, cancel=cancel)
    return result.returncode, result.cancelled


def reset_folders(env: ToxEnv) -> None:
    """What tox does at the start of every run: ``{env_tmp_dir}`` and ``{env_log_dir}``
    emptied (and the temporary folder made)."""
    for folder in (env.tmp_dir, env.log_dir):
        if folder.is_symlink() or folder.is_file():
            folder.unlink()
        elif folder.is_dir():
            shutil.rmtree(folder)
    env.tmp_dir.mkdir(parents=True, exist_ok=True)


def install_plugin(injection: Any, env: ToxEnv) -> None:
    """Our plugin into the environment (a ``.pth`` naming the injection folder)."""
    site = site_packages(env.env_dir)
    if site is None:
        raise EnvError(f"{env.env_dir}: no site-packages folder found to load the plugin from")
    injection.install(site)


# --------------------------------------------------------------------------- for the backends


def tox_cell(ctx: RunContext) -> ToxCell:
    return ToxCell(
        project=ctx.project,
        tool_config=ctx.tool_config,
        wheel=ctx.wheel,
        environ=ctx.environ,
        seed=ctx.seed,
        installer=ctx.installer,
        recreate=ctx.recreate,
        ahead=ctx.ahead,
    )


def prepare_cell(job: CellJob) -> tuple[ToxEnv, list[str]] | Attempt:
    """The cell's environment made (or reused) and our plugin in it: the environment and
    the notes for the record, or the :class:`Attempt` that says why it could not be."""
    cell, route = job.cell, job.route
    env = env_of(cell, job.ctx.project)
    try:
        interpreter, version = interpreter_of(cell)
        job.notify(phase="environment")
        action = prepare(
            tox_cell(job.ctx),
            cell,
            route,
            interpreter=interpreter,
            interpreter_version=version,
            log=job.log,
            cancel=job.cancel.event,
        )
        install_plugin(job.ctx.injection, env)
    except (EnvError, envs.EnvError) as exc:
        return Attempt(env_error=str(exc), cancelled=job.cancel.event.is_set())
    notes = [f"environment {action}"] + ([f"through tox ({route.why})"] if route.kind != "native" else [])
    return env, notes


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
        raise EnvError(f"python {cell.python} not found")
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
        raise EnvError(f"{path} does not run ({exc})") from None
    if done.returncode != 0:
        raise EnvError(f"{path} does not run (exit {done.returncode})")
    return str(done.stdout).strip()
