"""What every cell of a run shares (:class:`RunContext`), and how the scheduler stops one
(:class:`Cancel`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.runner import envs, tox_route
from pytest_pipeline.runner.build import Wheel
from pytest_pipeline.runner.inject import Injection
from pytest_pipeline.runner.outputs import Reports
from pytest_pipeline.runner.slots import Slots

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
