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
    python_found: bool | None = None
    """Whether ``python`` exists on this machine; None until discovery checked it."""
    python_path: str | None = None
    """The interpreter executable found for ``python`` (also for ``python=None``: the
    orchestrator's own interpreter, which tox and nox use then)."""
    python_version: str | None = None
    """Full version of the interpreter found (``3.12.1``)."""
    os: str | None = None
    """The CI runner label this cell is planned for (``plan --os``, ``run --cell NAME@OS``);
    its ``name`` then ends in ``@OS``, so every OS job of a cell has a name of its own."""

    @property
    def dependency_set(self) -> str:
        """Column label of the grid: the non-interpreter factors, or ``-``.

        A factor without a version (``cov`` in ``py312-cov``) is shown by its name alone.
        """
        return ",".join(f"{key}={value}" if value else key for key, value in self.factors.items()) or "-"

    @property
    def platform(self) -> str | None:
        """tox's ``platform``: a regular expression ``sys.platform`` must match, or None."""
        value = self.config.get("platform") if self.tool == "tox" else None
        return value if isinstance(value, str) and value.strip() else None

    @property
    def ignore_outcome(self) -> bool:
        """tox's ``ignore_outcome = true``: the environment's failures are reported but
        fail nothing (tox only warns), so the gate does not require the cell."""
        return self.tool == "tox" and self.config.get("ignore_outcome") is True

    @property
    def missing(self) -> bool:
        """The cell's interpreter was looked for and is not on this machine."""
        return self.python_found is False


@dataclass(frozen=True)
class Plan:
    """What ``pytest-pipeline run`` would execute: the selected cells and their stages.

    Built by :func:`pytest_pipeline.matrix.discover.discover`; ``plan`` prints it and
    the runner executes it. ``left_out`` names environments that exist but were not
    selected because they do not run pytest (docs, lint), so a report can say so.
    """

    tool: Tool
    tool_version: str
    project_dir: str
    config_file: str
    """The tool's configuration file, relative to ``project_dir`` (``tox.ini``)."""
    stages: tuple[str, ...]
    """All declared stages, in order; each cell runs a subset of them."""
    cells: tuple[Cell, ...]
    left_out: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    from_cache: bool = False
    missing_reasons: Mapping[str, str] = field(default_factory=dict)
    """Interpreter spec (``Cell.python``) -> why it is missing and what to do."""
    off_platform: Mapping[str, str] = field(default_factory=dict)
    """Selected cells left out because their tox ``platform`` does not match (name -> why)."""

    @property
    def missing(self) -> tuple[Cell, ...]:
        return tuple(cell for cell in self.cells if cell.missing)

    def cell(self, name: str) -> Cell:
        for cell in self.cells:
            if cell.name == name:
                return cell
        raise KeyError(name)
