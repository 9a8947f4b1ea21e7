"""Whether any installed distribution may declare an entry-point group, cheaply.

Every ``pytest-pipeline`` command looks for plugins in the ``pytest_pipeline``
entry-point group. pluggy's ``load_setuptools_entrypoints`` asks
:mod:`importlib.metadata` for every distribution's entry points; importing that module
(``email``, ``zipfile``, ``csv`` ...) is most of the cost, and usually no plugin is
installed at all. :func:`may_declare` reads the ``entry_points.txt`` files on
``sys.path`` directly; only when one declares the group (or the environment holds
something it cannot see into) does the caller run pluggy's own loader, so plugins are
found, named and registered exactly as pluggy does it.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable


def may_declare(group: str, paths: Iterable[object] | None = None) -> bool:
    """False only when no distribution on ``paths`` (``sys.path``) declares ``group``."""
    if _other_distribution_finders():
        return True  # distributions we cannot list by hand
    header = re.compile(rf"^\s*\[\s*{re.escape(group)}\s*\]\s*$", re.MULTILINE)
    for entry in sys.path if paths is None else paths:
        if not isinstance(entry, str):
            return True
        root = entry or "."
        if os.path.isfile(root):
            return True  # a zip or egg file: importlib.metadata looks inside it
        for metadata_dir in _metadata_dirs(root):
            if _declares(os.path.join(metadata_dir, "entry_points.txt"), header):
                return True
    return False


def _metadata_dirs(root: str) -> list[str]:
    """``*.dist-info``/``*.egg-info`` below ``root`` and an egg's ``EGG-INFO``, the folders
    importlib.metadata's path finder reads."""
    try:
        with os.scandir(root) as entries:
            names = [entry.name for entry in entries]
    except OSError:
        return []
    found = [os.path.join(root, name) for name in names if name.lower().endswith((".dist-info", ".egg-info"))]
    if root.lower().endswith(".egg") and "EGG-INFO" in names:
        found.append(os.path.join(root, "EGG-INFO"))
    return found


def _declares(path: str, header: re.Pattern[str]) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return False  # no entry points (importlib.metadata reads such a file as absent too)
    return header.search(text) is not None


def _other_distribution_finders() -> bool:
    from importlib.machinery import PathFinder

    return any(
        finder is not PathFinder and callable(getattr(finder, "find_distributions", None))
        for finder in sys.meta_path
    )
