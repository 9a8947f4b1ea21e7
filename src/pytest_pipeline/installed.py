"""What is installed beside this tool, read once per process: distribution versions and
the distributions behind an entry-point group.

A run asks for the same versions (tox, uv, virtualenv, ...) for every cell's
environment key and again for the gate's provenance, and for tox's plugins for the
discovery cache's key and again for each cell's route. Each answer of
:mod:`importlib.metadata` parses a distribution's whole METADATA file (its long
description too) or every distribution's entry points. Nothing installs into this
tool's own environment while a command runs, so the first answer holds for the rest.
"""

from __future__ import annotations

import functools
import importlib.metadata


@functools.cache
def version(name: str) -> str | None:
    """The installed version of distribution ``name``; None when it is not installed."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


@functools.cache
def entry_point_distributions(group: str) -> tuple[tuple[str, str | None, str | None], ...]:
    """``(entry point, distribution, its version)`` for every entry point of ``group``,
    in importlib.metadata's order (None for an entry point of no known distribution)."""
    found = []
    for entry in importlib.metadata.entry_points(group=group):
        dist = entry.dist
        found.append((entry.name, dist.name if dist else None, dist.version if dist else None))
    return tuple(found)
