"""The corpus manifest (``corpus.toml``), which cases a run selects, and the projects' trees:
fetched once into a cache outside the repository (sha256 checked), unpacked fresh per side."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the dev venv and CI run 3.11
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "corpus.toml"
FIXTURES = HERE / "fixtures"

CACHE_VARIABLE = "PIPELINE_CORPUS_CACHE"
"""Where fetched sdists are kept (default: ``$XDG_CACHE_HOME/pytest-pipeline/corpus``)."""
SELECT_VARIABLE = "PIPELINE_CORPUS"
"""Which cases the pytest module runs: ``fast`` (default), ``all``, or project names (a,b)."""
JSON_VARIABLE = "PIPELINE_CORPUS_JSON"
"""Where the pytest run writes the results as JSON at its end (not written when unset)."""

TOOLS = ("tox", "nox")


class CorpusError(Exception):
    """The corpus cannot be used as declared: a bad manifest, a failed fetch, a wrong sha256,
    a tree without the config it is chosen for, a side that could not run at all."""


@dataclass(frozen=True)
class Env:
    """One tox env / nox session of a project, compared on both sides."""

    name: str
    fast: bool = False
    runs_pytest: bool = True
    """False: the env runs no pytest (unittest); there are no counts to compare."""
    note: str = ""
    """What to know when reading its results (tests that fail here under tox too, ...)."""


@dataclass(frozen=True)
class Project:
    name: str
    version: str
    tool: str
    config: str
    """The config file the project is in the corpus for, maybe with a table:
    ``tox.ini``, ``tox.toml``, ``pyproject.toml [tool.tox]``, ``noxfile.py``."""
    envs: tuple[Env, ...]
    sdist: str | None = None
    sha256: str | None = None
    fixture: str | None = None
    """A folder under ``fixtures/`` instead of an sdist."""
    why: str = ""
    left_out: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    """One cell of the comparison: a project and one of its envs."""

    project: Project
    env: Env

    @property
    def id(self) -> str:
        return f"{self.project.name}:{self.env.name}"

    @property
    def slug(self) -> str:
        """The env's name as a file name (``tests-3.12(attrs='24')`` has quotes)."""
        return "".join(char if char.isalnum() or char in "._-" else "_" for char in self.env.name)


def load_manifest(path: Path = MANIFEST) -> tuple[Project, ...]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return tuple(_project(entry) for entry in data["project"])
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as problem:
        raise CorpusError(f"{path}: {type(problem).__name__}: {problem}") from problem


_PROJECT_KEYS = {"name", "version", "sdist", "sha256", "fixture", "tool", "config", "why", "envs", "left_out"}
_ENV_KEYS = {"name", "fast", "pytest", "note"}


def _project(entry: Mapping[str, Any]) -> Project:
    name = entry["name"]
    unknown = set(entry) - _PROJECT_KEYS | {key for env in entry["envs"] for key in set(env) - _ENV_KEYS}
    if unknown:
        raise ValueError(f"project {name}: unknown keys {', '.join(sorted(unknown))}")
    if entry["tool"] not in TOOLS:
        raise ValueError(f"project {name}: tool must be one of {TOOLS}, not {entry['tool']!r}")
    if bool(entry.get("fixture")) == bool(entry.get("sdist")):
        raise ValueError(f"project {name}: give either sdist (with sha256) or fixture")
    if entry.get("sdist") and not entry.get("sha256"):
        raise ValueError(f"project {name}: an sdist needs its sha256")
    envs = tuple(
        Env(env["name"], env.get("fast", False), env.get("pytest", True), env.get("note", ""))
        for env in entry["envs"]
    )
    return Project(
        name=name,
        version=entry["version"],
        tool=entry["tool"],
        config=entry["config"],
        envs=envs,
        sdist=entry.get("sdist"),
        sha256=entry.get("sha256"),
        fixture=entry.get("fixture"),
        why=entry.get("why", ""),
        left_out=dict(entry.get("left_out", {})),
    )


def select(projects: tuple[Project, ...], which: str) -> list[Case]:
    """``fast``: the cases marked fast; ``all``: every case; else a comma list of projects."""
    cases = [Case(project, env) for project in projects for env in project.envs]
    if which == "fast":
        return [case for case in cases if case.env.fast]
    if which == "all":
        return cases
    wanted = {name.strip() for name in which.split(",") if name.strip()}
    unknown = wanted - {project.name for project in projects}
    if unknown:
        known = ", ".join(project.name for project in projects)
        raise CorpusError(f"no project {', '.join(sorted(unknown))} in {MANIFEST.name} (known: {known})")
    return [case for case in cases if case.project.name in wanted]


# --------------------------------------------------------------------------- fetching


def cache_dir() -> Path:
    explicit = os.environ.get(CACHE_VARIABLE)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pytest-pipeline" / "corpus"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(project: Project) -> Path:
    """The project's sdist in the cache, downloaded first when it is not there; CorpusError
    when the download fails or the file is not the pinned one (its sha256 differs)."""
    assert project.sdist
    assert project.sha256
    cached = cache_dir() / project.sdist
    if cached.is_file() and sha256_of(cached) == project.sha256:
        return cached
    cached.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cached.parent, prefix=".download-") as tmp:
        download = _pip_download(project, Path(tmp))
        found = sha256_of(download)
        if found != project.sha256:
            raise CorpusError(
                f"{project.name}: {download.name} has sha256 {found}, the manifest pins {project.sha256}"
            )
        os.replace(download, cached)  # atomic: a concurrent run sees the old file or this one
    return cached


def _pip_download(project: Project, into: Path) -> Path:
    argv = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
    argv += ["--dest", str(into), f"{project.name}=={project.version}"]
    done = subprocess.run(
        argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600, check=False
    )
    download = into / project.sdist if project.sdist else None
    if done.returncode != 0 or download is None or not download.is_file():
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-5:])
        raise CorpusError(
            f"{project.name}: could not fetch {project.sdist} (pip exit {done.returncode}):\n{tail}"
        )
    return download


# --------------------------------------------------------------------------- unpacking


def unpack(project: Project, target: Path) -> Path:
    """A fresh tree of ``project`` at ``target`` (which must not exist yet), checked to ship
    the config it is in the corpus for."""
    if project.fixture:
        shutil.copytree(FIXTURES / project.fixture, target)
    else:
        _extract_sdist(fetch(project), target)
    check_config(project, target)
    return target


def _extract_sdist(sdist: Path, target: Path) -> None:
    with (
        tempfile.TemporaryDirectory(dir=target.parent, prefix=".unpack-") as tmp,
        tarfile.open(sdist) as archive,
    ):
        if hasattr(tarfile, "data_filter"):
            archive.extractall(tmp, filter="data")
        else:  # pragma: no cover - Pythons before the 2023 security releases
            archive.extractall(tmp)  # a pinned, sha256-checked sdist
        tops = list(Path(tmp).iterdir())
        if len(tops) != 1 or not tops[0].is_dir():
            raise CorpusError(f"{sdist.name}: expected one top folder, found {[top.name for top in tops]}")
        os.replace(tops[0], target)


def check_config(project: Project, tree: Path) -> None:
    """CorpusError unless ``tree`` has ``project.config`` (and its table, if one is named)."""
    file_name, _, table = project.config.partition(" ")
    path = tree / file_name
    if not path.is_file():
        raise CorpusError(f"{project.name} {project.version}: the tree ships no {file_name}")
    if table:
        keys = table.strip("[]").split(".")
        found: Any = tomllib.loads(path.read_text(encoding="utf-8"))
        for key in keys:
            if not isinstance(found, dict) or key not in found:
                raise CorpusError(f"{project.name} {project.version}: {file_name} has no {table}")
            found = found[key]
