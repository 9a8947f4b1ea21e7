"""Build the package under test once per run; every cell installs that same wheel.

tox rebuilds (or at least reinstalls) the package in every environment; building it
once is both faster and what the gate needs: the sha256 of the one file that was tested.

The build reads a snapshot of the project (:mod:`.snapshot`), never the project folder:
an edit made while it runs cannot get into the wheel, what the build writes (setuptools'
``build/`` and ``*.egg-info``) never lands in the project, and the wheel is cached under
what the snapshot holds (commit, tags, hashes of uncommitted files), not under mtimes.

A cold run starts the build (:class:`EarlyBuild`) while discovery asks tox for the
matrix: the build needs only the project folder, and the two take about as long. Until
the run takes the wheel, the build writes nothing in the project, so a run that stops at
discovery (a tox.ini that does not load) leaves the project as it was.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path
from typing import IO

from pytest_pipeline.errors import PipelineError
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.fileio import copy_atomic, sha256_file
from pytest_pipeline.run_record import Artifact
from pytest_pipeline.runner import build_env, snapshot
from pytest_pipeline.runner.process import CommandNotFound, run_command, write_log_line
from pytest_pipeline.tool_output import OWN_DIR, own_dir


@dataclass(frozen=True)
class Wheel:
    path: Path
    artifact: Artifact
    project: str
    """The distribution name from the wheel's METADATA (``Name:``)."""
    requires: tuple[str, ...]
    """``Requires-Dist`` lines: the environment fingerprint uses them to know whether a
    new build can be reinstalled without touching dependencies."""


def read_wheel(path: Path) -> Wheel:
    """Name and requirements of a built wheel, from its ``*.dist-info/METADATA``."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1]
            if not names:
                raise PipelineError(f"{path}: not a wheel (no .dist-info/METADATA); pass a built .whl file")
            metadata = HeaderParser().parsestr(archive.read(names[0]).decode("utf-8"))
    except (OSError, zipfile.BadZipFile) as exc:
        raise PipelineError(f"{path}: cannot be read as a wheel ({exc}); pass a built .whl file") from None
    return Wheel(
        path=path,
        artifact=Artifact(name=path.name, sha256=sha256_file(path)),
        project=metadata["Name"] or path.name.split("-")[0],
        requires=tuple(metadata.get_all("Requires-Dist") or ()),
    )


def frontend(uv: str | None, project: Path) -> str:
    """The fastest available PEP 517 wheel build: ``uv`` (``uv build``: cached, parallel
    build environments), else ``build`` (pypa/build), else ``pip`` (``pip wheel``)."""
    if uv:
        return "uv"
    return "build" if pypa_build_installed(project) else "pip"


def pypa_build_installed(project: Path) -> bool:
    """pypa/build is installed for this interpreter: its distribution, looked up on
    ``sys.path`` without the current folder and ``project``. ``python -m pytest_pipeline``
    and ``tox -e matrix`` start us with the project first on ``sys.path``, where the
    ``build/`` folder an in-place setuptools build leaves would pass for the module."""
    import importlib.metadata  # only without uv; a run with uv starts its build sooner

    here = {Path.cwd().resolve(), project.resolve()}
    path = [entry for entry in sys.path if entry and _resolved(entry) not in here]
    return any(True for _ in importlib.metadata.distributions(name="build", path=path))


def _resolved(entry: str) -> Path | None:
    try:
        return Path(entry).resolve()
    except (OSError, RuntimeError):
        return None


def build_command(sources: Path, out_dir: Path, uv: str | None, *, project: Path) -> list[str]:
    """The command of :func:`frontend` building ``sources`` into ``out_dir``."""
    chosen = frontend(uv, project)
    if uv and chosen == "uv":
        return [uv, "build", "--wheel", "--out-dir", str(out_dir), str(sources)]
    if chosen == "build":
        return [sys.executable, "-m", "build", "--wheel", "--outdir", str(out_dir), str(sources)]
    return [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(out_dir), str(sources)]


class BuildFailed(PipelineError):
    """The build ran and did not leave one wheel; :func:`build_failure` words it."""

    def __init__(self, project: Path, returncode: int, wheels: int, log: Path) -> None:
        self.project, self.returncode, self.wheels = project, returncode, wheels
        super().__init__(build_failure(project, returncode, wheels, log).message, ExitCode.INCOMPLETE)


def build_failure(project: Path, returncode: int, wheels: int, log: Path) -> PipelineError:
    return PipelineError(
        f"building {project} failed (exit {returncode}, {wheels} wheel(s)); "
        f"see {log}, or pass a prebuilt wheel with --installpkg",
        ExitCode.INCOMPLETE,
    )


class BuildCancelled(Exception):
    """The build was stopped before it finished (the run no longer needs it, or Ctrl-C)."""


def build_wheel(
    sources: Path,
    out_dir: Path,
    *,
    project: Path,
    uv: str | None,
    log: Path,
    cancel: threading.Event | None = None,
    fresh_env: bool = False,
) -> Wheel:
    """Build ``sources`` (a snapshot of ``project``) into a fresh ``out_dir``; the build's
    output is added to ``log``. ``fresh_env`` (``--recreate``): the kept build environment
    is made anew.

    The build runs in its own process group (see :mod:`.process`), so ``cancel`` stops
    it and anything it started. uv runs in ``sources`` (where it finds the project's
    ``uv.toml``); ``python -m build`` and ``pip`` run in ``out_dir``, empty then, so
    Python's ``-m`` puts no folder of the project's first on their ``sys.path``.
    """
    cancel = cancel or threading.Event()
    environ = snapshot.snapshot_environ(os.environ)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as handle:
        if uv and frontend(uv, project) == "uv":
            env = build_env.kept(
                project, sources, uv=uv, environ=environ, log=handle, cancel=cancel, fresh=fresh_env
            )
            if env is not None:
                wheel = _build_kept(
                    env, sources, out_dir, project=project, uv=uv, environ=environ, log=handle, cancel=cancel
                )
                if wheel is not None:
                    return wheel
                write_log_line(handle, f"pytest-pipeline: the build in {env} failed; building isolated")
        argv = build_command(sources, out_dir, uv, project=project)
        cwd = sources if uv else out_dir
        code, wheel = _build(argv, cwd, out_dir, project=project, environ=environ, log=handle, cancel=cancel)
    if wheel is None:
        raise BuildFailed(project, code, len(list(out_dir.glob("*.whl"))), log)
    return wheel


def _build_kept(
    env: Path,
    sources: Path,
    out_dir: Path,
    *,
    project: Path,
    uv: str,
    environ: dict[str, str],
    log: IO[bytes],
    cancel: threading.Event,
) -> Wheel | None:
    """Build in the kept environment (see :mod:`.build_env`); None when it did not."""
    backend_environ = build_env.backend_environ(env, environ, uv=uv)
    for _ in range(2):  # what the backend asks for is installed once, then it is asked again
        try:
            argv = build_env.build_command(env, out_dir, sources, uv=uv)
        except (OSError, ValueError, KeyError):  # a ready.json that cannot be read
            return None
        code, wheel = _build(
            argv, sources, out_dir, project=project, environ=backend_environ, log=log, cancel=cancel
        )
        if code != build_env.NEEDS:
            return wheel
        if not build_env.install_asked(env, sources, uv=uv, environ=environ, log=log, cancel=cancel):
            return None
    return None


def _build(
    argv: list[str],
    cwd: Path,
    out_dir: Path,
    *,
    project: Path,
    environ: dict[str, str],
    log: IO[bytes],
    cancel: threading.Event,
) -> tuple[int, Wheel | None]:
    """Run one build command into a fresh ``out_dir``: its exit code, and the wheel (None
    unless it left exactly one)."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    try:
        result = run_command(argv, cwd=cwd, env=environ, log=log, cancel=cancel)
    except CommandNotFound as missing:
        raise PipelineError(
            f"cannot build {project}: {missing.program} not found; install uv or build, "
            "or pass a prebuilt wheel with --installpkg",
            ExitCode.INCOMPLETE,
        ) from None
    if result.cancelled:
        raise BuildCancelled
    wheels = sorted(out_dir.glob("*.whl"))
    if result.returncode != 0 or len(wheels) != 1:
        return result.returncode, None
    return 0, read_wheel(wheels[0])


CACHE_SCHEME = 3
"""Part of every cache key: a build kept under an older way of keying is never reused."""


def cache_key(sources: snapshot.Snapshot, chosen_frontend: str) -> str:
    """What a cached wheel stands for: the sources' content and the frontend that built it."""
    parts = {"scheme": CACHE_SCHEME, "frontend": chosen_frontend, "sources": sources.identity}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Built:
    """A wheel of the project's sources, and the key it is cached under."""

    wheel: Wheel
    key: str
    reused: bool
    """Copied from the cache: a build of the same sources, by the same frontend."""


def build_or_reuse(
    project: Path,
    out_dir: Path,
    *,
    cache: Path,
    uv: str | None,
    log: Path,
    skip: tuple[Path, ...] = (),
    rebuild: bool = False,
    cancel: threading.Event | None = None,
    built: Callable[[Built], None] | None = None,
) -> Built:
    """The wheel of ``project`` in ``out_dir``: copied from ``cache`` when it holds a build
    of the same sources (:func:`cache_key`), else built now from a snapshot (``rebuild``
    forces a build). The cache is only read here; :func:`keep` stores a build once the
    run uses it. ``skip``: folders in the project that are output (a reports folder).
    ``built`` gets the result before the snapshot is removed (a run waits for the wheel,
    not for the clean-up)."""
    workdir = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX))
    with snapshot.take(project, workdir, skip=skip) as sources:
        chosen = frontend(uv, project)
        key = cache_key(sources, chosen)
        cached = cache / key
        wheels = sorted(cached.glob("*.whl")) if cached.is_dir() and not rebuild else []
        log.parent.mkdir(parents=True, exist_ok=True)
        if len(wheels) == 1:
            wheel = _reuse(
                wheels[0], out_dir, log, f"sources: {sources.description}, as in the build in {cached}"
            )
            result = Built(wheel, key, reused=True)
        else:
            tree = sources.tree()  # may fall back to a copy: the key is then that copy's
            log.write_text(f"sources: {sources.description}, snapshot in {tree}\n", encoding="utf-8")
            wheel = build_wheel(
                tree, out_dir, project=project, uv=uv, log=log, cancel=cancel, fresh_env=rebuild
            )
            result = Built(wheel, cache_key(sources, chosen), reused=False)
        if built is not None:
            built(result)
        return result


def _reuse(cached: Path, out_dir: Path, log: Path, why: str) -> Wheel:
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(cached, out_dir / cached.name)
    log.write_text(f"{why}; reused {cached.name}\n", encoding="utf-8")
    return read_wheel(out_dir / cached.name)


def keep(cache: Path, built: Built) -> None:
    """Make ``built`` the one build in ``cache``: the cache exists to skip rebuilding
    unchanged sources, so only the latest build is worth keeping."""
    if built.reused:
        return
    if cache.is_dir():
        shutil.rmtree(cache, ignore_errors=True)
    cached = cache / built.key
    cached.mkdir(parents=True, exist_ok=True)
    shutil.copy2(built.wheel.path, cached / built.wheel.path.name)


def cache_dir(project: Path) -> Path:
    """Where the last build is kept: in our own folder, so it is known before discovery
    says where tox keeps its environments."""
    return project / OWN_DIR / "build"


STAGING_PREFIX = snapshot.WORKDIR_PREFIX
STALE_STAGING = 24 * 3600.0
"""Seconds after which a staging folder left by a killed run is removed."""


class EarlyBuild:
    """The run's package build, in a thread, into a temporary staging folder of its own.

    It may start before the reports folder is locked (another run may own it), so it
    never writes there: :meth:`wheel` copies the result in once the run holds the
    folder. It starts before discovery, which may still refuse the run, so it writes
    nothing in the project either (staging in the system's temporary folder, the cache
    only read; the kept build environment is in the user's cache, see :mod:`.build_env`)
    until :meth:`wheel` keeps the build in the cache. :meth:`cancel` stops it when the
    plan turns out to need no package, or on Ctrl-C or an error; a build nobody waits
    for is never reported.
    """

    def __init__(
        self,
        project: Path,
        *,
        uv: str | None,
        skip: tuple[Path, ...] = (),
        rebuild: bool = False,
    ) -> None:
        self.project = project
        self.uv = uv
        self.skip = skip
        self.rebuild = rebuild
        self._cancel = threading.Event()
        self._ready = threading.Event()
        """Set once the wheel (or the error) is there."""
        self._thread: threading.Thread | None = None
        self._result: Built | None = None
        self._error: BaseException | None = None
        self._staging: Path | None = None

    def start(self) -> EarlyBuild:
        _prune_staging(Path(tempfile.gettempdir()))
        self._staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX))
        self._thread = threading.Thread(target=self._work, name="package-build", daemon=True)
        self._thread.start()
        return self

    @property
    def log(self) -> Path:
        assert self._staging is not None, "start() first"
        return self._staging / "build.log"

    def _work(self) -> None:
        assert self._staging is not None
        try:
            build_or_reuse(
                self.project,
                self._staging / "dist",
                cache=cache_dir(self.project),
                uv=self.uv,
                log=self.log,
                skip=self.skip,
                rebuild=self.rebuild,
                cancel=self._cancel,
                built=self._take,
            )
        except BaseException as error:  # handed to the thread that waits for it
            self._error = error
        finally:
            self._ready.set()

    def _take(self, built: Built) -> None:
        self._result = built
        self._ready.set()  # the snapshot's removal goes on meanwhile; cancel() waits for it

    def wheel(self, dist: Path, log: Path) -> Wheel:
        """Wait for the build, put the wheel in ``dist`` and its log at ``log``.

        Raises the build's error, naming ``log``; the staging folder is removed either way.
        """
        if self._thread is None:
            self.start()
        assert self._thread is not None
        self._ready.wait()
        try:
            if self.log.is_file():
                log.parent.mkdir(parents=True, exist_ok=True)
                copy_atomic(self.log, log)
            if isinstance(self._error, BuildFailed):
                error = self._error
                raise build_failure(error.project, error.returncode, error.wheels, log) from None
            if self._error is not None:
                raise self._error
            assert self._result is not None
            dist.mkdir(parents=True, exist_ok=True)
            built = self._result.wheel
            target = dist / built.path.name
            copy_atomic(built.path, target)
            with contextlib.suppress(OSError):  # a read-only checkout just doesn't get a cache
                own_dir(self.project)  # its .gitignore first: the cache is never committed
                keep(cache_dir(self.project), self._result)
            return dataclasses.replace(built, path=target)  # same bytes: no second hash
        finally:
            self._remove_staging()

    def cancel(self) -> None:
        """Stop the build if it still runs, wait for it, forget it."""
        self._cancel.set()
        if self._thread is not None:
            self._thread.join()
        self._remove_staging()

    def _remove_staging(self) -> None:
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)


def _prune_staging(base: Path) -> None:
    now = time.time()
    for folder in base.glob(f"{STAGING_PREFIX}*"):
        with contextlib.suppress(OSError):
            if now - folder.stat().st_mtime > STALE_STAGING:
                shutil.rmtree(folder)


def buildable(project: Path) -> bool:
    """Worth starting a build before knowing whether the plan needs one: a PEP 517
    project or a setup.py (a tox project without either sets ``skip_install``)."""
    return (project / "pyproject.toml").is_file() or (project / "setup.py").is_file()
