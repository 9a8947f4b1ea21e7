"""Remember what each interpreter said about itself, so a warm run starts none of them.

Every run probes each cell's interpreter (a short subprocess each, 50-100 ms on a
loaded machine). Like virtualenv's py_info cache, an answer is kept per executable
path and trusted while the file it runs is the same: the same resolved path,
modification time and size (``os.stat`` follows symlinks, so a venv's ``python``
counts as the interpreter it links to), and the same probe code. What is not kept:
a failed probe, and the answer of a script (``#!``), which runs another program that
can change without the script changing (asdf and mise shims). An answer whose
``sys.executable`` is gone is probed again.

One file, ``.pytest-pipeline/cache/interpreters.json`` in the project beside the
discovery cache, replaced atomically and only when a probe ran; a file that can't be
read or doesn't hold what it should is ignored (the interpreters are probed again).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_pipeline.fileio import write_json_atomic
from pytest_pipeline.matrix import interpreters
from pytest_pipeline.matrix.interpreters import Probe, ProbeFn
from pytest_pipeline.tool_output import OWN_DIR, own_dir

CACHE_NAME = "interpreters.json"
SCHEMA = 1
_PROBE_CODE_HASH = hashlib.sha256(interpreters.PROBE_CODE.encode()).hexdigest()[:16]


def cache_file(project_dir: Path) -> Path:
    return project_dir / OWN_DIR / "cache" / CACHE_NAME


def _identity(executable: str) -> dict[str, Any] | None:
    """What must not change for a kept answer to hold; None: never keep one (a script,
    or a file that can't be read)."""
    try:
        real = os.path.realpath(executable)
        stat = os.stat(real)
        with open(real, "rb") as handle:
            if handle.read(2) == b"#!":
                return None
    except OSError:
        return None
    return {"realpath": real, "mtime_ns": stat.st_mtime_ns, "size": stat.st_size}


class ProbeCache:
    """The answers kept in ``path``; :meth:`probe` is an :data:`~.interpreters.ProbeFn`."""

    def __init__(
        self, project_dir: Path, entries: dict[str, Any], *, probe_fn: ProbeFn | None = None
    ) -> None:
        self.project_dir = project_dir
        self.path = cache_file(project_dir)
        self._entries = entries
        self._probe_fn = probe_fn or interpreters.probe
        self._changed = False
        self._lock = threading.Lock()  # find_all probes from a few threads

    @classmethod
    def load(cls, project_dir: Path, *, probe_fn: ProbeFn | None = None) -> ProbeCache:
        return cls(project_dir, _read_entries(cache_file(project_dir)), probe_fn=probe_fn)

    def probe(self, executable: str, env: Mapping[str, str]) -> Probe | str:
        identity = _identity(executable)
        if identity is not None:
            with self._lock:
                kept = self._entries.get(executable)
            found = _kept_probe(kept, identity)
            if found is not None:
                return found
        answer = self._probe_fn(executable, env)
        if identity is not None and isinstance(answer, Probe):
            entry = {**identity, "probe": _probe_to_json(answer)}
            with self._lock:
                self._entries[executable] = entry
                self._changed = True
        return answer

    def save(self) -> None:
        """Write the file when a probe ran; entries whose executable is gone are dropped."""
        if not self._changed:
            return
        entries = {path: entry for path, entry in self._entries.items() if os.path.exists(path)}
        try:
            own_dir(self.project_dir)  # its .gitignore keeps the cache out of git status
            write_json_atomic(
                self.path, {"schema": SCHEMA, "probe_code": _PROBE_CODE_HASH, "entries": entries}
            )
        except OSError:
            pass  # a read-only checkout just doesn't get a cache
        self._changed = False


def _read_entries(path: Path) -> dict[str, Any]:
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if (
        not isinstance(data, dict)
        or data.get("schema") != SCHEMA
        or data.get("probe_code") != _PROBE_CODE_HASH
        or not isinstance(data.get("entries"), dict)
    ):
        return {}
    return dict(data["entries"])


def _kept_probe(entry: object, identity: dict[str, Any]) -> Probe | None:
    """The kept answer when it was given by this very file and still holds."""
    if not isinstance(entry, dict) or any(entry.get(name) != value for name, value in identity.items()):
        return None
    found = _probe_from_json(entry.get("probe"))
    if found is None or (found.executable and not os.path.exists(found.executable)):
        return None
    return found


def _probe_to_json(found: Probe) -> dict[str, Any]:
    return {
        "implementation": found.implementation,
        "version": found.version,
        "executable": found.executable,
        "free_threaded": found.free_threaded,
    }


def _probe_from_json(data: object) -> Probe | None:
    if not isinstance(data, dict):
        return None
    text_fields = [data.get(name) for name in ("implementation", "version", "executable")]
    free_threaded = data.get("free_threaded")
    if not all(isinstance(value, str) for value in text_fields) or not isinstance(free_threaded, bool):
        return None
    implementation, version, executable = (str(value) for value in text_fields)
    return Probe(implementation, version, executable, free_threaded)
