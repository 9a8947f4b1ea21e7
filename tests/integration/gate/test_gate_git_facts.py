"""git_facts on real repositories: the commit, branch and dirtiness the gate records,
in three git commands on a repository with commits."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pipeline_testkit import git
from pytest_pipeline.gate.provenance import GitFacts, git_facts


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("needs git")
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "module.py").write_text("")
    git(root, "init", "-q", "-b", "trunk")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    return root


def count_git(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    seen: list[list[str]] = []
    real_run = subprocess.run

    def run(argv: Any, *args: Any, **kwargs: Any) -> Any:
        if list(argv)[:1] == ["git"]:
            seen.append(list(argv))
        return real_run(argv, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", run)
    return seen


def test_a_branch_with_commits_in_three_commands(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = count_git(monkeypatch)
    facts = git_facts(repo / "src")
    assert len(seen) == 3, seen
    assert facts == GitFacts(
        commit=git(repo, "rev-parse", "HEAD"),
        dirty=False,
        dirty_paths=(),
        ref="refs/heads/trunk",
        default_branch=None,
        toplevel=str(repo.resolve()),
    )


def test_detached_dirty_and_origin_s_default_branch(repo: Path) -> None:
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    git(repo, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
    git(repo, "checkout", "-q", "--detach")
    (repo / "src" / "module.py").write_text("changed = True\n")
    (repo / "HEAD").write_text("a file named like the ref")  # untracked, and no ambiguity
    facts = git_facts(repo)
    assert (facts.commit, facts.ref, facts.default_branch) == (git(repo, "rev-parse", "HEAD"), None, "main")
    assert facts.dirty
    assert set(facts.dirty_paths) == {"HEAD", "src/module.py"}


def test_before_the_first_commit_the_branch_is_named_and_no_commit(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("needs git")
    git(tmp_path, "init", "-q", "-b", "fresh")
    facts = git_facts(tmp_path)
    assert (facts.commit, facts.ref, facts.toplevel) == (None, "refs/heads/fresh", str(tmp_path.resolve()))


def test_outside_a_repository_nothing_is_known(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert git_facts(tmp_path) == GitFacts()
