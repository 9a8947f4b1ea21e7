"""How many pytest-xdist workers a cell's pytest starts, read from what it will be given.

pytest reads its options in this order, a later ``-n`` winning: the project's ``addopts``
(the first of ``pytest.ini``, ``.pytest.ini``, ``pyproject.toml``, ``tox.ini``,
``setup.cfg`` that is pytest's configuration, as pytest picks it in the project folder),
then ``PYTEST_ADDOPTS`` (the cell's ``set_env``, else the caller's when the cell gets it;
the options after ``--`` on our command line go there too), then the command line (a tox
cell's resolved ``commands``). ``-n auto``/``-n logical`` leave the count to xdist, which
asks ``PYTEST_XDIST_AUTO_NUM_WORKERS`` first: the scheduler sets it (see :mod:`.slots`),
unless the cell's ``set_env`` does. ``-n 0`` and ``-p no:xdist`` mean no workers;
``--maxprocesses`` caps the count. A nox session's commands cannot be seen: there only the
configuration files and ``PYTEST_ADDOPTS`` count.
"""

from __future__ import annotations

import configparser
import fnmatch
import re
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.matrix.runs_pytest import (
    _PYTEST,
    Kind,
    _program,
    _split_chain,
    classify_command,
    split_command,
)

AUTO_VARIABLE = "PYTEST_XDIST_AUTO_NUM_WORKERS"
"""pytest-xdist's own answer to ``-n auto``/``-n logical`` (its default
``pytest_xdist_auto_num_workers`` reads it before counting CPUs)."""

_NO_XDIST = {"no:xdist", "no:xdist.plugin"}
_OPTIONS = {"numprocesses": ("-n", "--numprocesses"), "maxprocesses": ("--maxprocesses",), "plugin": ("-p",)}

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@dataclass(frozen=True)
class Workers:
    """The xdist workers of a cell's pytest."""

    count: int | None
    """``-n N`` (N >= 1); None for ``auto``/``logical``: the scheduler's budget decides."""
    source: str
    """Where the deciding ``-n`` was read (``commands``, ``addopts in pytest.ini``, ...)."""
    cap: int | None = None
    """``--maxprocesses``."""

    @property
    def auto(self) -> bool:
        return self.count is None

    def describe(self) -> str:
        value = "auto" if self.count is None else str(self.count)
        cap = f" --maxprocesses {self.cap}" if self.cap is not None else ""
        return f"-n {value}{cap} ({self.source})"


@dataclass(frozen=True)
class _Options:
    """What one argument list says about xdist."""

    numprocesses: str | None = None
    maxprocesses: int | None = None
    disabled: bool = False


def parse_options(args: Sequence[str]) -> _Options:
    """``-n``/``--numprocesses``, ``--maxprocesses`` and ``-p no:xdist`` in pytest's
    arguments, in every spelling argparse accepts (``-n 4``, ``-n4``, ``-n=4``,
    ``--numprocesses=4``); the last one wins, as in argparse; ``--`` ends the options."""
    found: dict[str, str] = {}
    disabled = False
    index = 0
    while index < len(args) and args[index] != "--":
        used = 1
        for key, names in _OPTIONS.items():
            value, used = _value(args, index, names)
            if value is None:
                continue
            if key == "plugin":
                disabled = disabled or value in _NO_XDIST
            else:
                found[key] = value
            break
        index += used
    cap = found.get("maxprocesses")
    return _Options(found.get("numprocesses"), _int(cap) if cap is not None else None, disabled)


def _value(args: Sequence[str], index: int, names: tuple[str, ...]) -> tuple[str | None, int]:
    """The value of option ``names`` at ``args[index]`` and how many arguments it took."""
    arg = args[index]
    for name in names:
        if arg == name:
            return (args[index + 1], 2) if index + 1 < len(args) else (None, 1)
        if arg.startswith(name + "="):
            return arg[len(name) + 1 :], 1
        if len(name) == 2 and arg.startswith(name) and len(arg) > 2:  # -n4, -pno:xdist
            return arg[2:], 1
    return None, 1


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


# --------------------------------------------------------------------------- where options come from


def addopts(project: Path) -> tuple[list[str], str]:
    """The ``addopts`` of the project's pytest configuration and the file it is in
    (``[]`` and ``""`` when there is none or it cannot be read)."""
    for name in ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg"):
        path = project / name
        if not path.is_file():
            continue
        found = _toml_addopts(path) if name == "pyproject.toml" else _ini_addopts(path)
        if found is not None:
            return found, name
    return [], ""


def _ini_addopts(path: Path) -> list[str] | None:
    """None when the file is not pytest's configuration (pytest.ini always is)."""
    section = {"tox.ini": "pytest", "setup.cfg": "tool:pytest"}.get(path.name, "pytest")
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return None if path.name in ("tox.ini", "setup.cfg") else []
    if not parser.has_section(section):
        return [] if path.name in ("pytest.ini", ".pytest.ini") else None
    return _split(parser.get(section, "addopts", fallback=""))


def _toml_addopts(path: Path) -> list[str] | None:
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError):
        return None
    pytest_table = data.get("tool", {}).get("pytest")
    if not isinstance(pytest_table, dict):
        return None
    legacy = pytest_table.get("ini_options")
    table = legacy if isinstance(legacy, dict) else pytest_table  # pytest 9 reads [tool.pytest] too
    if not isinstance(legacy, dict) and not pytest_table:
        return None
    value: Any = table.get("addopts", "")
    if isinstance(value, list):
        return [str(item) for item in value]
    return _split(str(value))


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def pytest_arguments(command: str) -> list[list[str]]:
    """The arguments each pytest of a resolved tox command gets (``pytest -n 4 tests`` ->
    ``[["-n", "4", "tests"]]``): after ``pytest``/``py.test`` or ``-m pytest``, also behind
    ``python``, ``coverage run``, ``uv run``, ``env`` and ``sh -c "..."``."""
    try:
        words = split_command(command)
    except ValueError:
        words = command.split()
    found: list[list[str]] = []
    for argv in _split_chain(words):
        if classify_command(argv) is not Kind.PYTEST:
            continue
        shell = _shell_text(argv)
        if shell is not None:
            found.extend(pytest_arguments(shell))
            continue
        for index, word in enumerate(argv):
            if _program(word) in _PYTEST:
                found.append(list(argv[index + 1 :]))
                break
            if word == "-m" and index + 1 < len(argv) and argv[index + 1] in ("pytest", "py.test"):
                found.append(list(argv[index + 2 :]))
                break
            if word in ("-mpytest", "-mpy.test"):
                found.append(list(argv[index + 1 :]))
                break
    return found


def _shell_text(argv: Sequence[str]) -> str | None:
    if len(argv) >= 3 and _program(argv[0]) in ("sh", "bash", "zsh", "dash") and argv[1] == "-c":
        return argv[2]
    return None


def _passes(name: str, patterns: Sequence[str]) -> bool:
    """tox's ``pass_env`` match (globs, case-insensitive)."""
    return any(re.match(fnmatch.translate(p), name, re.IGNORECASE) for p in patterns)


def _set_env(cell: Cell) -> Mapping[str, str]:
    value = cell.config.get("set_env") if cell.tool == "tox" else None
    return value if isinstance(value, Mapping) else {}


def _env_addopts(cell: Cell, environ: Mapping[str, str]) -> tuple[list[str], str]:
    """``PYTEST_ADDOPTS`` as the cell's pytest gets it: ``set_env`` over the caller's, which
    a tox cell gets only through ``pass_env`` (a nox session gets the caller's)."""
    set_env = _set_env(cell)
    if "PYTEST_ADDOPTS" in set_env:
        return _split(str(set_env["PYTEST_ADDOPTS"])), "PYTEST_ADDOPTS in set_env"
    given = environ.get("PYTEST_ADDOPTS")
    if not given:
        return [], ""
    pass_env = cell.config.get("pass_env") if cell.tool == "tox" else ["*"]
    if isinstance(pass_env, list) and _passes("PYTEST_ADDOPTS", [str(p) for p in pass_env]):
        return _split(given), "PYTEST_ADDOPTS"
    return [], ""


def _commands(cell: Cell) -> list[list[str]]:
    """Each pytest's arguments in a tox cell's commands; ``[[]]`` when none is visible
    (nox, or a script that runs pytest): the configuration alone then counts."""
    if cell.tool != "tox":
        return [[]]
    found = [args for command in cell.config.get("commands") or () for args in pytest_arguments(str(command))]
    return found or [[]]


def cell_workers(
    cell: Cell,
    project_addopts: tuple[list[str], str],
    environ: Mapping[str, str],
    pytest_args: Sequence[str] = (),
) -> Workers | None:
    """The xdist workers of ``cell``'s pytest, the most of its pytest commands; None when
    it runs without xdist. ``project_addopts``: :func:`addopts` of the project."""
    ini, ini_file = project_addopts
    env_args, env_source = _env_addopts(cell, environ)
    layers = [
        (ini, f"addopts in {ini_file}"),
        ([*env_args, *pytest_args], env_source or "options after --"),
    ]
    best: Workers | None = None
    for command in _commands(cell):
        found = _workers([*layers, (command, "commands")], _set_env(cell))
        if found is not None and (best is None or _more(found, best)):
            best = found
    return best


def _workers(layers: Sequence[tuple[list[str], str]], set_env: Mapping[str, str]) -> Workers | None:
    value: str | None = None
    source = ""
    cap: int | None = None
    disabled = False
    for args, where in layers:
        options = parse_options(args)
        if options.numprocesses is not None:
            value, source = options.numprocesses, where
        cap = options.maxprocesses if options.maxprocesses is not None else cap
        disabled = disabled or options.disabled
    if value is None or disabled:
        return None
    if value in ("auto", "logical"):
        pinned = _int(str(set_env.get(AUTO_VARIABLE, "")))
        if pinned is not None and pinned > 0:  # the project chose the count itself
            return Workers(_capped(pinned, cap), f"{source}, {AUTO_VARIABLE}={pinned} in set_env", cap)
        return Workers(None, source, cap)
    count = _int(value)
    if count is None or count < 1:
        return None  # -n 0 runs in-process; a bad value makes pytest fail, alone
    return Workers(_capped(count, cap), source, cap)


def _capped(count: int, cap: int | None) -> int:
    return min(count, cap) if cap is not None and cap > 0 else count


def _more(one: Workers, other: Workers) -> bool:
    """Whether ``one`` needs more slots than ``other`` (auto counts as the most)."""
    if one.count is None:
        return other.count is not None
    return other.count is not None and one.count > other.count
