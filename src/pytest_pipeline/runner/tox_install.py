"""Make a tox environment the way ``tox run -e ENV --installpkg WHEEL`` makes it.

tox 4 (and tox-uv) install in three separate steps, each with the environment's own
resolved ``install_command`` and the commands' environment variables, from the project
folder:

1. ``deps`` (and ``constraints``), as tox turns them into installer arguments;
2. the package's own requirements (``Requires-Dist`` for the wanted ``extras``), a
   second resolution that may upgrade what ``deps`` pinned;
3. the package itself: ``--force-reinstall --no-deps`` (pip) or ``--reinstall --no-deps``
   (uv).

One ``uv pip install`` of everything at once resolves differently (pytest 8.2.1 where
tox ends with 9.2.0, say); so we do exactly the three steps, and where tox's own code
decides an argument list (``deps`` lines, requirements of extras) we call that code.
The differential suite compares ``pip freeze`` of both sides.
"""

from __future__ import annotations

import functools
import os
import sys
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.parser import HeaderParser
from pathlib import Path
from typing import Any

from pytest_pipeline.runner.build import Wheel
from pytest_pipeline.runner.toxenv import UV_RUNNER, ToxEnv

PACKAGES = "{packages}"

TOX_HELPERS = ("tox.tox_env.python.pip.req_file", "tox.tox_env.python.virtual_env.package.util")
"""tox's own code that the install steps call: about 0.2 s to import, worth loading while
discovery waits for ``tox config`` when environments are to be made (see ``run.build_early``)."""


class UnsupportedInstall(Exception):
    """tox's own helpers are not there (another tox version): tox makes the environment."""


@dataclass(frozen=True)
class Step:
    label: str
    """tox's name for it: ``venv``, ``install_deps``, ``install_package_deps``, ``install_package``."""
    argv: tuple[str, ...]
    environ: Mapping[str, str] = field(default_factory=dict)
    """Variables on top of the environment's own (virtualenv's settings)."""


@dataclass(frozen=True)
class InstallPlan:
    create: Step
    installs: tuple[Step, ...]
    package: Step | None
    """The last step, on its own: a new build with the same requirements reruns only it."""

    def fingerprint(self) -> dict[str, Any]:
        steps = [self.create, *self.installs]
        return {
            "steps": [[step.label, *step.argv] for step in steps],
            "environ": [sorted(step.environ.items()) for step in steps],
        }


def uv_binary(env: ToxEnv) -> str | None:
    """The uv tox-uv uses: the program of its resolved install command."""
    if env.install_command and Path(env.install_command[0]).name.startswith("uv"):
        return env.install_command[0]
    return None


def plan(env: ToxEnv, *, interpreter: str, wheel: Wheel | None) -> InstallPlan:
    """The commands tox would run to make ``env`` with ``interpreter`` and ``wheel``.
    (Matrix-axis pins are ours, not tox's: they go on top afterwards, see ``envs.Overlay``.)"""
    create = _create(env, interpreter)
    installs: list[Step] = []
    deps = _root_args(env.deps, env.tox_root, constraints=False)
    constraints = _root_args(env.constraints, env.tox_root, constraints=True)
    if deps:
        installs.append(Step("install_deps", _install(env, [*deps, *constraints])))
    package: Step | None = None
    if wheel is not None and env.installs_package:
        requirements = sorted(set(package_requirements(wheel.path, env.extras)))
        if requirements:
            # tox-uv constrains the package's requirements too; tox's pip installer only
            # with constrain_package_deps (which routes the cell through tox).
            extra = constraints if env.runner == UV_RUNNER else []
            installs.append(Step("install_package_deps", _install(env, [*requirements, *extra])))
        if env.runner == UV_RUNNER:
            args = ["--reinstall", "--no-deps", f"{wheel.project}@{wheel.path.resolve()}"]
        else:
            args = ["--force-reinstall", "--no-deps", str(wheel.path.resolve())]
        package = Step("install_package", _install(env, args))
    return InstallPlan(create=create, installs=tuple(installs), package=package)


def _create(env: ToxEnv, interpreter: str) -> Step:
    if env.runner == UV_RUNNER:
        uv = uv_binary(env)
        if uv is None:
            raise UnsupportedInstall("tox-uv's uv was not found in install_command")
        argv = [
            uv,
            "venv",
            "-p",
            interpreter,
            "--allow-existing",
            f"--prompt={env.tox_root.name}[{env.name}]",
        ]
        if env.uv_seed:
            argv.append("--seed")
        if env.system_site_packages:
            argv.append("--system-site-packages")
        if env.uv_python_preference != "none":
            argv.extend(["--python-preference", env.uv_python_preference])
        argv.append(str(env.env_dir))
        return Step("venv", tuple(argv))
    # tox creates virtualenvs through virtualenv's API with these settings; the same
    # virtualenv release (tox's dependency, installed beside us) seeds the same pip.
    settings = {
        "VIRTUALENV_NO_PERIODIC_UPDATE": "True",
        "VIRTUALENV_CLEAR": "False",
        "VIRTUALENV_SYSTEM_SITE_PACKAGES": str(env.system_site_packages),
        "VIRTUALENV_COPIES": str(env.always_copy),
        "VIRTUALENV_DOWNLOAD": str(env.download),
        "VIRTUALENV_NO_VENV_REDIRECT": "True",
    }
    command = (sys.executable, "-m", "virtualenv", str(env.env_dir), f"--python={interpreter}")
    return Step("venv", command, settings)


def _install(env: ToxEnv, packages: Sequence[str]) -> tuple[str, ...]:
    """tox's ``build_install_cmd``: the arguments where ``{packages}`` stands."""
    command = list(env.install_command)
    at = command.index(PACKAGES) if PACKAGES in command else len(command)
    return (*command[:at], *packages, *command[at + 1 :])


def _root_args(lines: Sequence[str], root: Path, *, constraints: bool) -> list[str]:
    """``deps`` / ``constraints`` lines as tox passes them to the installer (tox's own parser)."""
    if not lines:
        return []
    try:
        from tox.tox_env.python.pip.req_file import PythonConstraints, PythonDeps
    except ImportError as exc:  # pragma: no cover - a tox without them
        raise UnsupportedInstall(f"this tox has no requirements parser ({exc})") from None
    kind = PythonConstraints if constraints else PythonDeps
    try:
        return list(kind(list(lines), root).as_root_args)
    except ValueError as exc:
        raise UnsupportedInstall(f"tox cannot read these requirements here ({exc})") from None


def package_requirements(wheel: Path, extras: Sequence[str]) -> list[str]:
    """The wheel's requirements for ``extras``, as tox computes them (its own function)."""
    try:
        from packaging.requirements import Requirement
        from tox.tox_env.python.virtual_env.package.util import dependencies_with_extras
    except ImportError as exc:  # pragma: no cover - a tox without it
        raise UnsupportedInstall(f"this tox has no dependencies_with_extras ({exc})") from None
    metadata = _wheel_metadata(wheel)
    requires = [Requirement(line) for line in metadata.get_all("Requires-Dist") or ()]
    try:
        found = dependencies_with_extras(
            requires,
            set(extras),
            metadata["Name"] or wheel.name.split("-")[0],
            available_extras=set(metadata.get_all("Provides-Extra") or ()),
        )
    except Exception as exc:  # tox's Fail: an extra the package does not have
        raise UnsupportedInstall(str(exc)) from None
    return [str(requirement) for requirement in found]


def _wheel_metadata(wheel: Path) -> Any:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
        return HeaderParser().parsestr(archive.read(name).decode("utf-8"))


def versions() -> dict[str, str]:
    """The tools whose releases decide what an environment ends up with."""
    return dict(_versions())


@functools.cache
def _versions() -> tuple[tuple[str, str], ...]:
    # Once per run: every cell's fingerprint asks, and each lookup reads metadata files.
    from pytest_pipeline import installed

    found = []
    for name in ("tox", "tox-uv", "tox-uv-bare", "virtualenv", "uv"):
        version = installed.version(name)
        if version is not None:
            found.append((name, version))
    return tuple(found)


def resolution_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The variables tox keeps in its install cache (they change what resolves)."""
    prefixes = ("PIP_", "UV_")
    return {key: value for key, value in sorted(environ.items()) if key.startswith(prefixes)}


def bin_dirs(env: ToxEnv) -> list[Path]:
    """What tox puts first on ``PATH`` for this environment (tox-uv adds uv's folder)."""
    folders = [env.env_dir / ("Scripts" if os.name == "nt" else "bin")]
    uv = uv_binary(env) if env.runner == UV_RUNNER else None
    if uv is not None:
        folders.append(Path(uv).parent)
    return folders
