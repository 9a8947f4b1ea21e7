"""How a cell runs, and why: what ``plan`` shows and ``run`` follows.

tox (or nox) is the source of truth for what a cell is. We take a shortcut only where
the differential suite (``tests/realworld``) shows it ends in the same environment and
the same results as the tool itself:

* ``native``: we make the environment the way tox makes it (:mod:`.tox_install`:
  virtualenv or ``uv venv``, then ``deps``, then the package's own requirements, then
  the package, each with tox's resolved install command) and run the commands the way
  tox runs them (:mod:`.tox_commands`). Faster: no tox process, and a warm environment
  whose inputs did not change is used as it is.
* ``tox-env``: ``tox run --notest`` makes the environment (a runner, packaging mode or
  install setting we do not reproduce); the commands run as in ``native``.
* ``tox``: tox does everything (``tox run``): a tox plugin we do not know may change how
  commands run, or ``backend = "tox"`` asks for it.
* ``nox``: ``nox -s SESSION``, as nox runs it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pytest_pipeline import installed
from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.matrix.tool_config import tox_config

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib
from pytest_pipeline.runner.toxenv import UV_RUNNER, VIRTUALENV_RUNNER, ToxEnv, from_config

Kind = Literal["native", "tox-env", "tox", "nox"]

KNOWN_TOX_PLUGINS = frozenset({"tox-uv", "tox-uv-bare", "pytest-pipeline-gate"})
"""Distributions whose tox plugins we know: tox-uv changes only how environments are made
(its runner, reproduced here); ours adds the ``matrix`` environment."""
NATIVE_PACKAGES = frozenset(
    {"sdist", "wheel", "sdist-wheel", "editable", "editable-legacy", "external", "uv", "uv-editable", "skip"}
)
"""Package modes whose install we reproduce: with the run's wheel (``tox --installpkg``)
each one installs that wheel, or nothing for ``skip``."""


@dataclass(frozen=True)
class Route:
    kind: Kind
    why: str


def tox_plugins() -> tuple[str, ...]:
    """Distributions that register tox plugins in this interpreter (tox's entry points)."""
    names = {dist for _, dist, _ in installed.entry_point_distributions("tox") if dist is not None}
    return tuple(sorted(names))


def route(cell: Cell, project: Path, *, backend: str = "auto", plugins: Iterable[str] = ()) -> Route:
    if cell.tool == "nox":
        return Route("nox", "nox runs the session (nox -s)")
    if backend == "tox":
        return Route("tox", "backend = 'tox' is configured")
    unknown = sorted(set(plugins) - KNOWN_TOX_PLUGINS)
    if unknown:
        return Route("tox", f"tox plugin {', '.join(unknown)} may change how environments run")
    if "commands" not in cell.config:
        return Route("tox", "tox did not report the environment's commands")
    env = from_config(cell.env, tox_config(cell.config), project)
    if env.extra_setup_commands:
        return Route("tox", "extra_setup_commands run inside tox's setup")
    blocker = _env_blocker(env)
    if blocker:
        return Route("tox-env", f"{blocker}: tox makes the environment")
    runner = "uv" if env.runner == UV_RUNNER else "virtualenv + pip"
    return Route("native", f"made as tox makes it ({runner}), commands run as tox runs them")


def _env_blocker(env: ToxEnv) -> str | None:
    """The first setting whose install we do not reproduce, or None."""
    if env.runner not in (VIRTUALENV_RUNNER, UV_RUNNER):
        return f"runner = {env.runner}"
    if env.package not in NATIVE_PACKAGES:
        return f"package = {env.package}"
    if env.dependency_groups:
        return "dependency_groups"
    if env.pylock:
        return "pylock"
    if env.constrain_package_deps or env.use_frozen_constraints:
        return "constrain_package_deps"
    if env.virtualenv_spec:
        return "virtualenv_spec"
    if not env.install_command:
        return "tox did not report install_command"
    if env.runner == UV_RUNNER and _uv_workspace_sources(env.tox_root):
        return "[tool.uv.sources] workspace members"
    return None


def _uv_workspace_sources(root: Path) -> bool:
    """tox-uv installs workspace members named in ``[tool.uv.sources]`` editable."""
    try:
        with (root / "pyproject.toml").open("rb") as file:
            data = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError):
        return False
    sources = data.get("tool", {}).get("uv", {}).get("sources", {})
    return isinstance(sources, dict) and any(
        isinstance(value, dict) and value.get("workspace") for value in sources.values()
    )
