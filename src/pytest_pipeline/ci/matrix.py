"""Planned cells -> CI jobs: one job entry per cell, operating systems, shards.

Input is ``plan --format json``'s ``cells`` list (objects with at least ``name``; a
``python`` and an ``os`` are used when present). Everything here is a pure function of
that list, so the same plan gives the same jobs on every machine.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_pipeline.errors import PipelineError

DEFAULT_OS = "ubuntu-latest"
DEFAULT_PYTHON = "3.x"
"""What a job sets up when a cell names no interpreter (tox's ``py``, a bare nox session)."""

SEPARATOR = "@"
"""Between a cell's name and its OS (``py312@windows-latest``): ``plan --os`` names cells
so (:data:`pytest_pipeline.matrix.oscells.SEPARATOR`, the same; a test keeps them equal).
Not imported from there, so that this module stays standard library only."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Job:
    """One CI job of the fan-out: the cell it runs and where."""

    cell: str
    python: str
    os: str
    key: str
    """Unique among the jobs and safe as an artifact, job or folder name."""


def cell_names(cells: Iterable[Mapping[str, Any] | str]) -> list[str]:
    """Names from a plan's cells (objects with ``name``, or plain strings)."""
    names: list[str] = []
    for index, cell in enumerate(cells):
        name = cell if isinstance(cell, str) else cell.get("name")
        if not isinstance(name, str) or not name:
            raise PipelineError(
                f"plan cell #{index + 1} has no 'name'; regenerate it with plan --format json"
            )
        names.append(name)
    return names


def jobs(cells: Sequence[Mapping[str, Any] | str]) -> list[Job]:
    """One :class:`Job` per cell, in plan order, with unique ``key``s."""
    names = cell_names(cells)
    seen: set[str] = set()
    result: list[Job] = []
    for name, cell in zip(names, cells, strict=True):
        data: Mapping[str, Any] = {} if isinstance(cell, str) else cell
        python = data.get("python") or DEFAULT_PYTHON
        os_name = data.get("os") or DEFAULT_OS
        # A cell planned per OS is named CELL@OS (see matrix.oscells); its key spells it
        # CELL-OS. A name without the OS gets it appended, so keys stay unique.
        base = safe_name(name)
        if data.get("os"):
            suffix = f"{SEPARATOR}{os_name}"
            base = safe_name(f"{name.removesuffix(suffix)}-{os_name}")
        key, n = base, 1
        while key.lower() in seen:  # artifact names are case-insensitive on GitHub
            n += 1
            key = f"{base}-{n}"
        seen.add(key.lower())
        result.append(Job(cell=name, python=str(python), os=str(os_name), key=key))
    return result


def safe_name(text: str) -> str:
    """Letters, digits, ``.``, ``_`` and ``-`` only: valid as an artifact name everywhere."""
    cleaned = _UNSAFE.sub("_", text).strip("._-")
    return cleaned or "cell"


# --------------------------------------------------------------------------- --os


def with_os(cells: Sequence[Mapping[str, Any]], systems: Sequence[str]) -> list[dict[str, Any]]:
    """Every cell once per operating system (CI runner label), cells outermost, named
    ``CELL@OS`` as ``plan --os`` names them (:mod:`pytest_pipeline.matrix.oscells`)."""
    if not systems:
        return [dict(cell) for cell in cells]
    unique = list(dict.fromkeys(s.strip() for s in systems if s.strip()))
    if not unique:
        raise PipelineError("--os: give runner labels such as ubuntu-latest,windows-latest,macos-latest")
    names = cell_names(cells)
    return [
        {**cell, "name": f"{name}{SEPARATOR}{system}", "os": system}
        for name, cell in zip(names, cells, strict=True)
        for system in unique
    ]


# --------------------------------------------------------------------------- --shard


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/5"`` -> ``(2, 5)``; 1-based like GitLab's ``CI_NODE_INDEX/CI_NODE_TOTAL``."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise PipelineError(f"--shard {text!r}: write I/N, e.g. --shard 1/4 for the first of four shards")
    index, total = int(match.group(1)), int(match.group(2))
    if total < 1 or not 1 <= index <= total:
        raise PipelineError(
            f"--shard {text!r}: I must be between 1 and N (N >= 1), e.g. --shard 1/{max(total, 1)}"
        )
    return index, total


def shard(
    cells: Sequence[Mapping[str, Any]],
    index: int,
    total: int,
    durations: Mapping[str, float] | None = None,
) -> list[Mapping[str, Any]]:
    """The cells of shard ``index`` (1-based) of ``total``, in plan order.

    Without durations the cells are dealt out in turn (cell i goes to shard i mod N),
    so shard sizes differ by at most one. With durations (from an earlier run) the
    longest cells are placed first, each on the shard with the least work so far
    (greedy longest-processing-time); a cell with no recorded duration counts as the
    mean of the known ones. Ties break on plan position, so every job computes the
    same split.
    """
    if total < 1 or not 1 <= index <= total:
        raise PipelineError(f"--shard {index}/{total}: I must be between 1 and N")
    names = cell_names(cells)
    known = {name: float(durations[name]) for name in names if durations and name in durations}
    if not known:
        chosen = {i for i in range(len(cells)) if i % total == index - 1}
    else:
        fallback = sum(known.values()) / len(known)
        weights = [known.get(name, fallback) for name in names]
        order = sorted(range(len(cells)), key=lambda i: (-weights[i], i))
        loads = [0.0] * total
        owner: dict[int, int] = {}
        for i in order:
            target = min(range(total), key=lambda s: (loads[s], s))
            loads[target] += weights[i]
            owner[i] = target
        chosen = {i for i, s in owner.items() if s == index - 1}
    return [cells[i] for i in sorted(chosen)]


def durations_from_record(data: Any) -> dict[str, float]:
    """Per-cell durations in seconds from an earlier ``gate.json`` or ``run.json``.

    ``run.json`` records each cell's wall time (``cells[].duration``: environment,
    install and tests). ``gate.json`` has no such key (its schema forbids it) but counts
    each cell's test time (``counts.cells[NAME].time``), which is used when the record
    has no wall time for that cell. A cell whose results were reused has no wall time of
    its own (run.json's is the look-up's).
    """
    if not isinstance(data, Mapping):
        return {}
    found: dict[str, float] = {}
    counts = data.get("counts")
    per_cell = counts.get("cells") if isinstance(counts, Mapping) else None
    if isinstance(per_cell, Mapping):
        for name, cell in per_cell.items():
            _keep(found, name, cell.get("time") if isinstance(cell, Mapping) else None)
    cells = data.get("cells")
    if isinstance(cells, list):
        for cell in cells:
            # A reused cell's wall time is the look-up's, not its tests': not a duration.
            if isinstance(cell, Mapping) and not cell.get("reused_from"):
                _keep(found, cell.get("name"), cell.get("duration"))
    return found


def _keep(found: dict[str, float], name: Any, seconds: Any) -> None:
    """``found[name] = seconds`` when both are what a record should hold (a later
    source overrides an earlier one)."""
    if isinstance(name, str) and isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
        found[name] = float(seconds)


def read_durations(path: Path) -> dict[str, float]:
    """:func:`durations_from_record` of a file, with one-line errors naming it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PipelineError(
            f"{path}: cannot be read ({exc.strerror}); pass an earlier gate.json or run.json"
        ) from None
    except ValueError as exc:
        raise PipelineError(f"{path}: is not JSON ({exc}); pass an earlier gate.json or run.json") from None
    durations = durations_from_record(data)
    if not durations:
        raise PipelineError(
            f"{path}: records no per-cell durations; pass the gate.json or run.json of a full run"
        )
    return durations
