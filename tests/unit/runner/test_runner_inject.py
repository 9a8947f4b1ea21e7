"""The injection folder and the variables that make a cell's pytest load our plugin."""

from __future__ import annotations

import hashlib
import os
import shlex
from pathlib import Path

import pytest

from pytest_pipeline import __version__
from pytest_pipeline.runner import inject


def test_environment_carries_the_cell_settings_in_variables(tmp_path: Path) -> None:
    injection = inject.Injection(tmp_path / "inj", plugins=("rerunfailures",))
    env = injection.environment(
        {"PYTHONPATH": "/theirs", "PYTEST_ADDOPTS": "-q", "KEEP": "1"},
        cell="py312-a",
        stages=("unit", "smoke"),
        junit_dir=tmp_path / "sessions",
        config=tmp_path / "pyproject.toml",
        events=tmp_path / "e.jsonl",
        pytest_args=("-k", "not slow"),
    )
    # a tox cell gets the folder through a .pth file: its PYTHONPATH is its own
    assert env["PYTHONPATH"] == "/theirs"
    addopts = shlex.split(env["PYTEST_ADDOPTS"])
    assert addopts[0] == "-q"  # the project's own options stay, ours come after
    assert addopts[1:] == ["-p", "pipeline", "-p", "pipeline_cell", "-p", "rerunfailures", "-k", "not slow"]
    assert env["PYTEST_PIPELINE_CELL"] == "py312-a"
    assert env["PYTEST_PIPELINE_STAGES"] == "unit,smoke"
    assert env["PYTEST_PIPELINE_JUNIT_DIR"] == str(tmp_path / "sessions")
    assert env["PYTEST_PIPELINE_CONFIG"] == str(tmp_path / "pyproject.toml")
    assert env["PYTEST_PIPELINE_EVENTS"] == str(tmp_path / "e.jsonl")
    assert env["KEEP"] == "1"


def test_environment_for_nox_puts_the_folder_on_pythonpath(tmp_path: Path) -> None:
    env = inject.Injection(tmp_path).environment(
        {"PYTEST_PIPELINE_CONFIG": "/stale", "PYTHONPATH": "/theirs"},
        cell="c",
        stages=(),
        junit_dir=tmp_path / "s",
        config=None,
        python_path=True,
    )
    assert env["PYTEST_PIPELINE_STAGES"] == ""
    assert "PYTEST_PIPELINE_CONFIG" not in env
    assert env["PYTHONPATH"] == os.pathsep.join([str(tmp_path), "/theirs"])


def test_install_names_the_folder_in_a_pth_file(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    site.mkdir()
    injection = inject.Injection(tmp_path / "inj")
    injection.install(site)
    text = (site / inject.PTH_FILE).read_text()
    assert repr(str(tmp_path / "inj")) in text
    assert "PYTEST_PIPELINE_CELL" in text  # only in a cell's processes
    injection.install(site)  # again: same file
    assert [path.name for path in site.iterdir()] == [inject.PTH_FILE]
    inject.Injection(tmp_path / "other").install(site)  # a new version of ours: rewritten
    assert repr(str(tmp_path / "other")) in (site / inject.PTH_FILE).read_text()


def test_prepare_writes_package_and_metadata_once(tmp_path: Path) -> None:
    source = tmp_path / "src" / "pytest_pipeline"
    source.mkdir(parents=True)
    (source / "__init__.py").write_text("x = 1\n")
    (source / "__pycache__").mkdir()
    (source / "__pycache__" / "junk.pyc").write_bytes(b"")
    first = inject.prepare(tmp_path / "cache", source)
    assert (first.path / "pytest_pipeline" / "__init__.py").read_text() == "x = 1\n"
    assert not (first.path / "pytest_pipeline" / "__pycache__").exists()
    dist_info = first.path / f"pytest_pipeline_gate-{__version__}.dist-info"
    assert "Name: pytest-pipeline-gate" in (dist_info / "METADATA").read_text()
    assert (dist_info / "entry_points.txt").read_text() == (
        "[pytest11]\npipeline = pytest_pipeline.plugin\npipeline_cell = pytest_pipeline.plugin.cell\n"
    )
    assert not (dist_info / "RECORD").exists()
    assert inject.prepare(tmp_path / "cache", source) == first
    (source / "__init__.py").write_text("x = 2\n")
    second = inject.prepare(tmp_path / "cache", source)
    assert second.path != first.path
    assert [p.name for p in (tmp_path / "cache").iterdir() if p.name.startswith(".")] == []


def test_prepare_soon_makes_the_same_folder_in_a_thread_and_says_why_it_could_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "src" / "pytest_pipeline"
    source.mkdir(parents=True)
    (source / "__init__.py").write_text("x = 1\n")
    injection, making = inject.prepare_soon(tmp_path / "soon", source)
    assert making is not None
    making.wait()
    assert (injection.path / "pytest_pipeline" / "__init__.py").read_text() == "x = 1\n"
    assert injection.path.name == inject.prepare(tmp_path / "now", source).path.name
    assert inject.prepare_soon(tmp_path / "soon", source) == (injection, None)  # made: nothing to do

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(inject.shutil, "copytree", full)
    _, failing = inject.prepare_soon(tmp_path / "full", source)
    assert failing is not None
    with pytest.raises(OSError, match="No space left"):
        failing.wait()  # the error reaches whoever waits for the folder
    assert [p.name for p in (tmp_path / "full").iterdir()] == []  # no staging left


def test_the_folder_is_keyed_by_every_source_file_and_no_bytecode(tmp_path: Path) -> None:
    source = tmp_path / "src" / "pytest_pipeline"
    (source / "runner" / "__pycache__").mkdir(parents=True)
    (source / "__init__.py").write_text("x = 1\n")
    (source / "runner" / "run.py").write_text("y = 2\n")
    (source / "py.typed").write_text("")
    (source / "runner" / "__pycache__" / "run.cpython-311.pyc").write_bytes(b"compiled")
    (source / "stray.pyc").write_bytes(b"compiled")
    # The key as it is documented: the version, then each file's path and bytes in path order.
    expected = hashlib.sha256(__version__.encode())
    for relative in ("__init__.py", "py.typed", "runner/run.py"):
        expected.update(relative.encode())
        expected.update((source / relative).read_bytes())
    first = inject.prepare(tmp_path / "cache", source)
    assert first.path.name == f"inject-{expected.hexdigest()[:16]}"
    (source / "runner" / "__pycache__" / "run.cpython-311.pyc").write_bytes(b"recompiled")
    assert inject.prepare(tmp_path / "cache", source) == first
    (source / "runner" / "run.py").write_text("y = 3\n")
    assert inject.prepare(tmp_path / "cache", source).path != first.path


def test_prepare_copies_a_companion_plugin(tmp_path: Path) -> None:
    injection = inject.prepare(tmp_path, companions=(inject.RERUNFAILURES,))
    assert injection.plugins == ("rerunfailures",)
    assert (injection.path / "pytest_rerunfailures.py").is_file()
    (dist_info,) = injection.path.glob("pytest_rerunfailures-*.dist-info")
    assert "rerunfailures = pytest_rerunfailures" in (dist_info / "entry_points.txt").read_text()


def test_missing_companion_is_left_out(tmp_path: Path) -> None:
    ghost = inject.Companion("no-such-distribution-here", "ghost")
    assert inject.prepare(tmp_path, companions=(ghost,)).plugins == ()


def test_events_variable_matches_the_cell_plugin() -> None:
    from pytest_pipeline.plugin import cell as cellplugin
    from pytest_pipeline.results import BLOCKED_MESSAGE_PREFIX

    assert cellplugin.BLOCKED_PREFIX == BLOCKED_MESSAGE_PREFIX


def test_old_injection_folders_of_other_versions_are_pruned(tmp_path: Path) -> None:
    import os
    import time

    old = tmp_path / "inject-0000old"
    old.mkdir()
    recent = tmp_path / "inject-1111recent"
    recent.mkdir()
    ancient = time.time() - inject.STALE_AFTER - 60
    os.utime(old, (ancient, ancient))
    current = inject.prepare(tmp_path)
    assert not old.exists()
    assert recent.exists()
    os.utime(current.path, (ancient, ancient))
    assert inject.prepare(tmp_path) == current  # the folder in use is never pruned
    assert current.path.exists()
