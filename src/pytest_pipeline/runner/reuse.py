"""Reuse a cell's results when nothing that feeds it changed (a build system's test cache).

A cell is not run again when everything that feeds it is byte for byte what fed an
earlier run of it; that run's results (its record, JUnit file, log and events) are used
instead, and say so everywhere. The inputs, and the rule "when unsure, it is an input":

* this tool (its version and the content of the plugin it puts in cells);
* the built wheel's sha256;
* the project's files: every tracked file, and every untracked file git does not
  ignore, by content (git's object hashes: :func:`project_digest`);
* the cell's environment: every distribution and version installed in it, and its
  interpreter (``pyvenv.cfg``: the base interpreter and its version);
* the cell's configuration as tox resolved it (commands, deps, set_env, ...) and the
  variables its commands get (``pass_env``'s values included; a random ``PYTHONHASHSEED``
  tox would draw aside);
* the stages the cell runs and the arguments after ``--``.

Not inputs (the risk of reuse): what the tests read from outside these — the network,
the clock, files git ignores, variables the configuration does not pass, and the xdist
workers an ``-n auto`` cell is given (``PYTEST_XDIST_AUTO_NUM_WORKERS`` depends on what
runs beside the cell; as an input it would make reuse depend on it). A failing cell
is reused as failing; a cell with a flaky test is never stored; nox cells and cells tox
runs itself are never reused (what they install or run is only known while they run).

The store lives in ``.pytest-pipeline/results/``: one folder per input key, written in
a temporary folder and renamed into place (a torn write is never read; two runs storing
the same key keep the first), read back only when complete and well-formed (anything
else is ignored with a note), and kept under a size limit (the least recently used go
first).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_pipeline import __version__, tool_output
from pytest_pipeline.git import git_output, is_output_path
from pytest_pipeline.run_record import describe_origin

STORE_VERSION = 2
STORE_DIR = "results"
MAX_BYTES = 200 * 1024 * 1024
"""The store's size limit: past it, the least recently used results are removed."""
MAX_ENTRIES = 2000
FILES = ("junit.xml", "log.txt", "events.jsonl")
"""What a stored result keeps of a cell's folder (besides ``result.json``)."""
RESULT = "result.json"
STORABLE = frozenset({"passed", "failed", "no-tests"})
"""Statuses that depend on the inputs alone (crashes, timeouts, interruptions do not)."""


def store_dir(project: Path) -> Path:
    return project / tool_output.OWN_DIR / STORE_DIR


# --------------------------------------------------------------------------- inputs


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def project_digest(project: Path, skip: Sequence[Path] = ()) -> str:
    """The content of the project's files: tracked ones by their index entries, changed
    and untracked-not-ignored ones by ``git hash-object`` of what is on disk; outside
    git, a hash of every file (tool output left out)."""
    listed = git_output(["ls-files", "-s", "-z"], project)
    if listed is None:
        return _walk_digest(project, skip)
    status = git_output(["status", "--porcelain=v1", "-z", "--untracked-files=all"], project) or ""
    changed = sorted(
        {
            entry[3:]
            for entry in status.split("\0")
            if len(entry) > 3 and not (entry.startswith("??") and is_output_path(entry[3:]))
        }
    )
    present = [path for path in changed if (project / path).is_file()]
    hashes: list[str] = []
    if present:
        done = git_output(["hash-object", "--", *present], project)
        hashes = (done or "").split()
    on_disk = dict(zip(present, hashes, strict=False))
    return digest({"index": listed, "changed": {path: on_disk.get(path, "absent") for path in changed}})


def _walk_digest(project: Path, skip: Sequence[Path]) -> str:
    total = hashlib.sha256()
    skipped = {path.resolve() for path in skip}
    for root, dirs, files in os.walk(project):
        top = Path(root) == project
        dirs[:] = sorted(
            name
            for name in dirs
            if not tool_output.is_output_dir(name, top=top) and (Path(root) / name).resolve() not in skipped
        )
        for name in sorted(files):
            path = Path(root) / name
            if tool_output.is_output_file(name):
                continue
            total.update(path.relative_to(project).as_posix().encode() + b"\0")
            with contextlib.suppress(OSError):
                total.update(hashlib.sha256(path.read_bytes()).digest())
    return total.hexdigest()


def installed(env_dir: Path) -> list[str]:
    """``name==version`` of every distribution in the environment, and its ``pyvenv.cfg``."""
    found = []
    for site in sorted(env_dir.glob("lib*/*/site-packages")) + sorted(env_dir.glob("Lib/site-packages")):
        for info in sorted(site.glob("*.dist-info")):
            name, _, version = info.name[: -len(".dist-info")].partition("-")
            found.append(f"{name.lower().replace('_', '-')}=={version}")
    with contextlib.suppress(OSError):
        found.append((env_dir / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace"))
    return found


@dataclass(frozen=True)
class Inputs:
    """Everything that feeds one cell (see the module's docstring)."""

    tool: str
    wheel: str | None
    project: str
    environment: Sequence[str]
    config: Mapping[str, Any]
    variables: Mapping[str, str]
    stages: Sequence[str]
    pytest_args: Sequence[str]

    def parts(self) -> dict[str, str]:
        """A digest per input, by the name a person knows it by. A variable's value is
        kept only as its digest: a later miss can say *which* variable changed, and
        the store holds no secret a configuration passes."""
        parts = {
            "the store's version": str(STORE_VERSION),
            "pytest-pipeline": f"{__version__} {self.tool}",
            "the wheel": self.wheel or "",
            "the project's files": self.project,
            "the installed distributions or interpreter": digest(list(self.environment)),
            "the configuration": digest(dict(self.config)),
            "the stages": digest(list(self.stages)),
            "the arguments after --": digest(list(self.pytest_args)),
        }
        for name, value in self.variables.items():
            parts[f"${name}"] = digest(value)
        return parts

    def key(self) -> str:
        return digest(self.parts())


# --------------------------------------------------------------------------- the store


@dataclass(frozen=True)
class Stored:
    """A result found in the store."""

    folder: Path
    record: Mapping[str, Any]
    """The cell's record (``CellRecord.to_dict()``) as that run wrote it."""
    origin: Mapping[str, Any]
    """Where it came from: ``run`` (id), ``finished`` (time), ``commit``."""

    def describe(self) -> str:
        return describe_origin(self.origin)


def find(project: Path, key: str) -> tuple[Stored | None, str | None]:
    """The stored result for ``key``, or None; and a note when one was there but could
    not be used (damaged, another version)."""
    folder = store_dir(project) / key
    if not folder.is_dir():
        return None, None
    try:
        data = json.loads((folder / RESULT).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("version") != STORE_VERSION:
            return None, f"ignored a stored result of another version ({folder})"
        record, origin = data["record"], data["origin"]
        if (
            not isinstance(record, dict)
            or not isinstance(origin, dict)
            or record.get("status") not in STORABLE
        ):
            raise ValueError("not a result")
        for name in data.get("files", []):
            if name not in FILES or not (folder / name).is_file():
                raise ValueError(f"{name} is missing")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return None, f"ignored a damaged stored result ({folder}: {exc})"
    with contextlib.suppress(OSError):
        os.utime(folder)  # recently used: kept longest
    return Stored(folder, record, origin), None


def save(
    project: Path,
    inputs: Inputs,
    *,
    record: Mapping[str, Any],
    origin: Mapping[str, Any],
    cell_dir: Path,
    max_bytes: int = MAX_BYTES,
) -> bool:
    """Keep a cell's result under ``key``: whether it was stored (a result of a status
    that depends on more than the inputs, or already stored, is not)."""
    if record.get("status") not in STORABLE:
        return False
    root = store_dir(project)
    target = root / inputs.key()
    if target.exists():
        return False
    root.parent.mkdir(parents=True, exist_ok=True)
    tool_output.own_dir(project)
    root.mkdir(exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".store-", dir=root))
    try:
        files = []
        for name in FILES:
            source = cell_dir / name
            if source.is_file():
                shutil.copyfile(source, staging / name)
                files.append(name)
        result = {
            "version": STORE_VERSION,
            "record": dict(record),
            "origin": dict(origin),
            "files": files,
            "inputs": inputs.parts(),
        }
        (staging / RESULT).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        try:
            staging.rename(target)
        except OSError:
            return False  # another run stored it first: theirs is as good
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    prune(root, max_bytes=max_bytes)
    return True


def why_not_reused(project: Path, cell: str, inputs: Inputs, *, look_at: int = 200) -> str | None:
    """Which inputs changed since the cell's most recently used stored result (None when
    the store holds none for it): the line a log needs when a user expected a reuse."""
    parts = inputs.parts()
    for folder, _, _ in reversed(entries(store_dir(project))[-look_at:]):
        try:
            data = json.loads((folder / RESULT).read_text(encoding="utf-8"))
            if data["record"]["name"] != cell or not isinstance(data.get("inputs"), dict):
                continue
            earlier, origin = data["inputs"], data["origin"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        changed = [name for name in {**earlier, **parts} if earlier.get(name) != parts.get(name)]
        return f"since the result stored by run {origin.get('run', '?')}, changed: {', '.join(changed)}"
    return None


def restore(stored: Stored, cell_dir: Path, skip: Sequence[str] = ()) -> None:
    """A stored result's files into the cell's folder of this run."""
    cell_dir.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        if name in skip:
            continue
        source = stored.folder / name
        if source.is_file():
            shutil.copyfile(source, cell_dir / name)


def entries(root: Path) -> list[tuple[Path, int, float]]:
    """(folder, bytes, last used) of every complete stored result, oldest first."""
    found: list[tuple[Path, int, float]] = []
    if not root.is_dir():
        return found
    for folder in root.iterdir():
        if folder.name.startswith(".") or not (folder / RESULT).is_file():
            continue
        with contextlib.suppress(OSError):
            size = sum(path.stat().st_size for path in folder.iterdir())
            found.append((folder, size, folder.stat().st_mtime))
    return sorted(found, key=lambda entry: entry[2])


@dataclass(frozen=True)
class StoreContents:
    """What the store holds, for ``status``: per cell, how many results of each status."""

    path: Path
    entries: int = 0
    size: int = 0
    max_size: int = MAX_BYTES
    cells: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    last_used: float | None = None
    damaged: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "entries": self.entries,
            "bytes": self.size,
            "max_bytes": self.max_size,
            "cells": {name: dict(tally) for name, tally in self.cells.items()},
            "last_used": (
                dt.datetime.fromtimestamp(self.last_used, dt.timezone.utc).isoformat(timespec="seconds")
                if self.last_used is not None
                else None
            ),
            "damaged": self.damaged,
        }


def contents(project: Path) -> StoreContents:
    """Read every stored result's record (a damaged one is counted, not trusted)."""
    root = store_dir(project)
    found = entries(root)
    cells: dict[str, dict[str, int]] = {}
    damaged = 0
    for folder, _, _ in found:
        try:
            record = json.loads((folder / RESULT).read_text(encoding="utf-8"))["record"]
            name, status = str(record["name"]), str(record["status"])
        except (OSError, ValueError, KeyError, TypeError):
            damaged += 1
            continue
        tally = cells.setdefault(name, {})
        tally[status] = tally.get(status, 0) + 1
    return StoreContents(
        path=root,
        entries=len(found),
        size=sum(size for _, size, _ in found),
        cells=dict(sorted(cells.items())),
        last_used=found[-1][2] if found else None,
        damaged=damaged,
    )


def prune(root: Path, *, max_bytes: int = MAX_BYTES, max_entries: int = MAX_ENTRIES) -> int:
    """Remove the least recently used results past the limits, and staging folders a
    killed run left; how many results were removed."""
    for stale in root.glob(".store-*") if root.is_dir() else ():
        with contextlib.suppress(OSError):
            if time.time() - stale.stat().st_mtime > 3600:
                shutil.rmtree(stale, ignore_errors=True)
    found = entries(root)
    total = sum(size for _, size, _ in found)
    removed = 0
    while found and (total > max_bytes or len(found) > max_entries):
        folder, size, _ = found.pop(0)
        shutil.rmtree(folder, ignore_errors=True)
        total -= size
        removed += 1
    return removed


def flaky(junit: Path) -> bool:
    """Whether a cell's JUnit file shows a test that passed only after failing: such a
    result says little about the inputs, so it is never stored."""
    try:
        with junit.open("rb") as handle:
            return any(b"<flakyFailure" in chunk or b"<rerunFailure" in chunk for chunk in _chunks(handle))
    except OSError:
        return False


def _chunks(handle: Any, size: int = 1 << 20) -> Iterable[bytes]:
    previous = b""
    while chunk := handle.read(size):
        yield previous + chunk
        previous = chunk[-32:]
