"""The result store: what changes a cell's inputs, and a store that loses nothing."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from pipeline_testkit import git
from pytest_pipeline.runner import reuse


def inputs(**changes: object) -> reuse.Inputs:
    values: dict[str, object] = {
        "tool": "inject-abc",
        "wheel": "a" * 64,
        "project": "p1",
        "environment": ("attrs==23.2.0",),
        "config": {"commands": ["pytest"]},
        "variables": {"FOO": "1"},
        "stages": ("unit",),
        "pytest_args": (),
    }
    values.update(changes)
    return reuse.Inputs(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "change",
    [
        {"tool": "inject-def"},
        {"wheel": "b" * 64},
        {"project": "p2"},
        {"environment": ("attrs==24.2.0",)},
        {"config": {"commands": ["pytest -x"]}},
        {"variables": {"FOO": "2"}},
        {"stages": ("unit", "smoke")},
        {"pytest_args": ("-k", "x")},
    ],
)
def test_every_input_changes_the_key(change: dict[str, object]) -> None:
    assert inputs().key() == inputs().key()
    assert inputs(**change).key() != inputs().key()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "mod.py").write_text("x = 1\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "data.txt").write_text("42\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "-c", "user.email=a@b", "-c", "user.name=n", "commit", "-qm", "init")
    return tmp_path


def test_the_project_s_content_is_an_input(repo: Path) -> None:
    first = reuse.project_digest(repo)
    assert reuse.project_digest(repo) == first
    (repo / "tests" / "data.txt").write_text("43\n")  # a data file a test reads, not committed
    changed = reuse.project_digest(repo)
    assert changed != first
    (repo / "tests" / "data.txt").write_text("42\n")  # back as it was: as it was
    assert reuse.project_digest(repo) == first
    (repo / "tests" / "test_new.py").write_text("def test_new(): pass\n")  # untracked, not ignored
    assert reuse.project_digest(repo) != first


def test_tool_output_and_ignored_files_are_no_input(repo: Path) -> None:
    first = reuse.project_digest(repo)
    (repo / "tests" / "__pycache__").mkdir()
    (repo / "tests" / "__pycache__" / "x.pyc").write_bytes(b"\0")  # pytest writes these
    (repo / ".gitignore").write_text("secret.txt\n")
    git(repo, "add", ".gitignore")
    git(repo, "-c", "user.email=a@b", "-c", "user.name=n", "commit", "-qm", "ignore")
    second = reuse.project_digest(repo)
    (repo / "secret.txt").write_text("anything")
    assert reuse.project_digest(repo) == second != first  # the commit changed, the ignored file not


def test_outside_git_every_file_by_content(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("1")
    first = reuse.project_digest(tmp_path)
    (tmp_path / "a.py").write_text("2")
    assert reuse.project_digest(tmp_path) != first
    (tmp_path / "a.py").write_text("1")
    (tmp_path / ".tox").mkdir()
    (tmp_path / ".tox" / "x").write_text("env")
    assert reuse.project_digest(tmp_path) == first


def test_the_environment_is_what_is_installed(tmp_path: Path) -> None:
    site = tmp_path / "lib" / "python3.12" / "site-packages"
    (site / "attrs-23.2.0.dist-info").mkdir(parents=True)
    (tmp_path / "pyvenv.cfg").write_text("version_info = 3.12.1\n")
    assert reuse.installed(tmp_path) == ["attrs==23.2.0", "version_info = 3.12.1\n"]


def cell_dir(tmp_path: Path, status: str = "passed") -> tuple[Path, dict[str, object]]:
    folder = tmp_path / "cells" / "py312"
    folder.mkdir(parents=True)
    (folder / "junit.xml").write_text("<testsuite/>")
    (folder / "log.txt").write_text("log")
    return folder, {"name": "py312", "status": status}


ORIGIN = {"run": "r1", "finished": "2026-12-07T08:00:00+00:00", "commit": "c" * 40}


def test_a_result_is_stored_found_and_restored(tmp_path: Path) -> None:
    folder, record = cell_dir(tmp_path)
    assert reuse.save(tmp_path, inputs(project="k1"), record=record, origin=ORIGIN, cell_dir=folder)
    stored, note = reuse.find(tmp_path, inputs(project="k1").key())
    assert note is None
    assert stored is not None
    assert stored.record == record
    assert stored.describe() == f"reused from run r1 (2026-12-07T08:00:00+00:00, {'c' * 12})"
    target = tmp_path / "again"
    reuse.restore(stored, target)
    assert (target / "junit.xml").read_text() == "<testsuite/>"
    assert reuse.find(tmp_path, inputs(project="other").key()) == (None, None)


@pytest.mark.parametrize("status", ["crashed", "timed-out", "interrupted", "env-error"])
def test_only_results_of_the_inputs_are_stored(tmp_path: Path, status: str) -> None:
    folder, record = cell_dir(tmp_path, status)
    assert not reuse.save(tmp_path, inputs(project="k"), record=record, origin=ORIGIN, cell_dir=folder)
    assert reuse.find(tmp_path, inputs(project="k").key()) == (None, None)


@pytest.mark.parametrize(
    "damage",
    [
        lambda entry: (entry / "result.json").write_text("{not json"),
        lambda entry: (entry / "result.json").write_text(json.dumps({"version": 99})),
        lambda entry: (entry / "junit.xml").unlink(),
        lambda entry: (entry / "result.json").unlink(),
    ],
)
def test_a_damaged_result_is_ignored_with_a_note(tmp_path: Path, damage: object) -> None:
    folder, record = cell_dir(tmp_path)
    reuse.save(tmp_path, inputs(project="k"), record=record, origin=ORIGIN, cell_dir=folder)
    damage(reuse.store_dir(tmp_path) / inputs(project="k").key())  # type: ignore[operator]
    stored, note = reuse.find(tmp_path, inputs(project="k").key())
    assert stored is None
    assert note is None or note.startswith("ignored a")


def test_two_runs_storing_at_once_lose_nothing(tmp_path: Path) -> None:
    folder, record = cell_dir(tmp_path)
    results: list[bool] = []
    start = threading.Barrier(8)

    def store(key: str) -> None:
        start.wait()
        results.append(
            reuse.save(tmp_path, inputs(project=key), record=record, origin=ORIGIN, cell_dir=folder)
        )

    threads = [threading.Thread(target=store, args=(f"k{index % 4}",)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 4  # each key stored once, the second writer of it gives way
    for index in range(4):
        stored, note = reuse.find(tmp_path, inputs(project=f"k{index}").key())
        assert stored is not None, note
    assert not list(reuse.store_dir(tmp_path).glob(".store-*"))  # no staging left behind


def test_the_store_keeps_under_its_limit_least_recently_used_first(tmp_path: Path) -> None:
    folder, record = cell_dir(tmp_path)
    (folder / "log.txt").write_text("x" * 1000)
    for index in range(5):
        reuse.save(
            tmp_path,
            inputs(project=f"k{index}"),
            record=record,
            origin=ORIGIN,
            cell_dir=folder,
            max_bytes=10**9,
        )
    import os

    keys = [inputs(project=f"k{index}").key() for index in range(5)]
    for index, key in enumerate(keys):  # k0 used most recently
        os.utime(reuse.store_dir(tmp_path) / key, (1000 + (5 - index), 1000 + (5 - index)))
    size = max(size for _, size, _ in reuse.entries(reuse.store_dir(tmp_path)))
    reuse.prune(reuse.store_dir(tmp_path), max_bytes=2 * size + size // 2)  # room for two
    assert sorted(path.name for path, _, _ in reuse.entries(reuse.store_dir(tmp_path))) == sorted(keys[:2])


def test_a_flaky_result_is_recognised(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    junit.write_text('<testsuite><testcase name="a"><flakyFailure message="x"/></testcase></testsuite>')
    assert reuse.flaky(junit)
    junit.write_text('<testsuite><testcase name="a"/></testsuite>')
    assert not reuse.flaky(junit)


def test_a_miss_says_which_inputs_changed_and_never_a_value(tmp_path: Path) -> None:
    folder, record = cell_dir(tmp_path)
    secret = {"FOO": "1", "TOKEN": "s3cr3t-value"}
    assert reuse.why_not_reused(tmp_path, "py312", inputs(variables=secret)) is None  # nothing stored
    reuse.save(tmp_path, inputs(variables=secret), record=record, origin=ORIGIN, cell_dir=folder)
    changed = inputs(project="p2", variables={"FOO": "2", "TOKEN": "s3cr3t-value", "NEW": "x"})
    why = reuse.why_not_reused(tmp_path, "py312", changed)
    assert why == "since the result stored by run r1, changed: the project's files, $FOO, $NEW"
    assert reuse.why_not_reused(tmp_path, "py313", changed) is None  # another cell's result says nothing
    stored = next(reuse.store_dir(tmp_path).iterdir()) / reuse.RESULT
    assert "s3cr3t-value" not in stored.read_text()
