"""Cells per operating system: ``py312-attrs24@windows-latest``.

A CI fan-out that runs every cell on several systems (``plan --os``) gives each
(cell, OS) job a name of its own, ``CELL@OS``, so the fan-in gate can name the one OS
job that is missing. The name then flows wherever a cell name goes: every plan format
and plan.json, ``run --cell CELL@OS`` (which runs CELL and records it as ``CELL@OS``:
reports folder, ``PYTEST_PIPELINE_CELL``, JUnit, run.json), and the gate.

``@`` is allowed in file names on every OS and in our cell names (see
:func:`pytest_pipeline.matrix.select.check_cell_name`); CI job keys replace it. The
OS label itself is a CI runner label: letters, digits, ``.``, ``_`` and ``-``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from pytest_pipeline.errors import PipelineError
from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.matrix.select import check_cell_name, check_distinct_folders, matches

SEPARATOR = "@"
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")


def check_label(label: str, where: str) -> str:
    if not _LABEL.match(label):
        raise PipelineError(
            f"{where}: OS label {label!r} must be a CI runner label (letters, digits, '.', '_', '-'), "
            "e.g. ubuntu-latest, windows-latest, macos-14"
        )
    return label


def labels(values: Iterable[str], where: str = "--os") -> tuple[str, ...]:
    """``--os a,b --os c`` -> ``("a", "b", "c")``, each once, each checked."""
    found = [part.strip() for value in values for part in value.split(",")]
    return tuple(dict.fromkeys(check_label(label, where) for label in found if label))


def qualified(name: str, os: str) -> str:
    return f"{name}{SEPARATOR}{os}"


def qualify(cell: Cell, os: str, source: str = "the project") -> Cell:
    if cell.os is not None:
        raise PipelineError(
            f"cell {cell.name!r} is already planned for {cell.os}; give the OS once "
            f"(either --os or -e {cell.name})"
        )
    name = qualified(cell.name, os)
    check_cell_name(name, source)
    return replace(cell, name=name, os=os)


def per_os(cells: Sequence[Cell], systems: Sequence[str]) -> tuple[Cell, ...]:
    """Every cell once per OS, cells outermost (so a cell's OS jobs sit together)."""
    if not systems:
        return tuple(cells)
    return tuple(qualify(cell, os) for cell in cells for os in systems)


@dataclass(frozen=True)
class Patterns:
    """Selection patterns with their ``@OS`` qualifiers taken off."""

    plain: tuple[str, ...] = ()
    on_os: tuple[tuple[str, str], ...] = ()
    """(pattern, OS) for each ``PATTERN@OS``."""

    @property
    def for_selection(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.plain, *(pattern for pattern, _ in self.on_os)]))


def split_patterns(patterns: Sequence[str], cells: Sequence[Cell], where: str = "-e") -> Patterns:
    """``PATTERN@OS`` selects what PATTERN selects, on OS. It stays a plain pattern when
    it names a cell itself (an environment may have ``@`` in its name) or when PATTERN
    names none (so the error names what was typed)."""
    plain: list[str] = []
    on_os: list[tuple[str, str]] = []
    for pattern in patterns:
        base, separator, os = pattern.rpartition(SEPARATOR)
        if (
            not separator
            or not base
            or any(matches(cell, pattern) for cell in cells)
            or not any(matches(cell, base) for cell in cells)
        ):
            plain.append(pattern)
            continue
        on_os.append((base, check_label(os, f"{where} {pattern!r}")))
    return Patterns(tuple(plain), tuple(on_os))


def apply(
    cells: Sequence[Cell], patterns: Patterns, labels: Sequence[str] = (), source: str = "the project"
) -> tuple[Cell, ...]:
    """The selected cells as their patterns asked: ``CELL@OS`` for each OS pattern that
    matches a cell, and the plain cell too when a plain pattern or a label selected it."""
    if not patterns.on_os:
        return tuple(cells)
    out: list[Cell] = []
    for cell in cells:
        systems = dict.fromkeys(os for pattern, os in patterns.on_os if matches(cell, pattern))
        plain = any(matches(cell, pattern) for pattern in patterns.plain) or any(
            label in cell.labels for label in labels
        )
        if plain or not systems:
            out.append(cell)
        out.extend(qualify(cell, os, source) for os in systems)
    check_distinct_folders(out, source)
    return tuple(out)
