"""Which stages run in which cell: ``[tool.pytest-pipeline.stage.<name>] cells = [...]``.

A stage without ``cells`` runs in every test cell; with it, only in cells that a
pattern names (cell name, tox environment or nox session, glob allowed), e.g. smoke
only on the newest interpreter with ``cells = ["py313*"]``. A cell that ends up with
no stage is dropped with a warning; a pattern that names no environment at all is
probably a typo and is warned about. Cells that don't run pytest run no stages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from pytest_pipeline.config import PipelineConfig
from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.matrix.select import matches


@dataclass(frozen=True)
class Staged:
    cells: tuple[Cell, ...]
    warnings: tuple[str, ...]


def stages_for(cell: Cell, config: PipelineConfig) -> tuple[str, ...]:
    if not cell.runs_pytest:
        return ()
    return tuple(
        stage.name
        for stage in config.stages
        if not stage.cells or any(matches(cell, pattern) for pattern in stage.cells)
    )


def assign_stages(selected: Sequence[Cell], every_cell: Sequence[Cell], config: PipelineConfig) -> Staged:
    """``every_cell`` (all known cells, selected or not) is what typo warnings look at."""
    warnings: list[str] = []
    where = f"{config.source or 'pyproject.toml'}: [tool.pytest-pipeline.stage."
    for stage in config.stages:
        for pattern in stage.cells:
            if not any(matches(cell, pattern) for cell in every_cell):
                warnings.append(f"{where}{stage.name}] cells: {pattern!r} matches no environment")
    out: list[Cell] = []
    for cell in selected:
        stages = stages_for(cell, config)
        if cell.runs_pytest and not stages:
            warnings.append(
                f"cell {cell.name!r} runs no stage (every stage's `cells` leaves it out); it is not run"
            )
            continue
        out.append(replace(cell, stages=stages))
    return Staged(tuple(out), tuple(warnings))
