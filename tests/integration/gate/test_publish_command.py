"""``pytest-pipeline publish`` in a real git repository with a real command.

The command, a script beside the repository, writes a marker file and exits 7: the
marker proves it ran (or that it never started), the exit code that its code became ours.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from gate_files import PYPROJECT, green, junit, make_wheel, write

from pipeline_testkit import clean_environ, git, pipeline_argv, pipeline_cli
from pytest_pipeline.cli import main

SDIST = "dist/greeter-1.0.tar.gz"
MARKER = "published.txt"
PUBLISH = "import pathlib, sys; pathlib.Path('published.txt').write_text(' '.join(sys.argv[1:])); sys.exit(7)"
SCRIPT = "../publish.py"
"""Where the repo fixture puts PUBLISH: outside the repository, so the tree stays clean."""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    write(tmp_path / "publish.py", PUBLISH + "\n")
    git(root, "init", "-q", "-b", "main")
    write(root / "pyproject.toml", PYPROJECT.format(extra=""))
    write(root / "src" / "greeter.py", "def greet(): return 'hi'\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    monkeypatch.chdir(root)
    # What a release job has lying around: build output and test results, untracked.
    write(root / SDIST, b"sdist built once")
    write(root / "pipeline-reports" / "junit" / "py310.xml", green())
    write(root / ".tox" / "py310" / "log.txt", "tox log")
    return root


def gate(root: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> int:
    code = main(["gate", "pipeline-reports/junit", "--artifact", SDIST, *extra])
    capsys.readouterr()
    return code


def publish(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return pipeline_cli("publish", *args, cwd=root, env=clean_environ(**(env or {})))


def publish_cmd(*files: str) -> list[str]:
    return ["--", sys.executable, SCRIPT, *files]


Change = Callable[[Path], None]


def nothing(root: Path) -> None:
    pass


@dataclass
class Row:
    id: str
    after_gate: Change = nothing
    before_gate: Change = nothing
    args: list[str] = field(default_factory=lambda: publish_cmd(SDIST))
    env: dict[str, str] = field(default_factory=dict)
    code: int = 6
    text: str = ""


def failing_results(root: Path) -> None:
    write(
        root / "pipeline-reports" / "junit" / "py310.xml",
        junit(unit=[("t", "failed")], integration=[("u", "passed")]),
    )


def new_commit(root: Path) -> None:
    write(root / "src" / "greeter.py", "def greet(): return 'hello'\n")
    git(root, "commit", "-q", "-am", "change after testing")


def edit_tracked(root: Path) -> None:
    write(root / "src" / "greeter.py", "def greet(): return 'edited'\n")


def untracked_source(root: Path) -> None:
    write(root / "src" / "extra.py", "x = 1\n")


def rebuild(root: Path) -> None:
    write(root / SDIST, b"sdist built again, different bytes")


def other_wheel(root: Path) -> None:
    write(root / "dist" / "greeter-1.0-py3-none-any.whl", b"never tested")


def no_dist(root: Path) -> None:
    (root / SDIST).unlink()


def nested_untested(root: Path) -> None:
    write(root / "dist" / "sub" / "deeper" / "greeter-1.0-py2.py3-none-any.whl", b"never tested")


def literal_glob_name(root: Path) -> None:
    write(root / "dist" / "*.tar.gz", b"sdist built once")  # the tested bytes, a glob's name
    write(root / "dist" / "other-1.0.tar.gz", b"never tested")


def dash_named(root: Path) -> None:
    write(root / "-x.egg-info" / "other-1.0.tar.gz", b"never tested")


AZURE_PUSH_TO_MASTER = {
    "TF_BUILD": "True",
    "BUILD_REASON": "IndividualCI",
    "BUILD_SOURCEBRANCH": "refs/heads/master",
}


def detached_without_branches(root: Path) -> None:
    """How Azure Pipelines checks out: the commit, detached, no local branch."""
    git(root, "checkout", "-q", "--detach")
    git(root, "branch", "-q", "-D", "main")


def gate_exempts_source(root: Path) -> None:
    """gate.json is just a file: one that says it read src/ must not make src/ exempt."""
    path = root / "pipeline-reports" / "gate.json"
    record = json.loads(path.read_text())
    record["inputs"]["paths"].append("src")
    path.write_text(json.dumps(record))
    untracked_source(root)


def feature_branch(root: Path) -> None:
    git(root, "checkout", "-q", "-b", "feature/x")


def release_branch_allowed_in_pyproject(root: Path) -> None:
    write(
        root / "pyproject.toml",
        PYPROJECT.format(extra='[tool.pytest-pipeline.gate]\npublish-branches = ["release/*"]\n'),
    )
    git(root, "commit", "-q", "-am", "publish from release branches")
    git(root, "checkout", "-q", "-b", "release/1")


def drop_gate(root: Path) -> None:
    (root / "pipeline-reports" / "gate.json").unlink()


UNTESTED = "build/untested/greeter-1.0-py3-none-any.whl"
"""A package that was never tested, where build output goes (so the tree stays clean)."""


def untested_build(root: Path) -> None:
    write(root / UNTESTED, b"never tested")


def renamed_release(root: Path) -> None:
    """The tested bytes under another version's name."""
    write(root / "dist" / "greeter-2.0.tar.gz", (root / SDIST).read_bytes())


def leftover_master(root: Path) -> None:
    """A local `master` beside `main`, say from before a rename: no proof of anything in CI."""
    git(root, "branch", "-q", "master")


def shell(code: str, program: str = "sh") -> list[str]:
    """CMD as a shell given code that runs the publish script on UNTESTED."""
    return ["--", program, "-c", code]


RUN_SCRIPT_ON_UNTESTED = f"{shlex.quote(sys.executable)} {SCRIPT} build/untested/*.whl"


ROWS = [
    Row("gate closed", before_gate=failing_results, text="the gate is closed (code 1)"),
    Row("stale commit", after_gate=new_commit, text="stale gate"),
    Row("dirty tree", after_gate=edit_tracked, text="the working tree is dirty (src/greeter.py)"),
    Row(
        "untracked source file", after_gate=untracked_source, text="the working tree is dirty (src/extra.py)"
    ),
    Row(
        "gate ran on a dirty tree",
        before_gate=edit_tracked,
        after_gate=lambda r: git(r, "checkout", "-q", "--", "."),
        text="tree was dirty when the gate ran",
    ),
    Row("different artifact", after_gate=rebuild, text=f"{SDIST} is not the tested artifact"),
    Row(
        "untested artifact",
        after_gate=other_wheel,
        args=publish_cmd("dist/*"),
        text="greeter-1.0-py3-none-any.whl was not tested",
    ),
    Row(
        "pull-request build",
        env={
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_REF": "refs/pull/3/merge",
        },
        text="this is a pull-request build (github pull_request #3)",
    ),
    Row(
        "merge-request build",
        env={"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "4"},
        text="pull-request build (gitlab merge_request_event #4)",
    ),
    Row("feature branch", before_gate=feature_branch, text="feature/x may not publish (allowed: main)"),
    Row(
        "CI says a branch the rules do not allow",
        env={"TF_BUILD": "True", "BUILD_REASON": "IndividualCI", "BUILD_SOURCEBRANCH": "refs/heads/dev"},
        args=["--allow-branch", "main", *publish_cmd(SDIST)],
        text="dev may not publish (allowed: main)",
    ),
    Row(
        "CI checkout without branches and no word on the default branch",
        after_gate=detached_without_branches,
        env=AZURE_PUSH_TO_MASTER,
        text="cannot tell the repository's default branch in this CI",
    ),
    Row(
        "allowed: the same, with --allow-branch naming it",
        after_gate=detached_without_branches,
        env=AZURE_PUSH_TO_MASTER,
        args=["--allow-branch", "master", *publish_cmd(SDIST)],
        code=7,
    ),
    Row(
        "a gate file that exempts a source folder",
        after_gate=gate_exempts_source,
        text="the working tree is dirty (src/extra.py)",
    ),
    Row("no gate file", after_gate=drop_gate, text="gate.json: does not exist"),
    Row("nothing named: dist/ is what uploaders take, and it was tested", args=publish_cmd(), code=7),
    Row(
        "nothing named: dist/ also holds an untested file",
        after_gate=other_wheel,
        args=publish_cmd(),
        text="greeter-1.0-py3-none-any.whl was not tested",
    ),
    Row(
        "nothing named and no dist/",
        after_gate=no_dist,
        args=publish_cmd(),
        text="cannot tell what the command publishes",
    ),
    Row(
        "a folder named: every package in it",
        after_gate=other_wheel,
        args=publish_cmd("dist/"),
        text="was not tested",
    ),
    Row(
        "a ** glob recurses",
        after_gate=nested_untested,
        args=publish_cmd("dist/**/*.whl"),
        text="greeter-1.0-py2.py3-none-any.whl was not tested",
    ),
    Row(
        "a file named like the glob does not hide what it matches",
        after_gate=literal_glob_name,
        args=publish_cmd("dist/*.tar.gz"),
        text="other-1.0.tar.gz was not tested",
    ),
    Row(
        "an argument after -- is a path even with a leading dash",
        after_gate=dash_named,
        args=publish_cmd(SDIST, "--", "-x.egg-info/other-1.0.tar.gz"),
        text="other-1.0.tar.gz was not tested",
    ),
    Row(
        "a shell given code hides what it publishes",
        after_gate=untested_build,
        args=shell(RUN_SCRIPT_ON_UNTESTED),
        text="`sh -c` runs code given on its command line",
    ),
    Row(
        "bash given code",
        after_gate=untested_build,
        args=shell(RUN_SCRIPT_ON_UNTESTED, "bash"),
        text="`bash -c` runs code",
    ),
    Row(
        "a shell given code through env",
        after_gate=untested_build,
        args=["--", "env", "RELEASE=1", "sh", "-c", RUN_SCRIPT_ON_UNTESTED],
        text="`sh -c` runs code",
    ),
    Row(
        "python given code",
        after_gate=untested_build,
        args=["--", sys.executable, "-c", PUBLISH],
        text="-c` runs code given on its command line",
    ),
    Row(
        "a package path inside an option's value (curl -F file=@PATH)",
        after_gate=untested_build,
        args=["--", sys.executable, SCRIPT, "-F", f"file=@{UNTESTED}"],
        text=f"argument 'file=@{UNTESTED}' names a package file inside a larger string",
    ),
    Row(
        "a package path inside an option (-Ffile=@PATH)",
        after_gate=untested_build,
        args=["--", sys.executable, SCRIPT, f"-Ffile=@{UNTESTED}"],
        text=f"argument '-Ffile=@{UNTESTED}' names a package file",
    ),
    Row(
        "a package path as --opt=PATH",
        after_gate=untested_build,
        args=["--", sys.executable, SCRIPT, f"--file={UNTESTED}"],
        text="name the package files as plain arguments",
    ),
    Row(
        "the tested bytes renamed to another version",
        after_gate=renamed_release,
        args=publish_cmd("dist/greeter-2.0.tar.gz"),
        text="dist/greeter-2.0.tar.gz has the bytes of the tested greeter-1.0.tar.gz but its name says "
        "greeter 2.0",
    ),
    Row(
        "CI without a provider: a local main proves nothing",
        env={"CI": "true"},
        text="cannot tell the repository's default branch in this CI",
    ),
    Row(
        "Azure building master, with a leftover local master",
        after_gate=leftover_master,
        env=AZURE_PUSH_TO_MASTER,
        text="cannot tell the repository's default branch in this CI",
    ),
    Row("allowed: default branch, tested artifact", code=7),
    Row(
        "allowed: CI without a provider, --allow-branch naming the branch",
        env={"CI": "true"},
        args=["--allow-branch", "main", *publish_cmd(SDIST)],
        code=7,
    ),
    Row(
        "allowed: a package path inside a larger string that --artifact names",
        args=["--artifact", SDIST, "--", sys.executable, SCRIPT, "-F", f"file=@{SDIST}"],
        code=7,
    ),
    Row("allowed: shell glob left unexpanded", args=publish_cmd("dist/*.tar.gz"), code=7),
    Row(
        "allowed: --allow-branch",
        before_gate=feature_branch,
        args=["--allow-branch", "feature/*", *publish_cmd(SDIST)],
        code=7,
    ),
    Row(
        "allowed: publish-branches in pyproject.toml", before_gate=release_branch_allowed_in_pyproject, code=7
    ),
    Row(
        "allowed: --allow-pull-request",
        env={
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_REF": "refs/pull/3/merge",
        },
        args=["--allow-pull-request", *publish_cmd(SDIST)],
        code=7,
    ),
    Row("allowed: artifact given with --artifact", args=["--artifact", SDIST, *publish_cmd()], code=7),
    Row(
        "allowed: GitLab default branch from CI",
        env={
            "GITLAB_CI": "true",
            "CI_PIPELINE_SOURCE": "push",
            "CI_COMMIT_BRANCH": "main",
            "CI_DEFAULT_BRANCH": "main",
        },
        code=7,
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_publish(repo: Path, row: Row, capsys: pytest.CaptureFixture[str]) -> None:
    row.before_gate(repo)
    gate(repo, capsys)
    row.after_gate(repo)
    done = publish(repo, *row.args, env=row.env)
    assert done.returncode == row.code, done.stderr
    if row.code == 6:
        assert not (repo / MARKER).exists(), "the publish command must never start"
        assert "pytest-pipeline publish: refused: " in done.stderr
        assert row.text in done.stderr
    else:
        assert (repo / MARKER).exists()
        assert "gate open for" in done.stderr


def test_publish_refusals_outnumber_twelve() -> None:
    assert sum(row.code == 6 for row in ROWS) >= 12


def test_a_fan_in_checkout_with_downloaded_results_is_clean(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What a CI gate job downloads into its checkout is not source."""
    write(repo / "cell-reports" / "pipeline-reports-py310" / "cells" / "py310" / "junit.xml", green())
    write(repo / "plan.json", json.dumps({"cells": [{"name": "py310"}]}))
    code = main(["gate", "--expect-cells-from", "plan.json", "--artifact", SDIST, "cell-reports/"])
    capsys.readouterr()
    assert code == 0
    record = json.loads((repo / "pipeline-reports" / "gate.json").read_text())
    assert record["git"]["dirty"] is False, record["git"]
    # publish in the same job: what the gate read is still not source
    assert publish(repo, *publish_cmd(SDIST)).returncode == 7
    # anything else untracked is
    write(repo / "src" / "stray.py", "")
    done = publish(repo, *publish_cmd(SDIST))
    assert done.returncode == 6
    assert "src/stray.py" in done.stderr


def test_command_not_found_is_a_usage_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gate(repo, capsys)
    done = publish(repo, "--", "no-such-command-xyz", SDIST)
    assert done.returncode == 4
    assert "command 'no-such-command-xyz' not found" in done.stderr


def test_no_command_is_a_usage_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gate(repo, capsys)
    done = publish(repo)
    assert done.returncode == 4
    assert "give the command to run after --" in done.stderr


@pytest.mark.skipif(os.name != "posix", reason="signals are POSIX")
def test_signals_reach_the_command(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gate(repo, capsys)
    script = (
        "import signal, sys\n"
        "signal.signal(signal.SIGTERM, lambda *a: sys.exit(42))\n"
        "print('ready', flush=True)\n"
        "sys.stdin.read()\n"  # block until signalled; stdin is our pipe
    )
    write(repo.parent / "wait.py", script)
    command = pipeline_argv("publish", "--", sys.executable, "../wait.py", SDIST)
    with subprocess.Popen(
        command, cwd=repo, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n"
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=60) == 42


def test_attestation_in_a_repository(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_pipeline.fileio import sha256_file

    assert gate(repo, capsys, "--attestation", "att.intoto.json") == 0
    statement = json.loads((repo / "att.intoto.json").read_text())
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://in-toto.io/attestation/test-result/v0.1"
    assert statement["subject"] == [
        {"name": "greeter-1.0.tar.gz", "digest": {"sha256": sha256_file(repo / SDIST)}}
    ]
    predicate = statement["predicate"]
    assert predicate["result"] == "PASSED"
    assert predicate["passedTests"] == ["unit (py310)", "integration (py310)"]
    assert predicate["failedTests"] == []
    names = [item["name"] for item in predicate["configuration"]]
    assert names == ["pipeline-reports/gate.json", "pyproject.toml"]
    gate_digest = predicate["configuration"][0]["digest"]["sha256"]
    assert gate_digest == sha256_file(repo / "pipeline-reports" / "gate.json")
    record = json.loads((repo / "pipeline-reports" / "gate.json").read_text())
    assert record["git"]["commit"] == git(repo, "rev-parse", "HEAD")
    assert record["git"]["branch"] == "main"
    assert record["git"]["dirty"] is False


def test_the_gates_own_files_at_the_repository_root_are_not_a_dirty_tree(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's `gate ... --attestation gate.intoto.json`, then publish: what the gate
    wrote (recorded in gate.json as outputs) is not source, wherever it was written."""
    assert gate(repo, capsys, "-o", "gate.json", "--attestation", "att.intoto.json") == 0
    record = json.loads((repo / "gate.json").read_text())
    assert record["outputs"] == {"paths": ["gate.json", "att.intoto.json"]}
    assert record["git"]["dirty"] is False, record["git"]
    done = publish(repo, "--gate", "gate.json", *publish_cmd(SDIST))
    assert done.returncode == 7, done.stderr
    assert (repo / MARKER).exists()
    # only those files: the root is not exempt as a whole
    (repo / MARKER).unlink()
    write(repo / "stray.py", "")
    done = publish(repo, "--gate", "gate.json", *publish_cmd(SDIST))
    assert done.returncode == 6
    assert "the working tree is dirty (stray.py)" in done.stderr


def test_an_attestation_at_the_root_beside_the_default_gate_file(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert gate(repo, capsys, "--attestation", "att.intoto.json") == 0
    done = publish(repo, *publish_cmd(SDIST))
    assert done.returncode == 7, done.stderr


def test_publish_time_policy_is_given_to_publish_not_to_the_gate(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The gate cannot take publish's policy (it would be recorded, then ignored); publish's
    own override lets a release branch publish."""
    git(repo, "checkout", "-q", "-b", "release/1")
    assert gate(repo, capsys, "--publish-branches", "release/*") == 4
    assert gate(repo, capsys, "--allow-pull-request-publish") == 4
    assert gate(repo, capsys) == 0
    refused = publish(repo, *publish_cmd(SDIST))
    assert refused.returncode == 6
    assert "release/1 may not publish (allowed: main)" in refused.stderr
    done = publish(repo, "--allow-branch", "release/*", *publish_cmd(SDIST))
    assert done.returncode == 7, done.stderr
    assert (repo / MARKER).exists()


def test_a_wheel_renamed_to_another_version_is_refused(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The tested bytes under another version's name would go out as that version."""
    wheel = "dist/greeter-1.0-py3-none-any.whl"
    make_wheel(repo / wheel, "greeter", "1.0")
    assert main(["gate", "pipeline-reports/junit", "--artifact", wheel]) == 0
    capsys.readouterr()
    renamed = repo / "dist" / "greeter-2.0-py3-none-any.whl"
    renamed.write_bytes((repo / wheel).read_bytes())
    done = publish(repo, *publish_cmd(str(renamed.relative_to(repo))))
    assert done.returncode == 6, done.stderr
    assert not (repo / MARKER).exists()
    lines = done.stderr.splitlines()
    assert (
        "pytest-pipeline publish: refused: dist/greeter-2.0-py3-none-any.whl: its name says greeter 2.0 but "
        "its own metadata says greeter 1.0" in lines[0]
    )
    assert (
        "has the bytes of the tested greeter-1.0-py3-none-any.whl but its name says greeter 2.0" in lines[1]
    )
    assert publish(repo, *publish_cmd(wheel)).returncode == 7
