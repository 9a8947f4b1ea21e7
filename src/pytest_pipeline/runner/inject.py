"""Make the orchestrator's own plugin available inside a cell without installing it.

A cell's environment is the user's (their deps, the package under test); installing
pytest-pipeline-gate into it would drag tox, virtualenv and rich along, and change what
the cell is. Instead a folder holds a copy of the ``pytest_pipeline`` package and a
minimal ``pytest_pipeline_gate-<version>.dist-info`` whose ``entry_points.txt`` declares
the plugins (``pipeline`` and the in-cell ``pipeline_cell``), and that folder is put on
the cell's ``sys.path``:

* tox cells: a ``.pth`` file in the environment's ``site-packages`` adds the folder
  (:meth:`Injection.install`) at start-up, after site-packages, in the cell's processes,
  whatever ``PYTHONPATH`` the project sets in ``set_env`` or its commands; nothing of the
  environment's own changes, and a package under test that *is* pytest-pipeline-gate
  is still imported from the tested wheel.
* nox cells: nox makes the environment inside its own run, so the folder goes on
  ``PYTHONPATH`` (nox passes the caller's variables on; a session that replaces
  ``PYTHONPATH`` loses it, and the cell then says the plugin did not load).

pytest loads the plugins through their entry points (``-p pipeline -p pipeline_cell``
in ``PYTEST_ADDOPTS``, so ``PYTEST_DISABLE_PLUGIN_AUTOLOAD`` does not stop them; a
second ``pipeline`` entry point of an installed copy is skipped by name). The cell's
settings (name, stages, JUnit folder) travel in ``PYTEST_PIPELINE_*`` variables that the
in-cell plugin reads itself, so a project's own ``PYTEST_ADDOPTS`` or ``--junitxml``
cannot lose them (see :mod:`.cellplugin`).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import os
import shlex
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest_pipeline
from pytest_pipeline import __version__, envvars
from pytest_pipeline.fileio import write_text_atomic

DIST_NAME = "pytest-pipeline-gate"
PLUGIN_ENTRY_POINT = "pipeline"
CELL_PLUGIN_ENTRY_POINT = "pipeline_cell"
CELL_PLUGIN = "pytest_pipeline.plugin.cell"
"""Reports live progress (stage, failures) of a cell to the orchestrator and keeps its
JUnit file; loaded by its entry point name, as ``pipeline`` is."""
PTH_FILE = "_pytest_pipeline_inject.pth"

_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")


@dataclass(frozen=True)
class Injection:
    """What a cell's test command needs on top of its own environment."""

    path: Path
    """The folder to put first on ``PYTHONPATH``."""
    plugins: tuple[str, ...] = ()
    """Entry-point names of injected companion plugins to load with ``-p``."""

    def environment(
        self,
        base: Mapping[str, str],
        *,
        cell: str,
        stages: Sequence[str],
        junit_dir: Path,
        config: Path | None,
        events: Path | None = None,
        pytest_args: Sequence[str] = (),
        python_path: bool = False,
    ) -> dict[str, str]:
        """``base`` plus what makes the cell's pytest load our plugins.

        ``PYTEST_ADDOPTS`` keeps what the project set and appends the ``-p`` options and
        ``pytest_args`` (options after ``--`` on our command line). ``python_path``: put
        the folder on ``PYTHONPATH`` too (nox cells, which get no ``.pth``).
        """
        env = dict(base)
        if python_path:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.path), env.get("PYTHONPATH")]))
        options = ["-p", PLUGIN_ENTRY_POINT, "-p", CELL_PLUGIN_ENTRY_POINT]
        for plugin in self.plugins:
            options.extend(["-p", plugin])
        options.extend(pytest_args)
        addopts = shlex.join(options)
        if env.get("PYTEST_ADDOPTS"):
            addopts = f"{env['PYTEST_ADDOPTS']} {addopts}"
        env["PYTEST_ADDOPTS"] = addopts
        env[envvars.CELL] = cell
        env[envvars.STAGES] = ",".join(stages)
        env[envvars.JUNIT_DIR] = str(junit_dir)
        if config is not None:
            env[envvars.CONFIG] = str(config)
        else:
            env.pop(envvars.CONFIG, None)
        if events is not None:
            env[envvars.EVENTS] = str(events)
        return env

    def install(self, site_packages: Path) -> None:
        """Name the folder in a ``.pth`` file of the environment (atomically: a Python
        starting meanwhile sees the old file or the new one). The folder joins
        ``sys.path`` only in a cell's processes (``$PYTEST_PIPELINE_CELL`` set): the
        environment used by hand shows nothing of ours."""
        target = site_packages / PTH_FILE
        text = f"import os, sys; os.environ.get({envvars.CELL!r}) and sys.path.append({str(self.path)!r})\n"
        try:
            if target.read_text(encoding="utf-8") == text:
                return
        except OSError:
            pass
        write_text_atomic(target, text)


def package_source() -> Path:
    return Path(pytest_pipeline.__file__).resolve().parent


@dataclass(frozen=True)
class Companion:
    """A pytest plugin our plugin uses when present, injected the same way as ours."""

    distribution: str
    entry_point: str
    """Its ``pytest11`` entry-point name: loading it by that name (``-p NAME``) is what
    makes a second copy installed in the cell's environment harmless."""


RERUNFAILURES = Companion("pytest-rerunfailures", "rerunfailures")
"""Stage retries (``retries = N``) are pytest-rerunfailures' ``flaky`` marker; a cell's
environment rarely has it, so the orchestrator's copy comes along when a stage retries."""


def _companion_files(companion: Companion) -> tuple[importlib.metadata.Distribution, list[Path]] | None:
    try:
        dist = importlib.metadata.distribution(companion.distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
    files = [
        Path(str(dist.locate_file(item)))
        for item in dist.files or ()
        if not str(item).startswith("..")
        and ".dist-info" not in str(item)
        and "__pycache__" not in str(item)
        and not str(item).endswith((".pyc", ".pyo"))
    ]
    return dist, files


def _content_hash(source: Path, companions: tuple[Companion, ...] = ()) -> str:
    digest = hashlib.sha256(__version__.encode())
    for relative in _package_files(source):
        digest.update(relative.as_posix().encode())
        digest.update((source / relative).read_bytes())
    for companion in companions:
        found = _companion_files(companion)
        digest.update(f"{companion}:{found[0].version if found else None}".encode())
    return digest.hexdigest()[:16]


def _package_files(source: Path) -> list[Path]:
    """The package's files under ``source``, relative, in path order: bytecode left out
    (``__pycache__`` is not even walked: it holds as many files as the package)."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(source):
        dirs[:] = [name for name in dirs if name != "__pycache__"]
        base = Path(folder).relative_to(source)
        found.extend(base / name for name in files if not name.endswith((".pyc", ".pyo")))
    return sorted(path for path in found if (source / path).is_file())


def dist_info_name() -> str:
    return f"{DIST_NAME.replace('-', '_')}-{__version__}.dist-info"


def _write_dist_info(folder: Path) -> None:
    dist_info = folder / dist_info_name()
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {DIST_NAME}\nVersion: {__version__}\n"
        "Summary: injected by pytest-pipeline into a matrix cell (not installed)\n",
        encoding="utf-8",
    )
    entry_points = [
        f"{PLUGIN_ENTRY_POINT} = pytest_pipeline.plugin",
        f"{CELL_PLUGIN_ENTRY_POINT} = {CELL_PLUGIN}",
    ]
    (dist_info / "entry_points.txt").write_text(
        "[pytest11]\n" + "\n".join(entry_points) + "\n", encoding="utf-8"
    )
    # No RECORD on purpose: nothing may "uninstall" this folder through pip.
    (dist_info / "INSTALLER").write_text("pytest-pipeline\n", encoding="utf-8")


def _copy_companion(companion: Companion, folder: Path) -> bool:
    found = _companion_files(companion)
    if found is None:
        return False
    dist, files = found
    site = Path(str(dist.locate_file("")))
    for path in files:
        target = folder / path.relative_to(site)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    name = dist.metadata["Name"].replace("-", "_")
    dist_info = folder / f"{name}-{dist.version}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(dist.read_text("METADATA") or "", encoding="utf-8")
    (dist_info / "entry_points.txt").write_text(dist.read_text("entry_points.txt") or "", encoding="utf-8")
    return True


STALE_AFTER = 7 * 24 * 3600.0
"""Seconds after which another version's injection folder is removed: long enough for
any run still using it to have finished."""


def _prune(root: Path, keep: Path) -> None:
    if not root.is_dir():
        return
    now = time.time()
    for folder in root.glob("inject-*"):
        with contextlib.suppress(OSError):
            if folder != keep and now - folder.stat().st_mtime > STALE_AFTER:
                shutil.rmtree(folder)


def prepare(root: Path, source: Path | None = None, companions: tuple[Companion, ...] = ()) -> Injection:
    """The injection folder under ``root`` for this exact copy of our package.

    Folders are keyed by a hash of the package's files (and the companions' versions),
    so concurrent runs and reruns share one, and an edited (editable-installed)
    orchestrator gets a fresh one.
    """
    injection, making = prepare_soon(root, source, companions, background=False)
    assert making is None
    return injection


def prepare_soon(
    root: Path, source: Path | None = None, companions: tuple[Companion, ...] = (), *, background: bool = True
) -> tuple[Injection, Making | None]:
    """:func:`prepare`, the copy (about 0.1 s the first time) made in a thread: a cold run
    begins its environments meanwhile. :meth:`Making.wait` before a cell runs."""
    source = source or package_source()
    target = root / f"inject-{_content_hash(source, companions)}"
    _prune(root, keep=target)
    loaded = tuple(c.entry_point for c in companions if _companion_files(c) is not None)
    injection = Injection(target, loaded)
    if (target / dist_info_name()).is_dir():
        return injection, None
    if not background:
        _make(root, source, target, companions)
        return injection, None
    return injection, Making(lambda: _make(root, source, target, companions))


class Making:
    """An injection folder being made in a thread of its own (:func:`prepare_soon`)."""

    def __init__(self, work: Callable[[], None]) -> None:
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(work,), name="inject", daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as error:  # raised where the run waits for it
            self._error = error

    def wait(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error


def _make(root: Path, source: Path, target: Path, companions: tuple[Companion, ...]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".inject-", dir=root))
    try:
        shutil.copytree(source, staging / "pytest_pipeline", ignore=_IGNORED)
        _write_dist_info(staging)
        for companion in companions:
            _copy_companion(companion, staging)
        try:
            staging.rename(target)
        except OSError:
            # Another run finished the same folder first: theirs is identical.
            if not (target / dist_info_name()).is_dir():
                raise
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(staging)
