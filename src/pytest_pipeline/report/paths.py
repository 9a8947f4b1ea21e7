"""Paths a reports folder's files name: kept inside the folder, shown relative to it.

A ``run.json`` may come from a pull request's build: a cell's ``junit`` or ``log`` path
that would lead out of the folder (``../../etc/passwd``) is refused, never opened.
"""

from __future__ import annotations

from pathlib import Path


def shown(path: Path, root: Path) -> str:
    """``path`` as the report names it: relative to ``root`` when it is below it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def inside(root: Path, relative: str) -> Path | None:
    """A path from ``run.json`` resolved under ``root``; ``None`` when it would leave it."""
    candidate = (root / relative).resolve()
    try:
        candidate.relative_to(root.resolve())
    except ValueError:
        return None
    return candidate
