"""``history.jsonl``: one line per gate verdict, so ``status`` can say which commit last passed.

It lives in a run's reports folder beside ``gate.json`` and is appended to each time a
``gate.json`` is written there (``run``, ``rerun``, ``gate``; see :func:`record_verdict`).
``run`` clears only its own outputs, so the history survives every run; deleting the
reports folder forgets it, which is what deleting it means. In CI each job starts from a
fresh checkout: there the CI's own run list is the history.

Appending is one ``write`` of one line to a file opened with ``O_APPEND``: two processes
appending at once each land a whole line. A reader skips lines that are not JSON (a
half-written last line after a crash). The file is kept to :data:`KEEP` entries.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_pipeline import fileio

HISTORY_NAME = "history.jsonl"
HISTORY_VERSION = 1
KEEP = 500
"""Entries kept; older ones are dropped when the file passes :data:`TRIM_AT`."""
TRIM_AT = 2 * KEEP


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _counts(record: Mapping[str, Any]) -> dict[str, Any]:
    counts = record.get("counts")
    total = counts.get("total") if isinstance(counts, Mapping) else None
    return dict(total) if isinstance(total, Mapping) else {}


def entry(record: Mapping[str, Any]) -> dict[str, Any]:
    """The history line of a ``gate.json`` record: enough to answer "when, which commit, what"."""
    git, run, ci = (_mapping(record.get(key)) for key in ("git", "run", "ci"))
    cells = {
        str(cell.get("name")): cell.get("status")
        for cell in record.get("cells") or ()
        if isinstance(cell, Mapping) and cell.get("name")
    }
    data: dict[str, Any] = {
        "version": HISTORY_VERSION,
        "verdict": record.get("verdict"),
        "code": record.get("code"),
        "headline": record.get("headline"),
        "decided": record.get("finished"),
        "run_started": run.get("started"),
        "run_finished": run.get("finished"),
        "commit": git.get("commit"),
        "branch": git.get("branch"),
        "dirty": git.get("dirty"),
        "counts": _counts(record),
        "cells": cells,
    }
    if ci:
        data["ci"] = {key: ci.get(key) for key in ("provider", "run_id", "url") if ci.get(key) is not None}
    return data


def append(path: Path, line: Mapping[str, Any]) -> None:
    """Append ``line`` to the history at ``path`` (created if needed)."""
    text = json.dumps(line, separators=(",", ":"), sort_keys=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        size = os.fstat(fd).st_size
        try:
            if os.write(fd, data) != len(data):  # a full disk takes what fits
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        except OSError:
            # No half a line: the next entry would be glued to it and lost as well.
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
            raise
    finally:
        os.close(fd)
    _trim(path)


def _trim(path: Path) -> None:
    try:
        if path.stat().st_size < 64 * 1024:  # far fewer than TRIM_AT lines: do not read it
            return
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    except OSError:
        return
    if len(lines) > TRIM_AT:
        fileio.write_text_atomic(path, "".join(lines[-KEEP:]))


def record_verdict(gate_file: Path, record: Mapping[str, Any]) -> None:
    """Append the verdict just written to ``gate_file`` to the history beside it, when that
    folder is a run's reports folder (it holds ``run.json``) or already keeps a history.

    A gate file written anywhere else (``gate -o gate.json`` in a checkout, a CI fan-in
    folder of downloaded jobs) gets no history: a new untracked file beside it would make
    the next gate see a dirty tree. Never fails the gate: a history that cannot be written
    is only a shorter history.
    """
    folder = gate_file.parent
    history = folder / HISTORY_NAME
    with contextlib.suppress(OSError, TypeError, ValueError):
        if (folder / "run.json").is_file() or history.exists():
            append(history, entry(record))


def read(path: Path) -> list[dict[str, Any]]:
    """The entries, oldest first; unreadable lines are skipped, a missing file is empty."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    entries = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            value = json.loads(line)
            if isinstance(value, dict) and value.get("version") == HISTORY_VERSION:
                entries.append(value)
    return entries


def last_open(entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The most recent entry whose gate opened."""
    return next(
        (item for item in reversed(entries) if item.get("verdict") == "open" and item.get("code") == 0),
        None,
    )
