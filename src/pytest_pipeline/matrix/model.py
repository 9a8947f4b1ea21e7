"""A cell of the matrix: one environment of the project's own tool, with its stages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Tool = Literal["tox", "nox"]


@dataclass(frozen=True)
class Cell:
    """One (interpreter x dependency set) of the matrix.

    ``name`` is unique in a run and safe as a file name (the orchestrator checks it
    cannot escape the reports folder). ``env`` is the tox environment or nox session it
    runs; several cells can share one ``env`` when ``[tool.pytest-pipeline.matrix]``
    adds axes on top of it, and ``pins`` then holds the extra requirements.
    """

    name: str
    tool: Tool
    env: str
    python: str | None = None
    """The interpreter the cell asks for, normalised (``3.12``, ``pypy3.10``), or None."""
    factors: Mapping[str, str] = field(default_factory=dict)
    """Dependency-set axes for drawing the grid, e.g. ``{"django": "5.0"}``."""
    stages: tuple[str, ...] = ()
    """The stages this cell runs, in order."""
    labels: tuple[str, ...] = ()
    """tox labels or nox tags."""
    pins: tuple[str, ...] = ()
    """Extra requirements from matrix axes (``attrs==23.2.*``)."""
    resolution: str | None = None
    """uv resolution strategy from a ``resolution`` axis (``lowest-direct``)."""
    runs_pytest: bool = True
    config: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """What the tool told us about the environment (deps, commands, set_env, ...)."""

    @property
    def dependency_set(self) -> str:
        """Column label of the grid: the non-interpreter factors, or ``-``."""
        return ",".join(f"{key}={value}" for key, value in self.factors.items()) or "-"
