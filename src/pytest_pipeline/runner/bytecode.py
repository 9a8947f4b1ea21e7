"""Compiled bytecode shared between new environments of one interpreter.

A new environment's first pytest compiles every module it imports: pytest's own (about
0.3 s of CPU here), the project's dependencies (far more for a large one), and each new
environment of the matrix compiles them all again. Yet uv installs a package's files as
hard links to one copy in its cache, so the environments of one interpreter hold the
very same files. Bytecode compiled from a file is valid for that same file wherever it
is linked: Python checks a ``.pyc`` against its source's modification time and size (or
a hash of its content), and those are one file's.

So before the cell's commands run in an environment made in this run, :func:`share`
links into it the ``.pyc`` files that sibling environments (ours, in the same folder,
made from the same base interpreter) hold for a source that is the very same file (the
same device and inode), and nothing else. A copied file, another version, another
interpreter: nothing is linked, and Python compiles as it always does. Python replaces
a ``.pyc`` by writing a new file and renaming it, never in place, so a link can never
change the sibling's. tox's own environments are never read nor written.

The cells of one interpreter are spread apart in a run with no recorded durations
(:func:`.scheduler.longest_first`), so that the later ones find the earlier ones'
bytecode.
"""

from __future__ import annotations

import os
from pathlib import Path

from pytest_pipeline.runner.toxenv import site_packages

MAX_DONORS = 3
"""Sibling environments looked into (the most recently changed first): each is a walk
through its ``site-packages``."""
_CACHE = "__pycache__"


def share(env_dir: Path) -> int:
    """Link into ``env_dir`` the bytecode its siblings compiled for the same files; the
    number of files linked (0 when anything stands in the way)."""
    mine = site_packages(env_dir)
    base = base_interpreter(env_dir)
    if mine is None or base is None:
        return 0
    linked = 0
    for donor in _donors(env_dir, base):
        theirs = site_packages(donor)  # the same interpreter: the same layout
        if theirs is not None:
            linked += _link_from(theirs, mine)
    return linked


def base_interpreter(env_dir: Path) -> tuple[str, str] | None:
    """``home`` and version from the environment's ``pyvenv.cfg`` (venv, virtualenv and
    uv all write them): environments with the same are made from the same interpreter."""
    try:
        text = (env_dir / "pyvenv.cfg").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip().lower()] = value.strip()
    home = values.get("home")
    version = values.get("version_info") or values.get("version")
    return (home, version) if home and version else None


def _donors(env_dir: Path, base: tuple[str, str]) -> list[Path]:
    try:
        siblings = [path for path in env_dir.parent.iterdir() if path != env_dir and path.is_dir()]
    except OSError:
        return []
    same = [path for path in siblings if base_interpreter(path) == base]
    same.sort(key=_changed, reverse=True)
    return same[:MAX_DONORS]


def _changed(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _link_from(theirs: Path, mine: Path) -> int:
    linked = 0
    for folder, _dirs, files in os.walk(theirs):
        if os.path.basename(folder) != _CACHE:
            continue
        package = os.path.relpath(os.path.dirname(folder), theirs)
        for name in files:
            if name.endswith(".pyc") and _link_one(theirs, mine, package, name):
                linked += 1
    return linked


def _link_one(theirs: Path, mine: Path, package: str, name: str) -> bool:
    """Link ``package/__pycache__/name`` when its source (``module.py`` for
    ``module.cpython-312.pyc``) is the same file in both, and ours has none yet."""
    source = name.partition(".")[0] + ".py"
    target = os.path.join(mine, package, _CACHE, name)
    try:
        if not os.path.samefile(os.path.join(theirs, package, source), os.path.join(mine, package, source)):
            return False
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.link(os.path.join(theirs, package, _CACHE, name), target)
    except OSError:  # no such source here, one already compiled, a file system without links
        return False
    return True
