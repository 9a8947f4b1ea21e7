"""The wheel holds the sources as they were when the build started, never a later edit: real
builds (uv, or pip's fallback) of a real git repository whose build backend waits, between
reading the sources and writing the wheel, for the test to edit and revert a file.

The backend is the project's own (``backend-path``): it needs nothing from the index, and
it tells the test through files when it has read the sources, so the test synchronises on
files, never on time.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import zipfile
from pathlib import Path

import pytest

from pipeline_testkit import git
from pytest_pipeline.runner import build, envs

# The backend's waits are bounded so a broken test cannot hang the suite.
HELD_BACKEND = """
import os, pathlib, time, zipfile

PROBE = pathlib.Path(os.environ["PROBE_DIR"])
DIST_INFO = "held-1.dist-info"
METADATA = "Metadata-Version: 2.1\\nName: held\\nVersion: 1\\n"
WHEEL = "Wheel-Version: 1.0\\nGenerator: held\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"


def _wait_for(name):
    deadline = time.monotonic() + 120
    while not (PROBE / name).exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"held backend: {name} never appeared")
        time.sleep(0.02)


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    folder = pathlib.Path(metadata_directory) / DIST_INFO
    folder.mkdir()
    (folder / "METADATA").write_text(METADATA)
    (folder / "WHEEL").write_text(WHEEL)
    return DIST_INFO


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    held = (PROBE / "hold").exists()
    if held:
        (PROBE / "started").write_text("")
        _wait_for("go")  # the test edits a source file meanwhile
    source = pathlib.Path("src/held/__init__.py").read_bytes()  # the build reads the sources
    if held:
        (PROBE / "read").write_text("")
        _wait_for("finish")  # ... and meanwhile they change
    name = "held-1-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as wheel:
        wheel.writestr("held/__init__.py", source)
        wheel.writestr(f"{DIST_INFO}/METADATA", METADATA)
        wheel.writestr(f"{DIST_INFO}/WHEEL", WHEEL)
        wheel.writestr(f"{DIST_INFO}/RECORD", "")
    return name
"""

HELD_PYPROJECT = """
[build-system]
requires = []
build-backend = "backend"
backend-path = ["."]

[project]
name = "held"
version = "1"
"""

COMMITTED = b"VALUE = 'committed'\n"
EDITED = b"VALUE = 'an edit that is in no commit'\n"


def held_project(root: Path) -> Path:
    (root / "src" / "held").mkdir(parents=True)
    (root / "pyproject.toml").write_text(HELD_PYPROJECT)
    (root / "backend.py").write_text(HELD_BACKEND)
    (root / "src" / "held" / "__init__.py").write_bytes(COMMITTED)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    return root


def wait_for(path: Path, build_thread: threading.Thread) -> None:
    for _ in range(2400):
        if path.exists():
            return
        assert build_thread.is_alive(), f"the build ended before {path.name} appeared"
        threading.Event().wait(0.05)
    raise AssertionError(f"{path.name} never appeared")


def wheel_source(wheel: build.Wheel) -> bytes:
    with zipfile.ZipFile(wheel.path) as archive:
        return archive.read("held/__init__.py")


def ignored_status(root: Path) -> str:
    return git(root, "status", "--porcelain", "--ignored")


@pytest.mark.parametrize("frontend", ["uv", "python"])
def test_an_edit_during_the_build_reverted_with_cp_p_never_reaches_a_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, frontend: str
) -> None:
    if shutil.which("git") is None:
        pytest.skip("needs git")
    uv = envs.find_uv() if frontend == "uv" else None  # else `python -m build`, or pip's fallback
    if frontend == "uv" and uv is None:
        pytest.skip("needs uv")
    probe = tmp_path / "probe"
    probe.mkdir()
    monkeypatch.setenv("PROBE_DIR", str(probe))
    root = held_project(tmp_path / "proj")
    module = root / "src" / "held" / "__init__.py"
    status = ignored_status(root)

    (probe / "hold").touch()
    early = build.EarlyBuild(root, uv=uv).start()
    assert early._thread is not None
    # While the build runs: an edit, which the build reads, then its revert with the
    # committed file's mtime (cp -p), before the build ends.
    wait_for(probe / "started", early._thread)
    subprocess.run(["cp", "-p", str(module), str(tmp_path / "saved.py")], check=True)
    module.write_bytes(EDITED)
    (probe / "go").touch()
    wait_for(probe / "read", early._thread)
    subprocess.run(["cp", "-p", str(tmp_path / "saved.py"), str(module)], check=True)
    (probe / "finish").touch()
    first = early.wheel(tmp_path / "r1" / "dist", tmp_path / "r1" / "build.log")

    # The next run on the same clean tree, with nothing held: from the cache or built anew.
    (probe / "hold").unlink()
    second = build.EarlyBuild(root, uv=uv).start().wheel(tmp_path / "r2" / "dist", tmp_path / "r2" / "log")

    assert (wheel_source(first), wheel_source(second)) == (COMMITTED, COMMITTED)
    assert module.read_bytes() == COMMITTED
    assert first.artifact == second.artifact
    # Nothing the builds wrote is in the project, except our own (git-ignored) cache folder.
    assert ignored_status(root) == "\n".join(sorted([*status.splitlines(), f"!! {build.OWN_DIR}/"])).strip()


SCM_PYPROJECT = """
[build-system]
requires = ["setuptools>=64", "setuptools-scm>=8"]
build-backend = "setuptools.build_meta"

[project]
name = "scmtiny"
dynamic = ["version"]

[tool.setuptools_scm]
"""


def in_place_wheel_name(repo: Path, uv: str, tmp_path: Path, name: str) -> str:
    """The wheel a build in the project folder itself makes, of a copy of ``repo`` (.git too)."""
    copy = tmp_path / name
    shutil.copytree(repo, copy, symlinks=True)
    out = tmp_path / f"{name}-dist"
    subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(out), str(copy)], check=True, capture_output=True
    )
    (wheel,) = out.glob("*.whl")
    return wheel.name


def test_a_setuptools_scm_project_gets_the_version_and_files_an_in_place_build_gives(tmp_path: Path) -> None:
    uv = envs.find_uv()
    if shutil.which("git") is None or uv is None:
        pytest.skip("needs git and uv")
    root = tmp_path / "scm"
    (root / "src" / "scmtiny").mkdir(parents=True)
    (root / "pyproject.toml").write_text(SCM_PYPROJECT)
    (root / "src" / "scmtiny" / "__init__.py").write_text("")
    # package data that only setuptools-scm's file finder (git ls-files) puts in the wheel
    (root / "src" / "scmtiny" / "data.txt").write_text("data\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    git(root, "tag", "v1.2.0")
    (root / "src" / "scmtiny" / "__init__.py").write_text("X = 1\n")
    git(root, "commit", "-q", "-am", "after the tag")
    cache = tmp_path / "cache"

    def snapshot_build(name: str) -> build.Built:
        log = tmp_path / f"{name}.log"
        built = build.build_or_reuse(root, tmp_path / name, cache=cache, uv=uv, log=log)
        build.keep(cache, built)
        return built

    clean = snapshot_build("clean")
    assert clean.wheel.path.name == in_place_wheel_name(root, uv, tmp_path, "in-place-clean")
    assert clean.wheel.path.name.startswith("scmtiny-1.2.1.dev1+g")
    with zipfile.ZipFile(clean.wheel.path) as archive:
        assert "scmtiny/data.txt" in archive.namelist()
    # a new tag on the same commit is a new version: not the cached wheel
    git(root, "tag", "v1.3.0")
    tagged = snapshot_build("tagged")
    assert not tagged.reused
    assert tagged.wheel.path.name.startswith("scmtiny-1.3.0-")
    # a dirty tree: setuptools-scm's dirty version, as in place
    (root / "src" / "scmtiny" / "__init__.py").write_text("X = 2\n")
    dirty = snapshot_build("dirty")
    assert dirty.wheel.path.name == in_place_wheel_name(root, uv, tmp_path, "in-place-dirty")
    assert ".d" in dirty.wheel.path.name  # setuptools-scm's date suffix of a dirty tree
    assert git(root, "worktree", "list", "--porcelain").count("worktree ") == 1  # none of ours left
