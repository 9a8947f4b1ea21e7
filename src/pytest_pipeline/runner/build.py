"""Build the package under test once per run; every cell installs that same wheel.

tox rebuilds (or at least reinstalls) the package in every environment; building it
once is both faster and what the gate needs: the sha256 of the one file that was tested.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

from pytest_pipeline.errors import PipelineError
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.results import Artifact


@dataclass(frozen=True)
class Wheel:
    path: Path
    artifact: Artifact
    project: str
    """The distribution name from the wheel's METADATA (``Name:``)."""
    requires: tuple[str, ...]
    """``Requires-Dist`` lines: the environment fingerprint uses them to know whether a
    new build can be reinstalled without touching dependencies."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


def build_wheel(project: Path, out_dir: Path, *, uv: str | None, log: Path) -> Wheel:
    """Build ``project`` into a fresh ``out_dir``; the build's output goes to ``log``."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    argv = build_command(project, out_dir, uv)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as handle:
        handle.write(f"$ {subprocess.list2cmdline(argv)}\n".encode())
        handle.flush()
        completed = subprocess.run(
            argv, cwd=project, stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT, check=False
        )
    wheels = sorted(out_dir.glob("*.whl"))
    if completed.returncode != 0 or len(wheels) != 1:
        raise PipelineError(
            f"building {project} failed (exit {completed.returncode}, {len(wheels)} wheel(s)); "
            f"see {log}, or pass a prebuilt wheel with --installpkg",
            ExitCode.INCOMPLETE,
        )
    return read_wheel(wheels[0])


# Folders that never hold package sources: tools' environments and caches, VCS data,
# build outputs, reports. Anything else in the project counts as source.
_NOT_SOURCE = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".tox",
        ".nox",
        ".venv",
        "venv",
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".hypothesis",
        "build",
        "dist",
        "pipeline-reports",
        ".pytest-pipeline",
    }
)


def source_fingerprint(project: Path, *, skip: tuple[Path, ...] = ()) -> str:
    """A hash of every file that could end up in (or decide) the built package.

    Conservative on purpose: any edit anywhere in the project outside tool and cache
    folders means a new build. The git HEAD and tags are included because version
    plugins (setuptools-scm, hatch-vcs) derive the version from them.
    """
    digest = hashlib.sha256()
    skipped = {path.resolve() for path in skip}
    for folder, dirs, files in os.walk(project):
        here = Path(folder)
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in _NOT_SOURCE and not d.endswith(".egg-info") and (here / d).resolve() not in skipped
        )
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")):
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


def build_once(
    project: Path,
    out_dir: Path,
    *,
    cache: Path,
    uv: str | None,
    log: Path,
    skip: tuple[Path, ...] = (),
    rebuild: bool = False,
) -> Wheel:
    """The wheel of ``project`` in ``out_dir``: built now, or copied from ``cache`` when
    the sources have not changed since the last build (``rebuild`` forces a build)."""
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
        return read_wheel(out_dir / wheels[0].name)
    wheel = build_wheel(project, out_dir, uv=uv, log=log)
    # Keep only the latest build: the cache exists to skip rebuilding unchanged sources.
    if cache.is_dir():
        shutil.rmtree(cache, ignore_errors=True)
    cached.mkdir(parents=True, exist_ok=True)
    shutil.copy2(wheel.path, cached / wheel.path.name)
    return wheel
