"""The kept build environment, for real (uv, hatchling, setuptools from the index): made
once, reused while the build requirements stay, remade when they change, and the wheel it
builds is byte for byte the wheel an isolated ``uv build`` of the same sources gives."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import threading
import zipfile
from pathlib import Path

import pytest

from pipeline_testkit import SAMPLE
from pytest_pipeline.runner import build, build_env, envs

SETUPTOOLS_PYPROJECT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "tiny"
version = "1.0"
"""


@pytest.fixture(autouse=True)
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The kept environments go to the user's cache: here, a folder of the test's own."""
    folder = tmp_path / "user-cache"
    monkeypatch.setattr(build_env, "cache_home", lambda: folder)
    return folder


def kept_envs(project: Path) -> list[Path]:
    return sorted(p for p in build_env.root(project).iterdir() if p.is_dir() and not p.name.startswith("."))


@pytest.fixture
def uv() -> str:
    found = envs.find_uv()
    if found is None:
        pytest.skip("uv is not installed")
    return found


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def contents(wheel: Path) -> dict[str, bytes]:
    """Every file of a wheel (setuptools stamps its zip entries with the build's time)."""
    with zipfile.ZipFile(wheel) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def isolated(uv: str, sources: Path, out: Path) -> Path:
    """The anchor: uv's own isolated build of the same sources."""
    subprocess.run([uv, "build", "--wheel", "--quiet", "--out-dir", str(out), str(sources)], check=True)
    (wheel,) = out.glob("*.whl")
    return wheel


def sample_sources(tmp_path: Path) -> Path:
    sources = tmp_path / "sources"
    shutil.copytree(
        SAMPLE, sources, ignore=shutil.ignore_patterns(".tox", "pipeline-reports", ".pytest-pipeline")
    )
    return sources


def test_made_once_reused_and_the_same_wheel_as_an_isolated_build(tmp_path: Path, uv: str) -> None:
    project, sources = tmp_path / "project", sample_sources(tmp_path)
    project.mkdir()
    log = tmp_path / "build.log"
    first = build.build_wheel(sources, tmp_path / "out1", project=project, uv=uv, log=log)
    assert "uv venv" in log.read_text()  # made now
    (env,) = kept_envs(project)
    assert (env / build_env.READY).is_file()
    assert not list(project.iterdir())  # nothing in the project: no sdist can pick it up
    log.write_text("")
    second = build.build_wheel(sources, tmp_path / "out2", project=project, uv=uv, log=log)
    text = log.read_text()
    assert "uv venv" not in text
    assert "pip install" not in text
    assert text.count("$ ") == 1  # the backend asked for nothing: asked and built in one process
    anchor = isolated(uv, sources, tmp_path / "anchor")
    assert sha256(first.path) == sha256(second.path) == sha256(anchor)


ASKING_BACKEND = """
from hatchling import build as _hatchling


def get_requires_for_build_wheel(config_settings=None):
    return ["iniconfig"]


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    import iniconfig  # there only if the frontend installed what this backend asked for

    return _hatchling.build_wheel(wheel_directory, config_settings, metadata_directory)
"""


def test_what_the_backend_asks_for_is_installed_once_then_it_builds(tmp_path: Path, uv: str) -> None:
    project, sources = tmp_path / "project", sample_sources(tmp_path)
    project.mkdir()
    pyproject = sources / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'build-backend = "hatchling.build"', 'build-backend = "asking_backend"\nbackend-path = ["."]'
        )
    )
    (sources / "asking_backend.py").write_text(ASKING_BACKEND)
    log = tmp_path / "build.log"
    first = build.build_wheel(sources, tmp_path / "out1", project=project, uv=uv, log=log)
    text = log.read_text()
    assert "pip install --quiet" in text  # what the backend asked for: iniconfig
    assert "iniconfig" in text
    assert "building isolated" not in text, text
    log.write_text("")
    second = build.build_wheel(sources, tmp_path / "out2", project=project, uv=uv, log=log)
    assert "pip install" not in log.read_text()  # installed once, remembered
    anchor = isolated(uv, sources, tmp_path / "anchor")
    assert sha256(first.path) == sha256(second.path) == sha256(anchor)


def test_a_changed_build_system_gets_a_new_environment_and_the_old_one_goes(tmp_path: Path, uv: str) -> None:
    project, sources = tmp_path / "project", tmp_path / "sources"
    project.mkdir()
    (sources / "tiny").mkdir(parents=True)
    (sources / "tiny" / "__init__.py").write_text("")
    (sources / "pyproject.toml").write_text(SETUPTOOLS_PYPROJECT)
    log = tmp_path / "build.log"
    wheel = build.build_wheel(sources, tmp_path / "out1", project=project, uv=uv, log=log)
    before = set(kept_envs(project))
    anchor = isolated(uv, sources, tmp_path / "anchor")
    assert contents(wheel.path) == contents(anchor)  # setuptools too: the same files, byte for byte
    (sources / "pyproject.toml").write_text(SETUPTOOLS_PYPROJECT.replace("setuptools>=61", "setuptools>=62"))
    build.build_wheel(sources, tmp_path / "out2", project=project, uv=uv, log=log)
    after = set(kept_envs(project))
    assert len(after) == 1
    assert after != before


def test_a_broken_kept_environment_falls_back_to_an_isolated_build(tmp_path: Path, uv: str) -> None:
    project, sources = tmp_path / "project", sample_sources(tmp_path)
    project.mkdir()
    log = tmp_path / "build.log"
    build.build_wheel(sources, tmp_path / "out1", project=project, uv=uv, log=log)
    (env,) = kept_envs(project)
    shutil.rmtree(env / "lib")  # hatchling is gone, the environment still says it is ready
    wheel = build.build_wheel(sources, tmp_path / "out2", project=project, uv=uv, log=log)
    assert "failed; building isolated" in log.read_text()
    assert sha256(wheel.path) == sha256(isolated(uv, sources, tmp_path / "anchor"))


def test_no_readable_build_system_builds_isolated(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[build-system\n")
    assert build_env.build_system(tmp_path) is None
    (tmp_path / "pyproject.toml").write_text('[build-system]\nrequires = "setuptools"\n')
    assert build_env.build_system(tmp_path) is None
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert build_env.build_system(tmp_path) == build_env.LEGACY  # PEP 517's default


def test_the_key_follows_the_files_backends_read_their_requirements_from(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(SETUPTOOLS_PYPROJECT)
    system = build_env.build_system(tmp_path)
    assert system is not None
    first = build_env.key(tmp_path, system)
    (tmp_path / "setup.py").write_text("from setuptools import setup\nsetup(setup_requires=['x'])\n")
    assert build_env.key(tmp_path, system) != first
    (tmp_path / "README.md").write_text("not read for requirements")
    second = build_env.key(tmp_path, system)
    (tmp_path / "README.md").write_text("changed")
    assert build_env.key(tmp_path, system) == second
    assert build_env.key(tmp_path, system, python="/other/python") != second


def test_a_run_keeps_the_environment_it_made_and_one_stopped_early_does_not(tmp_path: Path, uv: str) -> None:
    # The run's path: an EarlyBuild whose wheel is taken, then cancel() at the run's end
    # (a no-op then); one cancelled before its wheel is taken leaves the project as it was.
    project = sample_sources(tmp_path)
    taken = build.EarlyBuild(project, uv=uv).start()
    taken.wheel(tmp_path / "dist", tmp_path / "build.log")
    taken.cancel()
    (env,) = kept_envs(project)
    assert (env / build_env.READY).is_file()
    (project / "src" / "greeter" / "extra.py").write_text("# a change: a new build\n")
    again = build.EarlyBuild(project, uv=uv).start()
    again.wheel(tmp_path / "dist2", tmp_path / "build2.log")
    again.cancel()
    assert "uv venv" not in (tmp_path / "build2.log").read_text()  # the kept one, reused
    assert (env / build_env.READY).is_file()

    fresh = sample_sources(tmp_path / "fresh")
    stopped = build.EarlyBuild(fresh, uv=uv).start()
    stopped.cancel()
    assert not (fresh / ".pytest-pipeline").exists()


def test_the_environments_of_projects_gone_are_pruned(tmp_path: Path, uv: str) -> None:
    gone, here = tmp_path / "gone", sample_sources(tmp_path)
    gone.mkdir()
    build_env.root(gone).mkdir(parents=True)
    (build_env.root(gone) / build_env.PROJECT).write_text(str(gone))
    (build_env.root(gone) / "abc").mkdir()
    gone.rmdir()
    other = tmp_path / "other"  # a project still there keeps its environments
    other.mkdir()
    build_env.root(other).mkdir(parents=True)
    (build_env.root(other) / build_env.PROJECT).write_text(str(other))
    cut_short = build_env.cache_home() / ".gone-0123456789abcdef"  # a killed run's deletion
    (cut_short / "lib").mkdir(parents=True)
    build.build_wheel(here, tmp_path / "out", project=here, uv=uv, log=tmp_path / "build.log")
    assert not build_env.root(gone).exists()  # out of the way at once, deleted meanwhile
    assert build_env.root(other).is_dir()
    assert (build_env.root(here) / build_env.PROJECT).read_text() == str(here.resolve())
    for thread in threading.enumerate():
        if thread.name == "prune-build-envs":
            thread.join(60)
    assert sorted(path.name for path in build_env.cache_home().iterdir()) == sorted(
        [build_env.root(here).name, build_env.root(other).name]
    )


def test_recreate_makes_the_kept_environment_anew(tmp_path: Path, uv: str) -> None:
    project, sources = tmp_path / "project", sample_sources(tmp_path)
    project.mkdir()
    log = tmp_path / "build.log"
    build.build_wheel(sources, tmp_path / "out1", project=project, uv=uv, log=log)
    (env,) = kept_envs(project)
    (env / "marker").write_text("from the first build")
    log.write_text("")
    build.build_wheel(sources, tmp_path / "out2", project=project, uv=uv, log=log, fresh_env=True)
    assert "uv venv" in log.read_text()  # made again, as --recreate asks
    assert kept_envs(project) == [env]
    assert not (env / "marker").exists()
    assert (env / build_env.READY).is_file()
