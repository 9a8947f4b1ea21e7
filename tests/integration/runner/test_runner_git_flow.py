"""``run`` -> ``gate`` -> ``publish`` in a clean clone: our own outputs never make the tree dirty.

One real run of a tiny project (uv keeps it fast) in a real git clone: the run writes
``pipeline-reports/``, ``.pytest-pipeline/`` (discovery cache) and ``.tox/.pipeline/``
(environments, injection) into the checkout, records the commit it tested, and the
gate and publish that follow must not call that tree dirty. Controls: a stray source
file does make publish refuse, and a new commit makes the old results stale.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from mini_project import write_project

from pipeline_testkit import git, pipeline_cli
from pytest_pipeline.commands.run import git_provenance
from pytest_pipeline.runner import envs

PUBLISHED = "published.txt"
PUBLISH = f"import pathlib; pathlib.Path({PUBLISHED!r}).write_text('yes')"
PUBLISH_CMD = ("--", sys.executable, "../publish.py")
"""The publish command: a script beside the clone (publish refuses `python -c` code)."""


@pytest.fixture
def needs_git() -> None:
    if shutil.which("git") is None:
        pytest.skip("needs git")


@pytest.fixture
def clone(tmp_path: Path, needs_git: None) -> Path:
    """A fresh clone of a tiny project whose .gitignore knows nothing about our outputs."""
    if envs.find_uv() is None:
        pytest.skip("uv keeps this test fast")
    origin = write_project(tmp_path / "origin")
    (origin / ".gitignore").write_text("__pycache__/\n")
    git(origin, "init", "-q", "-b", "main")
    git(origin, "add", ".")
    git(origin, "commit", "-q", "-m", "initial")
    target = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(target))
    (tmp_path / "publish.py").write_text(PUBLISH + "\n")
    return target


def test_run_gate_publish_in_a_clean_clone(clone: Path) -> None:
    head = git(clone, "rev-parse", "HEAD")
    ran = pipeline_cli("run", cwd=clone)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    # the run prints the gate's own verdict block after its summary table
    out = ran.stdout
    assert out.index("status") < out.index("GATE OPEN (0)") < out.index("required: stages unit")
    assert "gate file: pipeline-reports/gate.json" in out

    for output in ("pipeline-reports", ".pytest-pipeline", ".tox/.pipeline"):
        assert (clone / output).is_dir(), output
    # each keeps itself out of git status with a .gitignore of its own (the clone's knows none)
    assert git(clone, "status", "--porcelain", "--untracked-files=all") == ""
    record = json.loads((clone / "pipeline-reports" / "run.json").read_text())
    assert record["commit"] == head
    assert record["dirty"] is False
    gate_file = json.loads((clone / "pipeline-reports" / "gate.json").read_text())
    assert gate_file["git"]["dirty"] is False, gate_file["git"]
    assert gate_file["notes"] == []

    gated = pipeline_cli("gate", cwd=clone)
    assert gated.returncode == 0, gated.stdout + gated.stderr
    assert json.loads((clone / "pipeline-reports" / "gate.json").read_text())["git"]["dirty"] is False

    (wheel,) = (clone / "pipeline-reports" / "dist").glob("mini-1.0-*.whl")
    artifact = str(wheel.relative_to(clone))
    published = pipeline_cli("publish", "--artifact", artifact, *PUBLISH_CMD, cwd=clone)
    assert published.returncode == 0, published.stdout + published.stderr
    assert (clone / PUBLISHED).read_text() == "yes"

    # controls: the same flow refuses for a real stray file, and for another commit
    (clone / PUBLISHED).unlink()
    (clone / "src" / "mini" / "extra.py").write_text("X = 1\n")
    assert pipeline_cli("gate", cwd=clone).returncode == 0  # a dirty tree is a note for the gate...
    refused = pipeline_cli("publish", "--artifact", artifact, *PUBLISH_CMD, cwd=clone)
    assert refused.returncode == 6, refused.stdout + refused.stderr  # ...and a refusal for publish
    assert "src/mini/extra.py" in refused.stderr
    assert not (clone / PUBLISHED).exists()

    git(clone, "add", "src/mini/extra.py")
    git(clone, "commit", "-q", "-m", "more")
    stale = pipeline_cli("gate", cwd=clone)
    assert stale.returncode == 3, stale.stdout + stale.stderr
    reasons = json.loads((clone / "pipeline-reports" / "gate.json").read_text())["reasons"]
    assert [r["kind"] for r in reasons] == ["stale-results"]


def test_git_provenance_of_a_run(tmp_path: Path, needs_git: None) -> None:
    reports = tmp_path / "repo" / "pipeline-reports"
    assert git_provenance(tmp_path, reports) == (None, None)  # not a repository

    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "a.py").write_text("A = 1\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    head = git(root, "rev-parse", "HEAD")
    (reports / "cells").mkdir(parents=True)
    (reports / "run.json").write_text("{}")
    (root / ".pytest-pipeline" / "cache").mkdir(parents=True)  # even without its own .gitignore
    (root / ".pytest-pipeline" / "cache" / "discovery-tox.json").write_text("{}")
    (root / ".tox" / ".pipeline").mkdir(parents=True)
    (root / ".tox" / ".pipeline" / "x").write_text("")
    assert git_provenance(root, reports) == (head, False)

    (root / "a.py").write_text("A = 2\n")
    assert git_provenance(root, reports) == (head, True)
