"""Snapshots of a real git repository: HEAD's commit in a temporary worktree, plus the
uncommitted changes copied and hashed when the snapshot is taken; keyed by content, never by
mtimes; and nothing left in the user's repository afterwards."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pipeline_testkit import git, git_run
from pytest_pipeline.runner import snapshot


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("needs git")
    root = tmp_path / "repo"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "__init__.py").write_text("VALUE = 'committed'\n")
    (root / "src" / "pkg" / "gone.py").write_text("")
    (root / "pyproject.toml").write_text("[project]\nname = 'pkg'\nversion = '1'\n")
    (root / ".gitignore").write_text("*.local\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    return root


def take(project: Path, tmp_path: Path, **options: Any) -> snapshot.Snapshot:
    workdir = tmp_path / "work" / f"{snapshot.WORKDIR_PREFIX}{len(list((tmp_path).glob('work/*')))}"
    workdir.mkdir(parents=True)
    return snapshot.take(project, workdir, **options)


def worktrees(root: Path) -> list[str]:
    listed = git(root, "worktree", "list", "--porcelain")
    return [line.split(" ", 1)[1] for line in listed.splitlines() if line.startswith("worktree ")]


def test_a_clean_tree_is_its_commit_whatever_happens_to_the_files_later(repo: Path, tmp_path: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    module = repo / "src" / "pkg" / "__init__.py"
    with take(repo, tmp_path) as taken:
        assert taken.identity["commit"] == head
        assert taken.identity["changes"] == []
        assert taken.description == f"commit {head[:12]} (clean)"
        module.write_text("VALUE = 'edited after the snapshot was taken'\n")
        tree = taken.tree()
        assert (tree / "src" / "pkg" / "__init__.py").read_text() == "VALUE = 'committed'\n"
        assert (tree / ".git").is_file()  # git metadata for version plugins
        assert git(tree, "rev-parse", "HEAD") == head
        assert git(tree, "status", "--porcelain") == ""
        (tree / "build").mkdir()  # what a setuptools build writes stays in the snapshot
    assert worktrees(repo) == [str(repo)]
    assert not tree.exists()
    assert git(repo, "status", "--porcelain") == "M src/pkg/__init__.py"  # stripped


def test_a_dirty_tree_is_its_commit_plus_the_changes_as_they_were_copied(repo: Path, tmp_path: Path) -> None:
    with take(repo, tmp_path) as clean:
        clean_identity = clean.identity
    module = repo / "src" / "pkg" / "__init__.py"
    module.write_text("VALUE = 'uncommitted'\n")
    (repo / "src" / "pkg" / "gone.py").unlink()
    (repo / "src" / "pkg" / "new.py").write_text("NEW = 1\n")
    (repo / "secret.local").write_text("ignored by git\n")
    for output in ("build/lib/pkg/__init__.py", "dist/pkg-1.whl", ".tox/py/x", "src/pkg/__pycache__/a.pyc"):
        (repo / output).parent.mkdir(parents=True, exist_ok=True)
        (repo / output).write_text("tool output\n")
    with take(repo, tmp_path) as dirty:
        changes = dict(dirty.identity["changes"])
        assert sorted(changes) == ["src/pkg/__init__.py", "src/pkg/gone.py", "src/pkg/new.py"]
        assert changes["src/pkg/gone.py"] == "deleted"
        assert dirty.description.endswith("and 3 uncommitted paths")
        module.write_text("VALUE = 'edited after the snapshot was taken'\n")
        tree = dirty.tree()
        assert (tree / "src" / "pkg" / "__init__.py").read_text() == "VALUE = 'uncommitted'\n"
        assert (tree / "src" / "pkg" / "new.py").read_text() == "NEW = 1\n"
        for absent in ("src/pkg/gone.py", "secret.local", "build", "dist", ".tox", "src/pkg/__pycache__"):
            assert not (tree / absent).exists(), absent
    assert dirty.identity != clean_identity
    # Content, not mtimes: the committed bytes back (cp -p keeps the edit's mtime) = clean.
    module.write_text("VALUE = 'committed'\n")
    os.utime(module, ns=(1, 1))
    git(repo, "checkout", "--", "src/pkg/gone.py")
    (repo / "src" / "pkg" / "new.py").unlink()
    with take(repo, tmp_path) as again:
        assert again.identity == clean_identity
    assert worktrees(repo) == [str(repo)]


def test_a_project_in_a_subfolder_of_the_repository(repo: Path, tmp_path: Path) -> None:
    project = repo / "packages" / "sub"
    project.mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'sub'\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "sub")
    with take(project, tmp_path) as taken:
        assert taken.identity["prefix"] == "packages/sub"
        tree = taken.tree()
        assert tree.parent.parent.name == repo.name
        assert (tree / "pyproject.toml").read_text() == "[project]\nname = 'sub'\n"
    # a project folder git ignores is no part of any commit: its files are copied
    ignored = repo / "scratch.local"
    ignored.mkdir()
    (ignored / "pyproject.toml").write_text("[project]\nname = 'scratch'\n")
    with take(ignored, tmp_path) as taken:
        assert taken.description == "a copy of 1 files"
        assert (taken.tree() / "pyproject.toml").is_file()


def test_tags_are_part_of_the_content(repo: Path, tmp_path: Path) -> None:
    with take(repo, tmp_path) as untagged:
        before = untagged.identity
    git(repo, "tag", "v1.0")  # version plugins read tags: another version, another wheel
    with take(repo, tmp_path) as tagged:
        assert tagged.identity != before


def git_commands(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The git commands run from now on (through subprocess.run)."""
    seen: list[list[str]] = []
    real_run = subprocess.run

    def run(argv: Any, *args: Any, **kwargs: Any) -> Any:
        if list(argv)[:1] == ["git"]:
            seen.append(list(argv))
        return real_run(argv, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", run)
    return seen


def test_a_warm_look_up_costs_three_git_commands_and_keys_tags_as_before(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(repo, "tag", "v1.10")
    git(repo, "tag", "-a", "v1.2", "-m", "annotated: its own object")
    git(repo, "tag", "a-first")
    (repo / "src" / "pkg" / "new.py").write_text("")  # untracked: copied and hashed
    listed = git_run(repo, "for-each-ref", "--format=%(objectname) %(refname)", "refs/tags").stdout
    seen = git_commands(monkeypatch)
    with take(repo, tmp_path) as taken:
        assert len(seen) == 3, seen
        # The key of the tags is the one for-each-ref's listing gave: kept builds stay valid.
        assert taken.identity["tags"] == snapshot._digest(listed)
        assert taken.identity["commit"] == git(repo, "rev-parse", "HEAD")
        assert [path for path, _ in taken.identity["changes"]] == ["src/pkg/new.py"]


def test_no_snapshot_outside_git_or_before_the_first_commit(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("needs git")
    plain = tmp_path / "plain"
    plain.mkdir()
    assert snapshot.GitSnapshot.take(plain, tmp_path / "work", ()) is None
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    git(fresh, "init", "-q", "-b", "main")
    (fresh / "pyproject.toml").write_text("")
    assert snapshot.GitSnapshot.take(fresh, tmp_path / "work", ()) is None


def test_a_snapshot_from_a_git_hook_leaves_the_users_index_alone(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # git runs hooks with GIT_INDEX_FILE set; inherited by `git worktree add`, the new
    # worktree's checkout overwrote the user's index and lost what was staged.
    (repo / "staged.py").write_text("")
    git(repo, "add", "staged.py")
    monkeypatch.setenv("GIT_INDEX_FILE", str(repo / ".git" / "index"))
    with take(repo, tmp_path) as taken:
        assert (taken.tree() / "staged.py").is_file()
    monkeypatch.delenv("GIT_INDEX_FILE")
    assert git(repo, "status", "--porcelain") == "A  staged.py"


def test_worktrees_of_killed_runs_are_forgotten_and_the_users_own_are_not(repo: Path, tmp_path: Path) -> None:
    killed = tmp_path / "tmp" / f"{snapshot.WORKDIR_PREFIX}killed" / "sources" / "repo"
    users = tmp_path / "elsewhere" / "feature"
    for folder in (killed, users):
        folder.parent.mkdir(parents=True)
        git(repo, "worktree", "add", "-q", "--detach", str(folder))
        shutil.rmtree(folder)  # the folder is gone, its registration is not
    with take(repo, tmp_path) as taken:
        taken.tree()
    assert worktrees(repo) == [str(repo), str(users)]


def test_the_files_of_checked_out_submodules_are_in_the_snapshot(repo: Path, tmp_path: Path) -> None:
    library = tmp_path / "library"
    library.mkdir()
    (library / "vendored.c").write_text("int answer = 42;\n")
    git(library, "init", "-q", "-b", "main")
    git(library, "add", ".")
    git(library, "commit", "-q", "-m", "library")
    git(
        repo,
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        str(library),
        "third_party/library",
    )
    git(repo, "commit", "-q", "-m", "submodule")
    with take(repo, tmp_path) as taken:
        assert [path for path, _ in taken.identity["changes"]] == ["third_party/library/vendored.c"]
        assert (taken.tree() / "third_party" / "library" / "vendored.c").read_text() == "int answer = 42;\n"
