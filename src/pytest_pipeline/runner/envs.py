"""One environment per cell, created by us (uv, else virtualenv + pip) and reused when warm.

tox spends most of a warm run reinstalling the package into every environment; here a
fingerprint of everything that decides an environment's contents is stored in it, and
a warm, unchanged environment is used as it is. When only the built wheel changed (same
requirements), only the package is reinstalled.

An environment another tool made (a nox session's) gets an :class:`Overlay` instead: the
run's wheel and the cell's axis pins, installed the same way on top of what it holds.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from pytest_pipeline import __version__
from pytest_pipeline.fileio import sha256_file
from pytest_pipeline.runner.build import Wheel
from pytest_pipeline.runner.process import CommandResult, run_command, write_log_line

FINGERPRINT_FILE = ".pytest-pipeline-env.json"
FINGERPRINT_VERSION = 1

Action = Literal["created", "reused", "package-reinstalled", "updated"]


def find_uv() -> str | None:
    """``uv`` on PATH, else the binary of the ``uv`` Python package (``pip install uv``)."""
    found = shutil.which("uv")
    if found:
        return found
    try:
        from uv import find_uv_bin
    except ImportError:
        return None
    try:
        return str(find_uv_bin())
    except FileNotFoundError:  # pragma: no cover - a broken uv install
        return None


@dataclass(frozen=True)
class Installer:
    """How environments are made: ``uv`` (a path to the binary) or virtualenv + pip."""

    uv: str | None

    @property
    def name(self) -> str:
        return "uv" if self.uv else "pip"


@dataclass(frozen=True)
class EnvSpec:
    """Everything that decides what an environment contains."""

    folder: Path
    interpreter: str
    """Absolute path of the base interpreter."""
    interpreter_version: str
    deps: tuple[str, ...] = ()
    """tox ``deps`` lines (requirements, ``-r file``, ``-c file``, ``-e path``)."""
    pins: tuple[str, ...] = ()
    """Matrix-axis requirements that override ``deps`` and the package's own requirements."""
    constraints: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    resolution: str | None = None
    wheel: Wheel | None = None
    """The package under test, or None for ``skip_install``."""
    system_site_packages: bool = False
    root: Path = field(default_factory=Path.cwd)
    """Where relative paths in ``deps`` are resolved (tox's ``tox_root``)."""

    @property
    def python(self) -> Path:
        return python_in(self.folder)

    def fingerprint(self, installer: Installer) -> dict[str, Any]:
        return {
            "version": FINGERPRINT_VERSION,
            "pytest_pipeline": __version__,
            "installer": installer.name,
            "interpreter": self.interpreter,
            "interpreter_version": self.interpreter_version,
            "deps": list(self.deps),
            "files": _referenced_file_hashes(self.deps + self.constraints, self.root),
            "pins": list(self.pins),
            "constraints": list(self.constraints),
            "extras": sorted(self.extras),
            "resolution": self.resolution,
            "system_site_packages": self.system_site_packages,
            "package": None
            if self.wheel is None
            else {
                "name": self.wheel.project,
                "sha256": self.wheel.artifact.sha256,
                "requires": list(self.wheel.requires),
            },
        }


class EnvError(Exception):
    """The environment could not be created or installed (details are in the log)."""


def bin_dir(folder: Path) -> Path:
    return folder / ("Scripts" if sys.platform == "win32" else "bin")


def python_in(folder: Path) -> Path:
    """The interpreter of the environment in ``folder``."""
    return bin_dir(folder) / ("python.exe" if sys.platform == "win32" else "python")


def _referenced_file_hashes(lines: Sequence[str], root: Path) -> dict[str, str]:
    """Hashes of requirement/constraint files named in ``deps``: editing one must
    invalidate the environment even though the ``deps`` text did not change."""
    hashes: dict[str, str] = {}
    for option, value in (_split_option(line) for line in lines):
        if option in ("-r", "-c") and value:
            path = (root / value).resolve()
            try:
                hashes[value] = sha256_file(path)
            except OSError:
                hashes[value] = "missing"
    return hashes


def _split_option(line: str) -> tuple[str | None, str]:
    text = line.strip()
    for option, long in (("-r", "--requirement"), ("-c", "--constraint"), ("-e", "--editable")):
        for prefix in (long + "=", long + " ", option + " ", option):
            if text.startswith(prefix):
                return option, text[len(prefix) :].strip()
    return None, text


def dependency_args(deps: Sequence[str]) -> list[str]:
    """tox ``deps`` lines as installer arguments (``-r file`` becomes two arguments)."""
    args: list[str] = []
    for line in deps:
        if not line.strip() or line.strip().startswith("#"):
            continue
        option, value = _split_option(line)
        if option:
            args.extend([option, value])
        else:
            args.append(value)
    return args


def requirement_name(text: str) -> str | None:
    try:
        return canonicalize_name(Requirement(text).name)
    except InvalidRequirement:
        return None


def package_requirement(wheel: Wheel, extras: Sequence[str]) -> str:
    extra = f"[{','.join(sorted(extras))}]" if extras else ""
    return f"{wheel.project}{extra} @ {wheel.path.resolve().as_uri()}"


def read_fingerprint(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / FINGERPRINT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def plan_action(old: Mapping[str, Any] | None, new: Mapping[str, Any], folder: Path) -> Action:
    """What to do to turn the environment described by ``old`` into ``new``."""
    if old is None or not python_in(folder).exists():
        return "created"
    if old == new:
        return "reused"
    same_but_package = {k: v for k, v in old.items() if k != "package"} == {
        k: v for k, v in new.items() if k != "package"
    }
    old_pkg, new_pkg = old.get("package"), new.get("package")
    if (
        same_but_package
        and old_pkg is not None
        and new_pkg is not None
        and old_pkg.get("name") == new_pkg.get("name")
        and old_pkg.get("requires") == new_pkg.get("requires")
    ):
        return "package-reinstalled"
    return "created"


@dataclass
class EnvOutcome:
    action: Action
    python: Path
    results: list[CommandResult] = field(default_factory=list)


def prepare(
    spec: EnvSpec,
    installer: Installer,
    *,
    log: IO[bytes],
    cancel: threading.Event,
    environ: Mapping[str, str],
) -> EnvOutcome:
    """Create, update or reuse ``spec.folder``. Raises :class:`EnvError` on failure.

    The fingerprint is written only after a successful install, and removed before any
    change, so an interrupted install is never mistaken for a warm environment.
    """
    new = spec.fingerprint(installer)
    old = read_fingerprint(spec.folder)
    action = plan_action(old, new, spec.folder)
    outcome = EnvOutcome(action, spec.python)
    write_log_line(log, f"pytest-pipeline: environment {spec.folder}: {action} ({installer.name})")
    if action == "reused":
        return outcome
    (spec.folder / FINGERPRINT_FILE).unlink(missing_ok=True)
    env = _installer_environment(environ)

    def step(argv: Sequence[str]) -> None:
        outcome.results.append(_step(argv, cwd=spec.root, env=env, log=log, cancel=cancel))

    if action == "created":
        if spec.resolution and not installer.uv:
            raise EnvError(f"resolution {spec.resolution!r} needs uv; install it (pip install uv)")
        if spec.folder.exists():
            shutil.rmtree(spec.folder)
        step(_create_command(spec, installer))
        with tempfile.TemporaryDirectory(prefix="pytest-pipeline-") as tmp:
            argv = _install_command(spec, installer, Path(tmp))
            if argv:
                step(argv)
    else:  # package-reinstalled: same requirements, new build of the package
        assert spec.wheel is not None
        step(_reinstall_package_command(spec, installer))
    (spec.folder / FINGERPRINT_FILE).write_text(json.dumps(new, indent=1) + "\n", encoding="utf-8")
    return outcome


def _step(
    argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], log: IO[bytes], cancel: threading.Event
) -> CommandResult:
    """One install command; :class:`EnvError` unless it succeeded."""
    result = run_command(argv, cwd=cwd, env=env, log=log, cancel=cancel)
    if result.cancelled:
        raise EnvError("cancelled")
    if result.returncode != 0:
        raise EnvError(f"{argv[0]} exited with {result.returncode}")
    return result


def _installer_environment(environ: Mapping[str, str]) -> dict[str, str]:
    env = dict(environ)
    # An activated virtualenv (we may run inside ``tox -e matrix``) must not redirect
    # installs; PYTHONPATH would make pip see packages that are not in the target.
    for name in ("VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONPATH", "PYTHONHOME", "PIP_USER"):
        env.pop(name, None)
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    return env


def _create_command(spec: EnvSpec, installer: Installer) -> list[str]:
    if installer.uv:
        argv = [installer.uv, "venv", "--quiet", "--python", spec.interpreter, str(spec.folder)]
    else:
        argv = [sys.executable, "-m", "virtualenv", "--quiet", "--python", spec.interpreter, str(spec.folder)]
    if spec.system_site_packages:
        argv.insert(-1, "--system-site-packages")
    return argv


def _install_command(spec: EnvSpec, installer: Installer, tmp: Path) -> list[str] | None:
    requirements = dependency_args(spec.deps)
    if spec.wheel is not None:
        requirements.append(package_requirement(spec.wheel, spec.extras))
    if not requirements and not spec.pins:
        return None
    constraint_args: list[str] = []
    for constraint in spec.constraints:
        constraint_args.extend(["-c", constraint])
    if installer.uv:
        argv = [installer.uv, "pip", "install", "--python", str(spec.python), *requirements, *constraint_args]
        argv.extend(_uv_pin_args(spec.pins, tmp))
        if spec.resolution:
            argv.extend(["--resolution", spec.resolution])
        return argv
    # pip has no overrides: drop deps naming a pinned project, require the pins, and
    # constrain them so the package's own requirements cannot pick another version.
    pinned = {requirement_name(pin) for pin in spec.pins} - {None}
    kept = [arg for arg in requirements if requirement_name(arg) not in pinned or arg.startswith("-")]
    return [
        str(spec.python),
        "-m",
        "pip",
        "install",
        *kept,
        *spec.pins,
        *constraint_args,
        *_pip_pin_args(spec.pins, tmp),
    ]


def _uv_pin_args(pins: Sequence[str], tmp: Path) -> list[str]:
    """Axis pins for ``uv pip install``: overrides win over deps and over the package's
    own requirements, which is what a matrix axis means ("this cell runs with attrs 23.2")."""
    if not pins:
        return []
    overrides = tmp / "overrides.txt"
    overrides.write_text("\n".join(pins) + "\n", encoding="utf-8")
    return ["--override", str(overrides), *pins]


def _pip_pin_args(pins: Sequence[str], tmp: Path) -> list[str]:
    """Axis pins for pip, which has no overrides: a constraints file, so nothing else in
    the install can pick another version (the pins themselves are required by the caller)."""
    if not pins:
        return []
    pins_file = tmp / "pins.txt"
    pins_file.write_text("\n".join(pins) + "\n", encoding="utf-8")
    return ["-c", str(pins_file)]


def _reinstall_package_command(spec: EnvSpec, installer: Installer) -> list[str]:
    assert spec.wheel is not None
    requirement = package_requirement(spec.wheel, spec.extras)
    if installer.uv:
        return [
            installer.uv,
            "pip",
            "install",
            "--python",
            str(spec.python),
            "--no-deps",
            "--reinstall-package",
            spec.wheel.project,
            requirement,
        ]
    return [str(spec.python), "-m", "pip", "install", "--no-deps", "--force-reinstall", requirement]


@dataclass(frozen=True)
class Overlay:
    """What goes on top of an environment another tool made (a nox session's)."""

    python: Path
    """The environment's interpreter."""
    wheel: Wheel | None
    """The run's wheel, replacing the package the session installed from source; None
    when the session did not install the package (then it is not added)."""
    pins: tuple[str, ...] = ()
    resolution: str | None = None
    root: Path = field(default_factory=Path.cwd)

    @property
    def empty(self) -> bool:
        return self.wheel is None and not self.pins


def overlay_commands(overlay: Overlay, installer: Installer, tmp: Path) -> list[list[str]]:
    """The commands that install ``overlay``, as :func:`prepare` installs a cell's own
    environment: uv overrides for the pins and ``--resolution``, pip constraints."""
    if overlay.empty:
        return []
    python = str(overlay.python)
    if installer.uv:
        argv = [installer.uv, "pip", "install", "--python", python]
        if overlay.wheel is not None:
            argv.extend(
                ["--reinstall-package", overlay.wheel.project, package_requirement(overlay.wheel, ())]
            )
        argv.extend(_uv_pin_args(overlay.pins, tmp))
        if overlay.resolution:
            # --upgrade: what the session installed is no preference, or the versions
            # its own install picked would stay (they satisfy the requirements too).
            argv.extend(["--resolution", overlay.resolution, "--upgrade"])
        return [argv]
    if overlay.resolution:
        raise EnvError(f"resolution {overlay.resolution!r} needs uv; install it (pip install uv)")
    commands: list[list[str]] = []
    if overlay.wheel is not None:
        requirement = package_requirement(overlay.wheel, ())
        commands.append([python, "-m", "pip", "install", "--no-deps", "--force-reinstall", requirement])
    if overlay.pins:
        commands.append([python, "-m", "pip", "install", *overlay.pins, *_pip_pin_args(overlay.pins, tmp)])
    return commands


def apply_overlay(
    overlay: Overlay,
    installer: Installer,
    *,
    log: IO[bytes],
    cancel: threading.Event,
    environ: Mapping[str, str],
) -> None:
    """Install ``overlay``; raises :class:`EnvError` on failure (details in the log)."""
    env = _installer_environment(environ)
    with tempfile.TemporaryDirectory(prefix="pytest-pipeline-") as tmp:
        for argv in overlay_commands(overlay, installer, Path(tmp)):
            _step(argv, cwd=overlay.root, env=env, log=log, cancel=cancel)


def installed(folder: Path, project: str) -> bool:
    """Whether the environment in ``folder`` has a distribution named ``project``
    (its ``*.dist-info`` folder; an editable install has one too)."""
    wanted = canonicalize_name(project)
    for pattern in ("lib/*/site-packages/*.dist-info", "Lib/site-packages/*.dist-info"):
        for info in folder.glob(pattern):
            if canonicalize_name(info.name.split("-", 1)[0]) == wanted:
                return True
    return False


def environ_for_commands(
    spec_folder: Path,
    base: Mapping[str, str],
    *,
    pass_env: Sequence[str],
    set_env: Mapping[str, str],
) -> dict[str, str]:
    """The environment tox would give the env's commands: the caller's variables that
    ``pass_env`` lets through, then ``set_env``, then the env's ``bin`` first on PATH."""
    from fnmatch import fnmatchcase

    patterns = [p.upper() if sys.platform == "win32" else p for p in pass_env]
    env: dict[str, str] = {}
    for name, value in base.items():
        key = name.upper() if sys.platform == "win32" else name
        if any(fnmatchcase(key, pattern) for pattern in patterns):
            env[name] = value
    env.update(set_env)
    env["VIRTUAL_ENV"] = str(spec_folder)
    env["TOX_ENV_DIR"] = str(spec_folder)
    env["PATH"] = os.pathsep.join([str(bin_dir(spec_folder)), base.get("PATH", os.defpath)])
    env.pop("PYTHONHOME", None)
    return env
