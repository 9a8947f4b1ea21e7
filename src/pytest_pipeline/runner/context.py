"""What every cell of a run shares (:class:`RunContext`), and how the scheduler stops one
(:class:`Cancel`)."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.runner import envs, tox_route
from pytest_pipeline.runner.build import Wheel
from pytest_pipeline.runner.inject import Injection, Making
from pytest_pipeline.runner.outputs import Reports
from pytest_pipeline.runner.slots import Slots

if TYPE_CHECKING:
    from pytest_pipeline.runner.ahead import Ahead

Backend = Literal["auto", "tox"]
StopReason = Literal["interrupted", "fail-fast", "timed-out"]


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
class Reuse:
    """The result store's side of a run (see :mod:`.reuse`)."""

    project_digest: str
    """The project's content, computed once per run."""
    origin: Mapping[str, str]
    """What a result stored by this run says of it: ``run`` id, ``commit``."""
    fresh: bool = False
    """``--fresh``: run every cell (their results are still stored)."""


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
    reuse: Reuse | None = None
    """Where results whose inputs did not change come from (None: every cell runs)."""
    durations: Mapping[str, float] = field(default_factory=dict)
    """Each cell's seconds in the previous run: the longest start first (:mod:`.scheduler`)."""
    ahead: Ahead | None = None
    """Environments begun while the package built (:mod:`.ahead`)."""
    injection_making: Making | None = None
    """The injection folder while it is being made (:func:`.inject.prepare_soon`): the
    cells wait for it (:func:`.run.with_wheel`)."""

    def route(self, cell: Cell) -> tox_route.Route:
        return tox_route.route(cell, self.project, backend=self.backend, plugins=self.tox_plugins)


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


def env_lock(folder: Path) -> Path:
    """The lock a run holds while it makes or uses the environment in ``folder``."""
    return folder.with_name(folder.name + ".lock")


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
