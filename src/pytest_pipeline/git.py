"""Asking git, and which of its answers make a working tree dirty.

Below everything that needs it: the build's snapshot (what goes into the wheel) and the
gate's provenance (what publish may trust) judge a tree by the same rules.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from pytest_pipeline import tool_output


def git_output(args: Sequence[str], cwd: Path) -> str | None:
    """stdout of a git command, or None when git is missing or the command fails."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
    except OSError:
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", "surrogateescape")


def is_output_path(path: str, extra: Sequence[str] = ()) -> bool:
    """An untracked path that is build or test output, not source (:mod:`pytest_pipeline.tool_output`).

    Anything else untracked (a new module, a conftest.py) makes the tree dirty: it could
    end up in the built package or change what the tests ran.
    """
    clean = path.rstrip("/")
    parts = [part for part in clean.split("/") if part]
    if any(tool_output.is_output_dir(part, top=index == 0) for index, part in enumerate(parts)):
        return True
    if parts and tool_output.is_output_file(parts[-1]):
        return True
    for item in extra:
        prefix = item.strip("/")
        if prefix and (clean == prefix or clean.startswith(prefix + "/")):
            return True
    return False


def dirty_paths(porcelain: str, extra_output: Sequence[str] = ()) -> list[str]:
    """Paths from ``git status --porcelain=v1 -z`` that make the tree dirty.

    Any change to a tracked file counts. Untracked entries count unless they are build
    or test output (:func:`is_output_path`) or under one of ``extra_output`` (the
    reports folder, the artifacts' folders), given relative to the repository root.
    """
    found: list[str] = []
    entries = porcelain.split("\0")
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if len(entry) < 4:
            continue
        status, path = entry[:2], entry[3:]
        if status[0] in "RC":
            index += 1  # -z puts the rename's source in the next field
        if status == "??" and is_output_path(path, extra_output):
            continue
        if status == "!!":
            continue
        found.append(path)
    return found
