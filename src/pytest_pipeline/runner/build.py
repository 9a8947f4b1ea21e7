"""Build the package under test once per run; every cell installs that same wheel.

tox rebuilds (or at least reinstalls) the package in every environment; building it
once is both faster and what the gate needs: the sha256 of the one file that was tested.

A cold run starts the build (:class:`EarlyBuild`) while discovery asks tox for the
matrix: the build needs only the project folder, and the two take about as long. Until
the run takes the wheel, the build writes nothing in the project, so a run that stops at
discovery (a tox.ini that does not load) leaves the project as it was.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

from pytest_pipeline import tool_output
from pytest_pipeline.errors import PipelineError
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.fileio import copy_atomic, sha256_file
from pytest_pipeline.results import Artifact
from pytest_pipeline.runner.process import CommandNotFound, run_command
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


def build_command(project: Path, out_dir: Path, uv: str | None) -> list[str]:
    """The fastest available PEP 517 wheel build: ``uv build`` (cached, parallel build
    environments), else ``python -m build``, else ``pip wheel``."""
    if uv:
        return [uv, "build", "--wheel", "--out-dir", str(out_dir), str(project)]
    if importlib.util.find_spec("build") is not None:
        return [sys.executable, "-m", "build", "--wheel", "--outdir", str(out_dir), str(project)]
    return [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(out_dir), str(project)]


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
    project: Path, out_dir: Path, *, uv: str | None, log: Path, cancel: threading.Event | None = None
) -> Wheel:
    """Build ``project`` into a fresh ``out_dir``; the build's output goes to ``log``.

    The build runs in its own process group (see :mod:`.process`), so ``cancel`` stops
    it and anything it started.
    """
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    argv = build_command(project, out_dir, uv)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as handle:
        try:
            result = run_command(
                argv, cwd=project, env=os.environ, log=handle, cancel=cancel or threading.Event()
            )
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
        raise BuildFailed(project, result.returncode, len(wheels), log)
    return read_wheel(wheels[0])


def source_fingerprint(project: Path, *, skip: tuple[Path, ...] = ()) -> str:
    """A hash of every file that could end up in (or decide) the built package.

    Conservative on purpose: any edit anywhere in the project outside tool output
    (:mod:`pytest_pipeline.tool_output`) means a new build. The git HEAD and tags are included because version
    plugins (setuptools-scm, hatch-vcs) derive the version from them.
    """
    digest = hashlib.sha256()
    skipped = {path.resolve() for path in skip}
    for folder, dirs, files in os.walk(project):
        here = Path(folder)
        top = here == project
        dirs[:] = sorted(
            d
            for d in dirs
            if not tool_output.is_output_dir(d, top=top) and (here / d).resolve() not in skipped
        )
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")) or tool_output.is_output_file(name):
                continue
            path = here / name
            try:
                stat = path.stat()
            except OSError:
                continue
            digest.update(path.relative_to(project).as_posix().encode())
            digest.update(f":{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    git = project / ".git"
    for name in ("HEAD", "packed-refs"):
        with contextlib.suppress(OSError):
            digest.update((git / name).read_bytes())
    with contextlib.suppress(OSError):
        head = (git / "HEAD").read_text(encoding="utf-8").strip()
        if head.startswith("ref: "):
            digest.update((git / head[5:]).read_bytes())
    tags = git / "refs" / "tags"
    if tags.is_dir():
        for tag in sorted(tags.rglob("*")):
            with contextlib.suppress(OSError):
                digest.update(tag.name.encode() + tag.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Built:
    """A wheel of the project's current sources, and the key it is cached under."""

    wheel: Wheel
    key: str
    reused: bool
    """Copied from the cache: the sources had not changed since that build."""


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
) -> Built:
    """The wheel of ``project`` in ``out_dir``: copied from ``cache`` when the sources have
    not changed since the build kept there, else built now (``rebuild`` forces a build).
    The cache is only read here; :func:`keep` stores a build once the run uses it."""
    key = source_fingerprint(project, skip=skip)[:24]
    cached = cache / key
    wheels = sorted(cached.glob("*.whl")) if cached.is_dir() and not rebuild else []
    if len(wheels) == 1:
        out_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(wheels[0], out_dir / wheels[0].name)
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(
            f"sources unchanged since the build in {cached}; reused {wheels[0].name}\n", encoding="utf-8"
        )
        return Built(read_wheel(out_dir / wheels[0].name), key, reused=True)
    return Built(build_wheel(project, out_dir, uv=uv, log=log, cancel=cancel), key, reused=False)


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


STAGING_PREFIX = "pytest-pipeline-build-"
STALE_STAGING = 24 * 3600.0
"""Seconds after which a staging folder left by a killed run is removed."""


class EarlyBuild:
    """The run's package build, in a thread, into a temporary staging folder of its own.

    It may start before the reports folder is locked (another run may own it), so it
    never writes there: :meth:`wheel` copies the result in once the run holds the
    folder. It starts before discovery, which may still refuse the run, so it writes
    nothing in the project either (staging in the system's temporary folder, the cache
    only read) until :meth:`wheel` keeps the build in the cache. :meth:`cancel` stops it
    when the plan turns out to need no package, or on Ctrl-C or an error; a build nobody
    waits for is never reported.
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
            self._result = build_or_reuse(
                self.project,
                self._staging / "dist",
                cache=cache_dir(self.project),
                uv=self.uv,
                log=self.log,
                skip=self.skip,
                rebuild=self.rebuild,
                cancel=self._cancel,
            )
        except BaseException as error:  # handed to the thread that waits for it
            self._error = error

    def wheel(self, dist: Path, log: Path) -> Wheel:
        """Wait for the build, put the wheel in ``dist`` and its log at ``log``.

        Raises the build's error, naming ``log``; the staging folder is removed either way.
        """
        if self._thread is None:
            self.start()
        assert self._thread is not None
        self._thread.join()
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
