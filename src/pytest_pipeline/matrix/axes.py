"""``[tool.pytest-pipeline.matrix]`` axes -> more cells on top of the tool's environments.

``attrs = ["23.2", "24.2"]`` turns each test environment ``py312`` into
``py312+attrs23.2`` and ``py312+attrs24.2``, which run the same tox environment or nox
session with ``attrs==23.2.*`` / ``attrs==24.2.*`` pinned on top; ``resolution =
["highest", "lowest-direct"]`` does the same with uv's resolution strategy. An
environment whose own factors already fix a package (``py312-attrs23``) is not
multiplied along that package's axis: its tox.ini decided, and two pins would clash.
Environments that don't run pytest are never multiplied.

Each variant is an environment of its own: tox's folder for it (``env_dir``, and every
setting tox resolved from it, such as ``{envpython}`` in ``commands``) moves from
``<work>/py312`` to ``<work>/py312+attrs23.2``.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from pytest_pipeline.matrix.factors import normalized_name
from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.matrix.select import matches
from pytest_pipeline.matrix.settings import AxisValue, MatrixSettings


def expand(cells: Sequence[Cell], matrix: MatrixSettings) -> list[Cell]:
    if matrix.empty:
        return list(cells)
    out: list[Cell] = []
    for cell in cells:
        if not cell.runs_pytest or (matrix.cells and not any(matches(cell, p) for p in matrix.cells)):
            out.append(cell)
            continue
        own = {normalized_name(key) for key in cell.factors}
        axes = [axis for axis in matrix.axes if normalized_name(axis.name) not in own]
        resolutions: Sequence[str | None] = matrix.resolution or (None,)
        if not axes and not matrix.resolution:
            out.append(cell)
            continue
        for combo in itertools.product(*(axis.values for axis in axes)):
            for resolution in resolutions:
                out.append(_variant(cell, [axis.name for axis in axes], combo, resolution))
    return out


def _variant(cell: Cell, names: list[str], combo: tuple[AxisValue, ...], resolution: str | None) -> Cell:
    suffix = "".join(f"+{value.label}" for value in combo)
    factors = dict(cell.factors)
    for name, value in zip(names, combo, strict=True):
        factors[name] = value.value
    if resolution is not None:
        suffix += f"+{resolution}"
        factors["resolution"] = resolution
    name = f"{cell.name}{suffix}"
    return replace(
        cell,
        name=name,
        factors=factors,
        pins=(*cell.pins, *(value.requirement for value in combo)),
        resolution=resolution,
        config=own_env_dir(cell.config, name),
    )


def own_env_dir(config: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """``config`` of a tox environment moved to the folder ``name`` beside its own."""
    env_dir = config.get("env_dir")
    if not isinstance(env_dir, str) or not env_dir:
        return config
    new_dir = os.path.join(os.path.dirname(env_dir), name)
    return {key: _moved(value, env_dir, new_dir) for key, value in config.items()}


def _moved(value: Any, old: str, new: str) -> Any:
    """``old`` replaced by ``new`` where it is a whole path or starts one: the folder of
    ``py312`` is not a prefix of ``py3120``'s."""
    if isinstance(value, str):
        return re.sub(re.escape(old) + r"(?=$|[/\\'\" :;,])", lambda _: new, value)
    if isinstance(value, list):
        return [_moved(item, old, new) for item in value]
    if isinstance(value, dict):
        return {key: _moved(item, old, new) for key, item in value.items()}
    return value
