"""tox's ``platform``: an environment that is not for this platform is left out.

tox skips an environment whose ``platform`` regular expression does not fully match
``sys.platform`` ("skipped environment because platform linux does not match win32")
and its run still succeeds. The orchestrator builds environments itself, so it has to
make the same call: such a cell is left out of the plan, and ``plan`` says why.

A cell planned for a CI runner (``CELL@windows-latest``, see :mod:`.oscells`) is judged
by the platform that runner label stands for, when the label says it; an unknown label
keeps the cell (the job itself decides on its own machine).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence

from pytest_pipeline.errors import PipelineError
from pytest_pipeline.matrix.model import Cell

# CI runner labels by how they start (GitHub's ubuntu-24.04, windows-latest, macos-14;
# Azure's ubuntu-latest, windows-2022, macOS-latest), and the sys.platform they run.
_LABEL_PLATFORMS = (
    ("ubuntu", "linux"),
    ("linux", "linux"),
    ("debian", "linux"),
    ("windows", "win32"),
    ("win", "win32"),
    ("macos", "darwin"),
    ("mac", "darwin"),
    ("osx", "darwin"),
)


def platform_of(os_label: str | None) -> str | None:
    """The ``sys.platform`` a cell runs on: this machine's, or its CI runner label's;
    None for a label that does not say."""
    if os_label is None:
        return sys.platform
    lowered = os_label.lower()
    for prefix, platform in _LABEL_PLATFORMS:
        if lowered.startswith(prefix):
            return platform
    return None


def mismatch(cell: Cell, source: str = "tox.ini") -> str | None:
    """Why ``cell`` is not for its platform (tox's message), or None when it is."""
    pattern = cell.platform
    platform = platform_of(cell.os)
    if pattern is None or platform is None:
        return None
    try:
        matched = re.fullmatch(pattern, platform)
    except re.error as exc:
        raise PipelineError(
            f"{source}: [testenv:{cell.env}] platform {pattern!r} is not a valid regular expression "
            f"({exc}); fix it (tox refuses it too)"
        ) from exc
    return None if matched else f"platform {platform} does not match {pattern}"


def split(cells: Sequence[Cell], source: str = "tox.ini") -> tuple[tuple[Cell, ...], Mapping[str, str]]:
    """The cells for their platform, and the others' names with the reason; an error
    (exit 4) when that leaves none of ``cells``."""
    kept: list[Cell] = []
    off: dict[str, str] = {}
    for cell in cells:
        why = mismatch(cell, source)
        if why is None:
            kept.append(cell)
        else:
            off[cell.name] = why
    if off and not kept:
        raise nothing_left(off)
    return tuple(kept), off


def nothing_left(off: Mapping[str, str]) -> PipelineError:
    """The error when every selected cell is for another platform."""
    name, why = next(iter(off.items()))
    more = f" (and {len(off) - 1} more)" if len(off) > 1 else ""
    return PipelineError(
        f"no selected cell is for this platform: {name}: {why}{more}; run it where its tox "
        "`platform` matches (or plan it for such a CI runner with --os)"
    )
