"""Make the orchestrator's own plugin available inside a cell without installing it.

A cell's environment is the user's (their deps, the package under test); installing
pytest-pipeline-gate into it would drag tox, virtualenv and rich along. Instead we put a
folder first on the test command's ``PYTHONPATH`` holding a copy of the
``pytest_pipeline`` package and a minimal ``pytest_pipeline_gate-<version>.dist-info``
whose ``entry_points.txt`` declares ``[pytest11] pipeline = pytest_pipeline.plugin``.

Why this is safe when the project *also* lists pytest-pipeline-gate in its test deps:

* ``PYTHONPATH`` comes before site-packages, so ``import pytest_pipeline`` finds our copy
  (the orchestrator's version wins).
* pytest loads ``-p pipeline`` through its entry point (``import_plugin(...,
  consider_entry_points=True)``), registering it under the name ``pipeline``; the second
  ``pipeline`` entry point (the installed distribution) is then skipped by pluggy's
  ``load_setuptools_entrypoints``, which ignores names already registered. No
  "registered twice" error, and no second import since the module name is the same.
* With ``PYTEST_DISABLE_PLUGIN_AUTOLOAD`` set, ``-p pipeline`` still loads it.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import os
import shlex
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest_pipeline
from pytest_pipeline import __version__
from pytest_pipeline.config import CONFIG_ENV
from pytest_pipeline.results import CELL_ENV

DIST_NAME = "pytest-pipeline-gate"
PLUGIN_ENTRY_POINT = "pipeline"
CELL_PLUGIN = "pytest_pipeline.runner.cellplugin"
"""Reports live progress (stage, failures) of a cell to the orchestrator; loaded by module
name (it has no entry point, so it can never be registered twice)."""
EVENTS_ENV = "PYTEST_PIPELINE_EVENTS"
"""File the cell plugin appends its JSON-lines events to."""

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
        junit: Path,
        config: Path | None,
        events: Path | None = None,
        pytest_args: Sequence[str] = (),
    ) -> dict[str, str]:
        """``base`` plus the variables that make the cell's pytest run our plugin.

        ``PYTEST_ADDOPTS`` keeps what the project set and appends ours, so the stage
        selection and the JUnit path apply even where the project passes its own
        options; ``pytest_args`` (options after ``--`` on our command line) come last.
        """
        env = dict(base)
        python_path = [str(self.path)]
        if env.get("PYTHONPATH"):
            python_path.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(python_path)
        options = ["-p", PLUGIN_ENTRY_POINT, "-p", CELL_PLUGIN]
        for plugin in self.plugins:
            options.extend(["-p", plugin])
        if stages:
            options.append(f"--stage={','.join(stages)}")
        options.append(f"--junitxml={junit}")
        options.extend(pytest_args)
        addopts = shlex.join(options)
        if env.get("PYTEST_ADDOPTS"):
            addopts = f"{env['PYTEST_ADDOPTS']} {addopts}"
        env["PYTEST_ADDOPTS"] = addopts
        env[CELL_ENV] = cell
        if config is not None:
            env[CONFIG_ENV] = str(config)
        else:
            env.pop(CONFIG_ENV, None)
        if events is not None:
            env[EVENTS_ENV] = str(events)
        return env


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
    for path in sorted(source.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
            digest.update(path.relative_to(source).as_posix().encode())
            digest.update(path.read_bytes())
    for companion in companions:
        found = _companion_files(companion)
        digest.update(f"{companion}:{found[0].version if found else None}".encode())
    return digest.hexdigest()[:16]


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
    (dist_info / "entry_points.txt").write_text(
        f"[pytest11]\n{PLUGIN_ENTRY_POINT} = pytest_pipeline.plugin\n", encoding="utf-8"
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
    source = source or package_source()
    target = root / f"inject-{_content_hash(source, companions)}"
    _prune(root, keep=target)
    loaded = tuple(c.entry_point for c in companions if _companion_files(c) is not None)
    if (target / dist_info_name()).is_dir():
        return Injection(target, loaded)
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
    return Injection(target, loaded)
