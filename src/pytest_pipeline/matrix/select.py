"""Which cells run: by name, glob, tox label or nox tag; test environments only by default.

Rules, in order:

1. Start from the command line's ``-e``/``-m`` or, if it names none, from
   ``[tool.pytest-pipeline.run] cells``/``labels``; with neither, from what the tool
   runs by default (tox ``env_list``, nox's default sessions).
2. A pattern is a cell name, a tox environment or nox session (``tests`` selects every
   ``tests-*`` nox session, as nox does) or a glob (``py31*``). Patterns that match no
   cell are an error listing some known cells.
3. Environments that don't run pytest (docs, lint) are left out unless named exactly
   or matched by ``include``; ``exclude`` removes cells last.
4. Every selected cell's name must be usable as a folder name under the reports folder
   (:func:`check_cell_name`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pytest_pipeline import globs
from pytest_pipeline.errors import PipelineError
from pytest_pipeline.matrix.model import Cell

# Names Windows reserves for devices, with or without an extension.
_WINDOWS_DEVICES = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\..*)?$", re.IGNORECASE)
_WINDOWS_FORBIDDEN = set('<>:"|?*')
MAX_NAME = 120


def matches(cell: Cell, pattern: str) -> bool:
    """``pattern`` (name or glob) names the cell, its environment or its nox function."""
    names = [cell.name, cell.env]
    if cell.tool == "nox" and cell.config.get("name"):
        names.append(str(cell.config["name"]))
        names.extend(str(s) for s in cell.config.get("signatures") or [])
    return any(globs.fnmatch(name, pattern) for name in names)


def split_patterns(values: Iterable[str]) -> tuple[str, ...]:
    """``-e py310,py312 -e lint`` -> three patterns (tox's comma convention).

    A comma inside parentheses belongs to a nox session name (``tests(a='1', b='2')``).
    """
    out: list[str] = []
    for value in values:
        depth = 0
        current = ""
        for char in value:
            if char == "(":
                depth += 1
            elif char == ")":
                depth = max(0, depth - 1)
            if char == "," and depth == 0:
                out.append(current.strip())
                current = ""
            else:
                current += char
        out.append(current.strip())
    return tuple(pattern for pattern in out if pattern)


@dataclass(frozen=True)
class Selection:
    cells: tuple[Cell, ...]
    left_out: tuple[str, ...]
    """Cells that were candidates but don't run pytest, so were not selected."""


def select(
    cells: Sequence[Cell],
    *,
    default: Iterable[str],
    patterns: Sequence[str] = (),
    labels: Sequence[str] = (),
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    patterns_from: str = "-e",
    labels_from: str = "-m",
    source: str = "the project",
) -> Selection:
    """``patterns_from``/``labels_from`` name where the patterns came from in errors
    (``-e``, or a config key); ``source`` names the tool's file (``tox.ini``)."""
    chosen: dict[str, Cell] = {}
    left_out: list[str] = []

    def take(cell: Cell, *, explicit: bool) -> None:
        if cell.runs_pytest or explicit:
            chosen.setdefault(cell.name, cell)
        elif cell.name not in left_out:
            left_out.append(cell.name)

    if patterns or labels:
        for pattern in patterns:
            found = [cell for cell in cells if matches(cell, pattern)]
            if not found:
                raise PipelineError(
                    f"{patterns_from} {pattern!r}: no cell of {source} matches it; "
                    f"use a known cell or a glob: {_some(cells)}"
                )
            explicit = not globs.is_fnmatch_glob(pattern)
            if not explicit and not any(cell.runs_pytest for cell in found):
                raise PipelineError(
                    f"{patterns_from} {pattern!r} matches only environments that don't run pytest "
                    f"({_some(found)}); name them exactly or list them in "
                    "[tool.pytest-pipeline.run] include"
                )
            for cell in found:
                take(cell, explicit=explicit)
        for label in labels:
            found = [cell for cell in cells if label in cell.labels]
            if not found:
                known = sorted({label for cell in cells for label in cell.labels})
                raise PipelineError(
                    f"{labels_from} {label!r}: no environment of {source} has this label/tag; "
                    f"use one of: {', '.join(known) or '(there are none)'}"
                )
            for cell in found:
                take(cell, explicit=False)
    else:
        default_envs = set(default)
        for cell in cells:
            if cell.env in default_envs:
                take(cell, explicit=False)

    for pattern in include:
        found = [cell for cell in cells if matches(cell, pattern)]
        if not found:
            raise PipelineError(
                f"[tool.pytest-pipeline.run] include: no environment matches {pattern!r} in {source}; "
                f"known cells: {_some(cells)}"
            )
        # include forces a cell in only among those selected, or when nothing narrowed it
        for cell in found:
            if cell.name in left_out or not (patterns or labels):
                chosen.setdefault(cell.name, cell)
                if cell.name in left_out:
                    left_out.remove(cell.name)

    result = [cell for cell in cells if cell.name in chosen]
    result = [cell for cell in result if not any(matches(cell, pattern) for pattern in exclude)]
    if not result:
        hint = (
            "none of them runs pytest; name one with -e or list it in [tool.pytest-pipeline.run] include"
            if left_out
            else "check -e/-m and [tool.pytest-pipeline.run] exclude"
        )
        raise PipelineError(f"no cell selected from {source}: {hint}")
    for cell in result:
        check_cell_name(cell.name, source)
    check_distinct_folders(result, source)
    return Selection(tuple(result), tuple(left_out))


def check_distinct_folders(cells: Iterable[Cell], source: str = "the project") -> None:
    """Two cells whose names differ only in case would share one reports folder on
    macOS and Windows (case-insensitive file systems)."""
    seen: dict[str, str] = {}
    for cell in cells:
        folded = cell.name.casefold()
        if folded in seen:
            raise PipelineError(
                f"{source}: cells {seen[folded]!r} and {cell.name!r} differ only in case and would "
                "share a reports folder on macOS and Windows; rename or leave out one of them"
            )
        seen[folded] = cell.name


def check_cell_name(name: str, source: str = "the project") -> str:
    """A cell name becomes a folder under the reports folder: it must stay inside it,
    and mean the same folder on Linux, macOS and Windows.

    Allowed: anything printable except ``/ \\ < > : " | ? *``, not starting with ``.``
    (which also rules out ``.`` and ``..``), not ending with a space or ``.``, not a
    Windows device name (``NUL``, ``COM1``), at most 120 characters. Letters, digits,
    ``- _ . + = , ( ) ' @`` and spaces inside, as tox factors and nox session names
    use them, are fine.
    """
    problem = _name_problem(name)
    if problem:
        raise PipelineError(
            f"{source}: cell name {name!r} {problem}, and cell names become folder names under the "
            "reports folder; rename the environment (or leave it out with -e/exclude)"
        )
    return name


def _name_problem(name: str) -> str | None:
    if not name:
        return "is empty"
    if len(name) > MAX_NAME:
        return f"is longer than {MAX_NAME} characters"
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        return "contains a control character"
    if "/" in name or "\\" in name:
        return "contains a path separator"
    if name.startswith("."):
        return "starts with '.'"
    if name.endswith((" ", ".")):
        return "ends with a space or '.'"
    bad = sorted(set(name) & _WINDOWS_FORBIDDEN)
    if bad:
        return f"contains {''.join(bad)!r}"
    if _WINDOWS_DEVICES.match(name):
        return "is a reserved device name on Windows"
    return None


def _some(cells: Sequence[Cell], limit: int = 8) -> str:
    names = list(dict.fromkeys(cell.name for cell in cells))
    shown = ", ".join(names[:limit])
    return f"{shown} (and {len(names) - limit} more)" if len(names) > limit else shown or "(none)"
