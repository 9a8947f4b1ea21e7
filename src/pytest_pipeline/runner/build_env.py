"""A build environment kept between runs, as tox keeps ``.tox/.pkg``.

``uv build`` makes a fresh isolated environment for every build: about half a second
even with uv's cache, paid again whenever the sources change (a test file edited). tox
instead keeps its packaging environment and installs the build system's requirements
into it once. This does the same: the requirements of ``[build-system]`` (PEP 518; setuptools'
legacy default without one) are installed once into
``<user cache>/pytest-pipeline/build-env/<project>/<key>``, and each build calls the
backend's hooks in it as tox's frontend (pyproject-api) and pypa/build do, in one process:
``get_requires_for_build_wheel`` (PEP 517), then ``build_wheel``. When the backend asks
for requirements not installed yet, the process stops before building; they are
installed (and remembered in :data:`READY`) and it is asked again. (``uv build
--no-build-isolation`` would start a process to ask and another to build; it still builds
for ``uv_build``, the backend uv runs itself.)

It lives in the user's cache folder (``$XDG_CACHE_HOME`` or ``~/.cache``; ``%LOCALAPPDATA%``
on Windows), one folder per project path, never in the project: a venv holds symlinks to
its interpreter, and a backend that puts every file git does not ignore into the sdist
(hatchling reads no nested ``.gitignore``) would ship it, which uv then refuses to unpack
("unsafe symbolic-link target"). A project folder that no longer exists loses its
environments the next time one is made.

The key is what decides what is installed there: the interpreter, the
``[build-system]`` table, and the files a backend reads its dynamic requirements from
(``pyproject.toml``, ``setup.cfg``, ``setup.py``). When any of them changes, a new
environment is made (the old one is removed), as tox recreates ``.pkg`` when the build
requirements change. Its wheels hold the same files as an isolated build's, byte for
byte (tests/integration/runner/test_runner_build_env.py). Anything that goes wrong while
making it (no ``[build-system]`` that can be read, an install that fails) gives None: the
build then runs isolated, as before, and the log says why.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from pytest_pipeline.fileio import write_text_atomic
from pytest_pipeline.runner.process import CommandNotFound, run_command, write_log_line

SCHEME = 2
_GONE = ".gone-"
"""A folder of a project gone, renamed so, being deleted (see :func:`_prune_projects_gone`)."""
READY = "ready.json"
PROJECT = "project.txt"
"""In a project's folder: the project's path, so that folders of projects gone are pruned."""
KEY_FILES = ("pyproject.toml", "setup.cfg", "setup.py")
"""Where backends read their dynamic build requirements from."""
LEGACY = {"requires": ["setuptools>=40.8.0"], "build-backend": "setuptools.build_meta:__legacy__"}
"""PEP 517's default when a project has no ``[build-system]``."""

NEEDS = 3
"""Exit code of the build when the backend asked for requirements not installed yet."""
ASKED = "asked.json"
"""In the environment: what the backend asked for when it exited with :data:`NEEDS`."""
_BUILD_SCRIPT = "pytest-pipeline-build.py"
_BUILD = """\
# Written by pytest-pipeline: PEP 517 hooks of the build system in this environment.
# python BUILD_SCRIPT OUT_DIR ASKED_FILE INSTALLED_JSON BACKEND_PATH_JSON BACKEND
import importlib, json, os, sys

# a backend sees only its own backend-path, not this script's folder (which Python puts
# first, unless PYTHONSAFEPATH is set)
if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]
out_dir, asked_file, installed, backend_path, spec = sys.argv[1:6]
sys.path[:0] = json.loads(backend_path)
name, _, attribute = spec.partition(":")
backend = importlib.import_module(name)
for part in filter(None, attribute.split(".")):
    backend = getattr(backend, part)
hook = getattr(backend, "get_requires_for_build_wheel", None)
asked = list(hook({})) if hook else []
if not set(asked) <= set(json.loads(installed)):
    with open(asked_file, "w", encoding="utf-8") as file:
        json.dump(asked, file)
    sys.exit(3)  # NEEDS
backend.build_wheel(out_dir, {}, None)
"""


def cache_home(environ: Mapping[str, str] = os.environ) -> Path:
    """``<user cache>/pytest-pipeline/build-env``."""
    if os.name == "nt":
        base = environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    else:
        base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pytest-pipeline" / "build-env"


def root(project: Path) -> Path:
    """The folder of ``project``'s build environments (one per key, the newest kept)."""
    resolved = str(project.resolve())
    return cache_home() / hashlib.sha256(resolved.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def build_system(sources: Path) -> dict[str, Any] | None:
    """``[build-system]`` of ``sources`` (the legacy default without one); None when
    ``pyproject.toml`` cannot be read or the table is malformed."""
    from pytest_pipeline.config import read_toml

    path = sources / "pyproject.toml"
    try:
        table = read_toml(path).get("build-system") if path.is_file() else None
    except Exception:  # a malformed file: the isolated build says what is wrong with it
        return None
    if table is None:
        return dict(LEGACY)
    requires = table.get("requires")
    backend = table.get("build-backend", LEGACY["build-backend"])
    paths = table.get("backend-path", [])
    if not (isinstance(requires, list) and all(isinstance(r, str) for r in requires)):
        return None
    if not isinstance(backend, str) or not (
        isinstance(paths, list) and all(isinstance(p, str) for p in paths)
    ):
        return None
    return {"requires": requires, "build-backend": backend, "backend-path": paths}


def key(sources: Path, system: Mapping[str, Any], python: str = sys.executable) -> str:
    files = {}
    for name in KEY_FILES:
        with contextlib.suppress(OSError):
            files[name] = hashlib.sha256((sources / name).read_bytes()).hexdigest()
    parts = {"scheme": SCHEME, "python": python, "version": sys.version, "system": system, "files": files}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


def python_of(env: Path) -> Path:
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def kept(
    project: Path,
    sources: Path,
    *,
    uv: str,
    environ: Mapping[str, str],
    log: IO[bytes],
    cancel: threading.Event,
    fresh: bool = False,
) -> Path | None:
    """The kept build environment for ``sources`` (made now if needed, or anew when
    ``fresh``: ``--recreate``), or None."""
    system = build_system(sources)
    if system is None:
        write_log_line(log, "pytest-pipeline: [build-system] not readable here: an isolated build")
        return None
    folder = root(project) / key(sources, system)
    if fresh and folder.is_dir():
        (folder / READY).unlink(missing_ok=True)  # never taken as ready while it goes
        shutil.rmtree(folder, ignore_errors=True)
    if (folder / READY).is_file():
        return folder
    try:
        root(project).mkdir(parents=True, exist_ok=True)
        (root(project) / PROJECT).write_text(str(project.resolve()), encoding="utf-8")
    except OSError as error:  # no writable cache folder: the isolated build needs none
        write_log_line(log, f"pytest-pipeline: {root(project)}: {error.strerror}; an isolated build")
        return None
    _prune_projects_gone(root(project))
    staging = Path(tempfile.mkdtemp(prefix=".new-", dir=root(project)))
    try:
        if not _make(staging, sources, system, uv=uv, environ=environ, log=log, cancel=cancel):
            return None
        (staging / READY).write_text(json.dumps(system) + "\n", encoding="utf-8")
        try:
            staging.rename(folder)  # a venv runs from anywhere through bin/python
        except OSError:
            if not (folder / READY).is_file():  # another run's, half made: not ours to use
                return None
        _remove_others(folder)
        return folder
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _make(
    env: Path,
    sources: Path,
    system: Mapping[str, Any],
    *,
    uv: str,
    environ: Mapping[str, str],
    log: IO[bytes],
    cancel: threading.Event,
) -> bool:
    """Create the venv and install the static requirements (the backend is asked for
    the rest at its first build: :func:`build_command`)."""
    python = str(python_of(env))
    steps: list[list[str]] = [
        [uv, "venv", "--quiet", "--allow-existing", "--python", sys.executable, str(env)]
    ]
    if system["requires"]:
        steps.append([uv, "pip", "install", "--quiet", "--python", python, *system["requires"]])
    return all(_run(argv, sources, environ, log, cancel) for argv in steps)


def build_command(env: Path, out_dir: Path, sources: Path, *, uv: str) -> list[str]:
    """The build of ``sources`` into ``out_dir`` in the kept environment ``env``: to run
    in ``sources``, with :func:`backend_environ`. It exits with :data:`NEEDS` when the
    backend asks for more than is installed (then :func:`install_asked`)."""
    ready = _ready(env)
    python = str(python_of(env))
    if ready["build-backend"] == "uv_build":  # uv builds with its own backend, no Python
        return [
            uv,
            "build",
            "--wheel",
            "--no-build-isolation",
            "--python",
            python,
            "--out-dir",
            str(out_dir),
            str(sources),
        ]
    script = env / _BUILD_SCRIPT
    if not script.is_file() or script.read_text(encoding="utf-8") != _BUILD:
        write_text_atomic(script, _BUILD)
    paths = [str(sources / entry) for entry in ready.get("backend-path", [])]
    return [
        python,
        str(script),
        str(out_dir),
        str(env / ASKED),
        json.dumps(ready.get("asked", [])),
        json.dumps(paths),
        ready["build-backend"],
    ]


def backend_environ(env: Path, environ: Mapping[str, str], *, uv: str) -> dict[str, str]:
    """What ``uv build`` gives a backend: the environment's scripts first on PATH, the
    environment as VIRTUAL_ENV (backends that run tools, like scikit-build's cmake or
    setuptools-scm's git, find them as under uv)."""
    bin_dir = python_of(env).parent
    path = environ.get("PATH")
    return {
        **environ,
        "PATH": f"{bin_dir}{os.pathsep}{path}" if path else str(bin_dir),
        "VIRTUAL_ENV": str(env),
        "PYTHONIOENCODING": "utf-8:backslashreplace",
        "UV": uv,
    }


def install_asked(
    env: Path, sources: Path, *, uv: str, environ: Mapping[str, str], log: IO[bytes], cancel: threading.Event
) -> bool:
    """Install what the backend asked for (:data:`ASKED`) and remember it in :data:`READY`:
    the next build goes ahead."""
    try:
        asked = json.loads((env / ASKED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not (isinstance(asked, list) and asked and all(isinstance(item, str) for item in asked)):
        return False
    argv = [uv, "pip", "install", "--quiet", "--python", str(python_of(env)), *asked]
    if not _run(argv, sources, environ, log, cancel):
        return False
    ready = _ready(env)
    write_text_atomic(
        env / READY, json.dumps({**ready, "asked": sorted({*ready.get("asked", []), *asked})}) + "\n"
    )
    return True


def _ready(env: Path) -> dict[str, Any]:
    ready: dict[str, Any] = json.loads((env / READY).read_text(encoding="utf-8"))
    return ready


def _run(
    argv: list[str], cwd: Path, environ: Mapping[str, str], log: IO[bytes], cancel: threading.Event
) -> bool:
    try:
        result = run_command(argv, cwd=cwd, env=environ, log=log, cancel=cancel)
    except CommandNotFound:
        return False
    return result.returncode == 0 and not result.cancelled


def _remove_others(current: Path) -> None:
    """Keep the newest environment only: an older one was for requirements that changed."""
    for other in current.parent.iterdir():
        if other != current and other.is_dir() and not other.name.startswith("."):
            shutil.rmtree(other, ignore_errors=True)


def _prune_projects_gone(mine: Path) -> None:
    """Remove the environments of projects whose folder no longer exists (temporary
    checkouts, a CI workspace): the cache holds only projects that may build again.

    Each is renamed out of the way at once and deleted in a thread of its own (a few
    virtual environments take a few tenths of a second, which the build need not wait
    for); the interpreter waits for that thread before it exits, and a deletion cut
    short (a killed run) is finished the next time."""
    doomed: list[Path] = []
    for folder in mine.parent.iterdir():
        if folder == mine or not folder.is_dir():
            continue
        if folder.name.startswith(_GONE):
            doomed.append(folder)
            continue
        with contextlib.suppress(OSError):
            project = Path(folder.joinpath(PROJECT).read_text(encoding="utf-8"))
            if not project.exists():
                trash = folder.with_name(f"{_GONE}{folder.name}")
                folder.rename(trash)
                doomed.append(trash)
    if doomed:
        threading.Thread(target=_delete, args=(doomed,), name="prune-build-envs", daemon=False).start()


def _delete(folders: list[Path]) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
