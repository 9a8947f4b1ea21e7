"""Remember what tox/nox said, so a warm run doesn't pay ~1.5 s for ``tox config``.

The entry is keyed by a hash of everything that can change the answer: the contents
of the files the tools read (``tox.ini``, ``tox.toml``, ``setup.cfg``,
``pyproject.toml``, ``noxfile.py``, and files a ``set_env`` reads with ``file|``), the
tool's command and version, the installed tox plugins, the environment variables (any
of them may feed a ``{env:X}``; only a few that change with every shell are left out),
the project's path and this package's version. One file per tool under
``.pytest-pipeline/cache/`` in the project, replaced atomically; a cache that can't be
read or written is ignored. What it cannot see: a noxfile importing another local
module, or an INI file that a tox.ini includes -- use ``--no-cache`` then.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_pipeline import __version__, installed
from pytest_pipeline.fileio import write_json_atomic
from pytest_pipeline.matrix.listing import Listing
from pytest_pipeline.tool_output import OWN_DIR, own_dir

CACHE_DIR = Path(OWN_DIR) / "cache"
CONFIG_FILES = ("tox.ini", "tox.toml", "setup.cfg", "pyproject.toml", "noxfile.py")
# Set by tox for the commands of an environment (inside ``tox -e matrix``), or by the
# shell for every prompt: they change nothing tox or nox say, and keeping them out lets
# ``tox -e matrix`` and ``pytest-pipeline run`` (and two shells) share one cache entry.
ENV_IGNORED = frozenset(
    {
        "TOX_ENV_NAME",
        "TOX_ENV_DIR",
        "TOX_WORK_DIR",
        "TOX_PACKAGE",
        "VIRTUAL_ENV",
        "PWD",
        "OLDPWD",
        "SHLVL",
        "_",
        "COLUMNS",
        "LINES",
        "TERM_SESSION_ID",
        "WINDOWID",
        "PYTHONHASHSEED",
        "PYTEST_CURRENT_TEST",
        "PYTEST_XDIST_WORKER",
        "PYTEST_XDIST_TESTRUNUID",
    }
)
_FILE_REFERENCES = re.compile(r"""file\|([^\s"',}\]]+)|file\s*=\s*["']([^"']+)["']""")
SCHEMA = 2
"""2: discovery asks tox with ``--workdir .tox/.pipeline`` and more keys."""


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
    texts = []
    for name in CONFIG_FILES:
        path = project_dir / name
        try:
            data = path.read_bytes()
        except OSError:
            add(name, "<absent>")
            continue
        add(name, data)
        texts.append(data.decode("utf-8", "replace"))
    for reference in sorted(_referenced_files(texts)):
        try:
            add(f"file:{reference}", (project_dir / reference).read_bytes())
        except OSError:
            add(f"file:{reference}", "<absent>")
    for name in sorted(environ):
        if name not in ENV_IGNORED:
            add(f"env:{name}", environ[name])
    if tool == "tox":
        add("plugins", _tox_plugins())
    return digest.hexdigest()


def _referenced_files(texts: Sequence[str]) -> set[str]:
    """Files a tox ``set_env`` reads (``file|.env`` in INI, ``{ file = ".env" }`` in TOML)."""
    found = set()
    for text in texts:
        for match in _FILE_REFERENCES.finditer(text):
            found.add(match.group(1) or match.group(2))
    return found


def _tox_plugins() -> str:
    """Installed tox plugins can add or change environments (``tox_extend_envs``)."""
    found = [
        f"{name}={dist or '?'}@{version or '?'}"
        for name, dist, version in installed.entry_point_distributions("tox")
    ]
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
