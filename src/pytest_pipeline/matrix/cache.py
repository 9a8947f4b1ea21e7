"""Remember what tox/nox said, so a warm run doesn't pay ~1.5 s for ``tox config``.

The entry is keyed by a hash of everything that can change the answer: the contents
of the files the tools read (``tox.ini``, ``tox.toml``, ``setup.cfg``,
``pyproject.toml``, ``noxfile.py``), the tool's command and version, the installed tox
plugins, the ``TOX_*``/``NOX_*`` environment variables, the project's path and this
package's version. One file per tool under ``.pytest-pipeline/cache/`` in the
project, replaced atomically; a cache that can't be read or written is ignored.
What it cannot see: a noxfile importing another local module, or a tox setting
reading some other environment variable (``{env:X}``) -- use ``--no-cache`` then.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_pipeline import __version__
from pytest_pipeline.fileio import write_json_atomic
from pytest_pipeline.matrix.listing import Listing
from pytest_pipeline.tool_output import OWN_DIR, own_dir

CACHE_DIR = Path(OWN_DIR) / "cache"
CONFIG_FILES = ("tox.ini", "tox.toml", "setup.cfg", "pyproject.toml", "noxfile.py")
ENV_PREFIXES = ("TOX_", "NOX_")
# Set by tox for the commands of an environment (inside ``tox -e matrix``), not options
# that change what ``tox config`` says: keeping them out lets ``tox -e matrix`` and
# ``pytest-pipeline run`` share one cache entry.
ENV_IGNORED = frozenset({"TOX_ENV_NAME", "TOX_ENV_DIR", "TOX_PACKAGE"})
SCHEMA = 1


def cache_file(project_dir: Path, tool: str) -> Path:
    return project_dir / CACHE_DIR / f"discovery-{tool}.json"


def key(
    tool: str, project_dir: Path, command: Sequence[str], version: str, environ: Mapping[str, str]
) -> str:
    digest = hashlib.sha256()

    def add(label: str, value: bytes | str) -> None:
        data = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
        digest.update(f"{label}:{len(data)}:".encode())
        digest.update(data)

    add("schema", str(SCHEMA))
    add("pytest-pipeline", __version__)
    add("tool", tool)
    add("project", str(project_dir.resolve()))
    add("command", "\0".join(command))
    add("version", version)
    for name in CONFIG_FILES:
        path = project_dir / name
        try:
            add(name, path.read_bytes())
        except OSError:
            add(name, "<absent>")
    for name in sorted(environ):
        if name.startswith(ENV_PREFIXES) and name not in ENV_IGNORED:
            add(f"env:{name}", environ[name])
    if tool == "tox":
        add("plugins", _tox_plugins())
    return digest.hexdigest()


def _tox_plugins() -> str:
    """Installed tox plugins can add or change environments (``tox_extend_envs``)."""
    found = []
    for entry in importlib.metadata.entry_points(group="tox"):
        dist = entry.dist
        found.append(f"{entry.name}={dist.name if dist else '?'}@{dist.version if dist else '?'}")
    return "\n".join(sorted(found))


def load(project_dir: Path, tool: str, cache_key: str) -> Listing | None:
    path = cache_file(project_dir, tool)
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("key") != cache_key:
            return None
        return Listing.from_json(data["listing"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(project_dir: Path, tool: str, cache_key: str, listing: Listing) -> None:
    path = cache_file(project_dir, tool)
    try:
        own_dir(project_dir)
        write_json_atomic(path, {"key": cache_key, "listing": listing.to_json()})
    except OSError:
        pass  # a read-only checkout just doesn't get a cache


def clear(project_dir: Path, tool: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(cache_file(project_dir, tool))
