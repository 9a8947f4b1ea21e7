"""Whether any installed distribution may declare an entry-point group, told cheaply.

Every command builds its command line with the plugins of the ``pytest_pipeline``
group, and pluggy's ``load_setuptools_entrypoints`` asks :mod:`importlib.metadata`,
whose import alone (``email``, ``zipfile``, ``csv``...) costs more than the rest of the
start-up. Almost always no distribution declares the group: :func:`may_declare` tells
so by reading the ``entry_points.txt`` files the way :mod:`importlib.metadata` finds
them, and the full scan runs only when it says yes (or cannot tell).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence

_METADATA_FOLDERS = (".dist-info", ".egg-info")


def may_declare(
    group: str, path: Sequence[str] | None = None, finders: Iterable[object] | None = None
) -> bool:
    """False only when no distribution on ``path`` (default ``sys.path``) declares ``group``.

    Conservative: True when some entry-point file names the group, or whenever this
    cannot be told without :mod:`importlib.metadata` (a zip or egg on the path, a
    finder of ``finders``, default ``sys.meta_path``, that finds distributions itself).
    """
    if any(_finds_distributions_itself(finder) for finder in (sys.meta_path if finders is None else finders)):
        return True
    return any(_folder_may_declare(entry, group) for entry in (sys.path if path is None else path))


def _finds_distributions_itself(finder: object) -> bool:
    """A meta path finder other than the standard path finder that lists distributions."""
    from importlib.machinery import PathFinder

    return finder is not PathFinder and hasattr(finder, "find_distributions")


def _folder_may_declare(entry: str, group: str) -> bool:
    """Whether the metadata folders directly in ``entry`` (a ``sys.path`` entry) may declare ``group``."""
    root = entry or "."
    if os.path.basename(root).lower().endswith(".egg"):
        return True  # an egg keeps its metadata in EGG-INFO, and may be a zip
    try:
        children = os.listdir(root)
    except NotADirectoryError:
        return True  # a zip file: importlib.metadata reads inside it
    except OSError:
        return False  # missing or unreadable: importlib.metadata finds nothing there either
    return any(
        _file_may_declare(os.path.join(root, child, "entry_points.txt"), group)
        for child in children
        if child.lower().endswith(_METADATA_FOLDERS)
    )


def _file_may_declare(entry_points_file: str, group: str) -> bool:
    """Whether an ``entry_points.txt`` has a section header naming ``group``.

    importlib.metadata reads a stripped line ``[...]`` as a section header; any such
    line that contains the group's name counts, so nothing it would load is missed.
    """
    try:
        with open(entry_points_file, encoding="utf-8") as handle:
            text = handle.read()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError):
        return False  # importlib.metadata skips these files the same way
    except (OSError, UnicodeDecodeError):
        return True  # let importlib.metadata meet (and report) what this cannot read
    if group not in text:
        return False
    return any(
        line.startswith("[") and line.endswith("]") and group in line
        for line in map(str.strip, text.splitlines())
    )
