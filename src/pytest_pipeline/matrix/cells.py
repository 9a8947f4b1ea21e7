"""A tool's listing -> one cell per environment (before axes, selection and stages)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pytest_pipeline.matrix.factors import normalise_python, nox_factors, parse_tox_env
from pytest_pipeline.matrix.from_tox import UNRESOLVED
from pytest_pipeline.matrix.listing import EnvInfo, Listing
from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.matrix.runs_pytest import Kind, nox_session_kind, tox_env_kind
from pytest_pipeline.matrix.tool_config import nox_config, tox_config

INTERPRETER_NOT_FOUND = ("failed to find interpreter", "could not find python interpreter", "NoInterpreter(")
"""How tox says a setting needed an interpreter that is missing (older tox 4 resolves
``{envpython}`` in ``commands`` by looking the interpreter up; with virtualenv's runner,
``install_command`` and ``env_site_packages_dir`` need it too)."""


@dataclass(frozen=True)
class BaseCells:
    cells: tuple[Cell, ...]
    default: frozenset[str]
    """Environments the tool runs when given no selection."""
    errors: dict[str, dict[str, str]]
    """Environment -> setting -> the tool's error, for settings that matter here."""
    orchestrators: tuple[str, ...]
    """Environments that run pytest-pipeline itself (``tox -e matrix``): never cells."""


def base_cells(listing: Listing, tool_python: str = sys.executable) -> BaseCells:
    cells: list[Cell] = []
    errors: dict[str, dict[str, str]] = {}
    orchestrators: list[str] = []
    for env in listing.envs:
        if listing.tool == "tox":
            cell, env_errors = _tox_cell(env, tool_python)
        else:
            cell, env_errors = _nox_cell(env), {}
        if cell is None:
            orchestrators.append(env.name)
            continue
        if env_errors:
            errors[env.name] = env_errors
        cells.append(cell)
    default = frozenset(env.name for env in listing.envs if env.default)
    return BaseCells(tuple(cells), default, errors, tuple(orchestrators))


def _tox_cell(env: EnvInfo, tool_python: str) -> tuple[Cell | None, dict[str, str]]:
    config = env.config
    errors = dict(env.errors)
    commands_error = errors.get("commands", "")
    # Settings that needed the environment's interpreter, which is missing: the cell is
    # shown as missing later (the interpreter check), never as a broken configuration.
    for key in [key for key, value in errors.items() if any(text in value for text in INTERPRETER_NOT_FOUND)]:
        errors.pop(key)
    if commands_error and any(text in commands_error for text in INTERPRETER_NOT_FOUND):
        # What it runs is unknown, and an environment named after an interpreter is a
        # test environment.
        kind = Kind.PYTEST
    elif commands_error.startswith(UNRESOLVED):
        # tox could not resolve it here (most often: its interpreter is missing, see
        # from_tox._one_by_one). Named after an interpreter, it is a test environment; when
        # that interpreter exists it runs through tox itself, which says what is wrong.
        kind = Kind.PYTEST if parse_tox_env(env.name, []).python else Kind.OTHER
        for key in [key for key, value in errors.items() if value.startswith(UNRESOLVED)]:
            errors.pop(key)
    else:
        kind = tox_env_kind(tox_config(config))
    if kind is Kind.ORCHESTRATOR:
        return None, {}
    deps = [str(dep) for dep in _as_list(config.get("deps"))]
    parsed = parse_tox_env(env.name, deps)
    if "base_python" in config:
        python = _tox_python(_as_list(config.get("base_python")), tool_python)
    else:  # it failed to load: the name still says what tox would ask for
        python = parsed.python
    cell = Cell(
        name=env.name,
        tool="tox",
        env=env.name,
        python=python,
        factors=dict(parsed.factors),
        labels=env.labels,
        runs_pytest=kind is Kind.PYTEST,
        config=dict(config),
    )
    return cell, errors


def _tox_python(base_python: Iterable[Any], tool_python: str) -> str | None:
    """tox's resolved ``base_python``; tox's own interpreter (no factor) becomes None."""
    for spec in base_python:
        text = str(spec)
        if os.path.isabs(text) and _same_file(text, tool_python):
            return None
        return normalise_python(text)
    return None


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a == b


def _nox_cell(env: EnvInfo) -> Cell | None:
    config = env.config
    kind = nox_session_kind(nox_config(config))
    if kind is Kind.ORCHESTRATOR:  # pragma: no cover - nox cannot tell us what a session runs
        return None
    python = config.get("python")
    call_spec = config.get("call_spec") or {}
    return Cell(
        name=env.name,
        tool="nox",
        env=env.name,
        python=_nox_python(python),
        factors=nox_factors(call_spec if isinstance(call_spec, dict) else {}),
        labels=env.labels,
        runs_pytest=kind is Kind.PYTEST,
        config=dict(config),
    )


def _nox_python(python: object) -> str | None:
    """nox's ``python``: a string, None (nox's own interpreter), False (no virtualenv),
    or a number when a noxfile wrote ``python=3.12``."""
    if isinstance(python, bool) or python is None:
        return None
    return normalise_python(str(python))


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]
