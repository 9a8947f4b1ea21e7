"""``[tool.pytest-pipeline.run]`` and ``[tool.pytest-pipeline.matrix]``, checked.

Every key of the ``run`` table is declared here, including the ones only the runner
reads (``parallel``, ``fail-fast``), so an unknown key or a wrong type is reported in
one line wherever it is read. To add a ``run`` key: add a field to
:class:`RunSettings` and read it in :func:`run_settings`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, cast

from pytest_pipeline.config import PipelineConfig, Table, parse_duration
from pytest_pipeline.errors import ConfigError

ToolChoice = Literal["auto", "tox", "nox"]
TOOLS: tuple[ToolChoice, ...] = ("auto", "tox", "nox")
RESOLUTIONS = ("highest", "lowest", "lowest-direct")
"""uv's ``--resolution`` strategies; ``lowest-direct`` tests the declared minimums."""


@dataclass(frozen=True)
class RunSettings:
    tool: ToolChoice = "auto"
    cells: tuple[str, ...] = ()
    """Default selection (names or globs) when the command line names none."""
    labels: tuple[str, ...] = ()
    """Default tox labels / nox tags when the command line names none."""
    include: tuple[str, ...] = ()
    """Environments (names or globs) to run even though they don't run pytest."""
    exclude: tuple[str, ...] = ()
    """Environments (names or globs) never to run."""
    parallel: int | Literal["auto"] = "auto"
    """How many cells at once (runner); ``auto`` is the number of cores."""
    fail_fast: bool = False
    """Stop scheduling at the first failing stage (runner)."""
    backend: Literal["auto", "tox"] = "auto"
    """Runner: ``auto`` materialises tox environments itself (falling back to tox per
    cell when it cannot reproduce one); ``tox`` runs every tox cell through tox."""
    installer: Literal["auto", "uv", "pip"] = "auto"
    """Runner: how it creates environments; ``auto`` is uv when found, else virtualenv + pip."""
    timeout: float | None = None
    """Runner: seconds a cell may take (waiting for a test slot aside); None: no limit."""
    run_timeout: float | None = None
    """Runner: seconds the whole run may take; None: no limit."""


def run_settings(config: PipelineConfig) -> RunSettings:
    table = config.table("run")
    tool: str = table.get("tool", str, "auto")
    if tool not in TOOLS:
        raise ConfigError(f"{table.where('tool')}: {tool!r} is not one of {', '.join(TOOLS)}")
    parallel: object = table.get("parallel", (int, str), cast(object, "auto"))
    if isinstance(parallel, str) and parallel != "auto":
        raise ConfigError(
            f"{table.where('parallel')}: expected 'auto' or a number of cells, got {parallel!r}"
        )
    if isinstance(parallel, int) and parallel < 1:
        raise ConfigError(f"{table.where('parallel')}: must be at least 1 (or 'auto'), got {parallel}")
    settings = RunSettings(
        tool=TOOLS[TOOLS.index(tool)],
        cells=_patterns(table, "cells"),
        labels=_patterns(table, "labels"),
        include=_patterns(table, "include"),
        exclude=_patterns(table, "exclude"),
        parallel=cast("int | Literal['auto']", parallel),
        fail_fast=table.get("fail-fast", bool, False),
        backend=cast("Literal['auto', 'tox']", _choice(table, "backend", ("auto", "tox"))),
        installer=cast("Literal['auto', 'uv', 'pip']", _choice(table, "installer", ("auto", "uv", "pip"))),
        timeout=_time_limit(table, "timeout"),
        run_timeout=_time_limit(table, "run-timeout"),
    )
    table.done()
    return settings


def time_limit(value: object, where: str) -> float | None:
    """A time limit: a duration (``"10m"``, ``90``); 0 means none. ``where`` names the key
    or option in the error."""
    return parse_duration(value, where) or None  # finite and not negative: parse_duration checks


def _time_limit(table: Table, key: str) -> float | None:
    value: object = table.get(key, (float, str), None)
    return None if value is None else time_limit(value, table.where(key))


def _choice(table: Table, key: str, choices: tuple[str, ...]) -> str:
    value: str = table.get(key, str, choices[0])
    if value not in choices:
        raise ConfigError(f"{table.where(key)}: {value!r} is not one of {', '.join(choices)}")
    return value


def _patterns(table: Table, key: str) -> tuple[str, ...]:
    values = table.get_str_list(key)
    for value in values:
        if not value.strip():
            raise ConfigError(f"{table.where(key)}: an empty name; remove it")
    return tuple(value.strip() for value in values)


# --------------------------------------------------------------------------- matrix

# PEP 508 project names (packaging's own rule).
_PROJECT_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_OPERATOR = re.compile(r"^\s*(===|==|~=|!=|>=|<=|>|<|@)")
RESERVED_MATRIX_KEYS = ("resolution", "cells")


@dataclass(frozen=True)
class AxisValue:
    value: str
    """As written (``23.2``, ``>=23,<24``)."""
    requirement: str
    """The pin it adds (``attrs==23.2.*``)."""
    label: str
    """Safe for a cell name (``attrs23.2``, ``attrs-ge23-lt24``)."""


@dataclass(frozen=True)
class Axis:
    name: str
    values: tuple[AxisValue, ...]


@dataclass(frozen=True)
class MatrixSettings:
    axes: tuple[Axis, ...] = ()
    resolution: tuple[str, ...] = ()
    cells: tuple[str, ...] = ()
    """Globs of environments the axes multiply; empty means all of them."""

    @property
    def empty(self) -> bool:
        return not self.axes and not self.resolution


def matrix_settings(config: PipelineConfig) -> MatrixSettings:
    table = config.table("matrix")
    resolution = table.get_str_list("resolution")
    for value in resolution:
        if value not in RESOLUTIONS:
            raise ConfigError(
                f"{table.where('resolution')}: {value!r} is not a uv resolution; use {', '.join(RESOLUTIONS)}"
            )
    _no_duplicates(table, "resolution", resolution)
    cells = _patterns(table, "cells")
    axes = []
    for key in table:
        if key in RESERVED_MATRIX_KEYS:
            continue
        axes.append(_axis(table, key))
    table.done()
    return MatrixSettings(axes=tuple(axes), resolution=resolution, cells=cells)


def _axis(table: Table, key: str) -> Axis:
    where = table.where(key)
    if not _PROJECT_NAME.match(key):
        raise ConfigError(
            f"{where}: {key!r} is not a package name; an axis is named after the package it pins"
        )
    raw = table.get(key, list, [])
    if not raw:
        raise ConfigError(f'{where}: give at least one version, e.g. {key} = ["1.0", "2.0"]')
    values: list[AxisValue] = []
    for item in raw:
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(
                f'{where}: {item!r} is not a version string; quote versions ("24.10", not 24.10)'
            )
        values.append(axis_value(key, item.strip(), where))
    _no_duplicates(table, key, [value.value for value in values])
    return Axis(key, tuple(values))


def axis_value(name: str, value: str, where: str) -> AxisValue:
    """``("attrs", "23.2")`` -> ``attrs==23.2.*``; a value with an operator is used verbatim."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.version import InvalidVersion, Version

    if _OPERATOR.match(value):
        text = f"{name} {value}" if value.startswith("@") else f"{name}{value}"
    else:
        try:
            Version(value.removesuffix(".*"))
        except InvalidVersion:
            raise ConfigError(
                f"{where}: {value!r} is neither a version nor a specifier with an operator; "
                'write e.g. "23.2" or ">=23,<24"'
            ) from None
        text = f"{name}=={value}" if value.endswith(".*") else f"{name}=={value}.*"
    try:
        Requirement(text)
    except InvalidRequirement as exc:
        raise ConfigError(
            f'{where}: {value!r} does not make a requirement ({exc}); write e.g. "23.2" or ">=23,<24"'
        ) from None
    return AxisValue(value, text, f"{name}{_label(value)}")


_LABEL_OPERATORS = (
    ("===", "-eq"),
    ("==", "-eq"),
    ("~=", "-compat"),
    ("!=", "-ne"),
    (">=", "-ge"),
    ("<=", "-le"),
    (">", "-gt"),
    ("<", "-lt"),
)


def _label(value: str) -> str:
    text = value.replace(" ", "")
    for operator, word in _LABEL_OPERATORS:
        text = text.replace(operator, word)
    text = text.replace(",", "").replace("*", "x")
    return re.sub(r"[^A-Za-z0-9._+-]", "_", text)


def _no_duplicates(table: Table, key: str, values: tuple[str, ...] | list[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ConfigError(f"{table.where(key)}: {value!r} is listed twice; keep one")
        seen.add(value)
