"""Where a verdict comes from: the git commit and tree, the CI run, the tool versions.

Gathering talks to git and reads the environment; the result is plain frozen data
that the pure verdict and the publish guard take as their context. Each CI provider
is read from its own documented variables; a generic ``CI`` variable only says "some
CI", which is enough for the ``missing-interpreters = "auto"`` policy.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_pipeline import __version__, installed
from pytest_pipeline.git import dirty_paths, git_output

PULL_REQUEST_EVENTS = {
    "github": ("pull_request", "pull_request_target"),
    "azure": ("PullRequest",),
    "gitlab": ("merge_request_event", "external_pull_request_event"),
}

_TOOL_DISTRIBUTIONS = ("pytest", "pluggy", "tox", "tox-uv", "nox", "virtualenv", "uv", "pytest-rerunfailures")


def truthy(value: str | None) -> bool:
    """``CI=true``, ``CI=1``, ``TF_BUILD=True``: set and not a spelled-out false."""
    return value is not None and value.strip().lower() not in ("", "0", "false", "no", "off")


@dataclass(frozen=True)
class GitFacts:
    commit: str | None = None
    dirty: bool = False
    dirty_paths: tuple[str, ...] = ()
    """The first few paths that make the tree dirty, to name in a message."""
    ref: str | None = None
    """The checked-out ref, ``refs/heads/main``; None when HEAD is detached or no git."""
    default_branch: str | None = None
    """From ``refs/remotes/origin/HEAD``, or None when the clone does not know it."""
    toplevel: str | None = None

    @property
    def branch(self) -> str | None:
        return short_ref(self.ref)

    def to_dict(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "dirty": self.dirty,
            "dirty_paths": list(self.dirty_paths),
            "branch": self.branch,
            "ref": self.ref,
            "default_branch": self.default_branch,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GitFacts:
        """Facts as gate.json records them (``branch`` is ``ref``'s short form, not read)."""
        commit = data.get("commit")
        if commit is not None and not isinstance(commit, str):
            raise TypeError("git.commit must be a string")
        return cls(
            commit=commit,
            dirty=bool(data.get("dirty", False)),
            dirty_paths=tuple(str(path) for path in data.get("dirty_paths") or ()),
            ref=data.get("ref"),
            default_branch=data.get("default_branch"),
        )


@dataclass(frozen=True)
class CIFacts:
    provider: str
    """``github``, ``azure``, ``gitlab``, or ``unknown`` when only ``CI`` is set."""
    run_id: str | None = None
    run_url: str | None = None
    event: str | None = None
    """The provider's own word for what started the run (``push``, ``PullRequest``, ...)."""
    pull_request: str | None = None
    """The pull/merge request number when the run is for one."""
    is_pull_request: bool = False
    ref: str | None = None
    """The full ref the run is for: ``refs/heads/main``, ``refs/tags/v1.0``, ``refs/pull/7/merge``."""
    commit: str | None = None
    default_branch: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "run_id": self.run_id,
            "run_url": self.run_url,
            "event": self.event,
            "pull_request": self.pull_request,
            "is_pull_request": self.is_pull_request,
            "ref": self.ref,
            "commit": self.commit,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CIFacts:
        return cls(
            provider=str(data.get("provider", "unknown")),
            run_id=data.get("run_id"),
            run_url=data.get("run_url"),
            event=data.get("event"),
            pull_request=data.get("pull_request"),
            is_pull_request=bool(data.get("is_pull_request", False)),
            ref=data.get("ref"),
            commit=data.get("commit"),
        )


@dataclass(frozen=True)
class Provenance:
    """The context of a verdict; the verdict reads only :attr:`in_ci`."""

    git: GitFacts = field(default_factory=GitFacts)
    ci: CIFacts | None = None
    in_ci: bool = False
    tools: Mapping[str, str] = field(default_factory=dict)

    @property
    def ref(self) -> str | None:
        """The ref being built: CI's word first (CI checkouts are often detached), then git's."""
        if self.ci is not None and self.ci.ref:
            return self.ci.ref
        return self.git.ref


def short_ref(ref: str | None) -> str | None:
    if ref is None:
        return None
    for prefix in ("refs/heads/", "refs/tags/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def full_branch_ref(name: str) -> str:
    """``main`` -> ``refs/heads/main``; a name that already starts with ``refs/`` stays."""
    return name if name.startswith("refs/") else f"refs/heads/{name}"


# --------------------------------------------------------------------------- CI


def ci_facts(env: Mapping[str, str]) -> CIFacts | None:
    if truthy(env.get("GITHUB_ACTIONS")):
        return _github(env)
    if truthy(env.get("TF_BUILD")):
        return _azure(env)
    if truthy(env.get("GITLAB_CI")):
        return _gitlab(env)
    if truthy(env.get("CI")):
        return _other_ci(env)
    return None


# Pull-request variables of CI systems we have no provider for (Travis, Jenkins
# multibranch, Bitbucket, CircleCI, Buildkite, Drone, AppVeyor, Semaphore, Cirrus):
# enough to refuse publishing from one, the one thing that must never go wrong.
OTHER_CI_PULL_REQUEST_VARIABLES = (
    "TRAVIS_PULL_REQUEST",
    "CHANGE_ID",
    "BITBUCKET_PR_ID",
    "CIRCLE_PULL_REQUEST",
    "CIRCLE_PR_NUMBER",
    "BUILDKITE_PULL_REQUEST",
    "DRONE_PULL_REQUEST",
    "APPVEYOR_PULL_REQUEST_NUMBER",
    "SEMAPHORE_GIT_PR_NUMBER",
    "CIRRUS_PR",
)


def _other_ci(env: Mapping[str, str]) -> CIFacts:
    for name in OTHER_CI_PULL_REQUEST_VARIABLES:
        value = env.get(name, "").strip()
        if value and value.lower() not in ("false", "0"):
            return CIFacts(provider="unknown", event=f"{name}={value}", is_pull_request=True)
    return CIFacts(provider="unknown")


def _github(env: Mapping[str, str]) -> CIFacts:
    event = env.get("GITHUB_EVENT_NAME") or None
    ref = env.get("GITHUB_REF") or None
    if ref is None and env.get("GITHUB_REF_NAME"):
        kind = "tags" if env.get("GITHUB_REF_TYPE") == "tag" else "heads"
        ref = f"refs/{kind}/{env['GITHUB_REF_NAME']}"
    is_pr = event in PULL_REQUEST_EVENTS["github"]
    number = None
    if ref and ref.startswith("refs/pull/"):
        number = ref.split("/")[2]
        is_pr = True
    run_id = env.get("GITHUB_RUN_ID") or None
    url = None
    if run_id and env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        url = f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{run_id}"
        if env.get("GITHUB_RUN_ATTEMPT"):
            url += f"/attempts/{env['GITHUB_RUN_ATTEMPT']}"
    return CIFacts(
        provider="github",
        run_id=run_id,
        run_url=url,
        event=event,
        pull_request=number,
        is_pull_request=is_pr,
        ref=ref,
        commit=env.get("GITHUB_SHA") or None,
        default_branch=_github_default_branch(env.get("GITHUB_EVENT_PATH")),
    )


def _github_default_branch(event_path: str | None) -> str | None:
    """GitHub has no variable for it, but every event payload names the repository's."""
    if not event_path:
        return None
    try:
        with open(event_path, encoding="utf-8") as handle:
            payload = json.load(handle)
        branch = payload["repository"]["default_branch"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return branch if isinstance(branch, str) and branch else None


def _azure(env: Mapping[str, str]) -> CIFacts:
    reason = env.get("BUILD_REASON") or None
    number = (
        env.get("SYSTEM_PULLREQUEST_PULLREQUESTNUMBER") or env.get("SYSTEM_PULLREQUEST_PULLREQUESTID") or None
    )
    is_pr = reason in PULL_REQUEST_EVENTS["azure"] or number is not None
    run_id = env.get("BUILD_BUILDID") or None
    url = None
    if run_id and env.get("SYSTEM_COLLECTIONURI") and env.get("SYSTEM_TEAMPROJECT"):
        base = env["SYSTEM_COLLECTIONURI"].rstrip("/")
        url = f"{base}/{env['SYSTEM_TEAMPROJECT']}/_build/results?buildId={run_id}"
    return CIFacts(
        provider="azure",
        run_id=run_id,
        run_url=url,
        event=reason,
        pull_request=number,
        is_pull_request=is_pr,
        ref=env.get("BUILD_SOURCEBRANCH") or None,
        commit=env.get("BUILD_SOURCEVERSION") or None,
    )


def _gitlab(env: Mapping[str, str]) -> CIFacts:
    source = env.get("CI_PIPELINE_SOURCE") or None
    number = env.get("CI_MERGE_REQUEST_IID") or env.get("CI_EXTERNAL_PULL_REQUEST_IID") or None
    is_pr = source in PULL_REQUEST_EVENTS["gitlab"] or number is not None
    if env.get("CI_COMMIT_TAG"):
        ref: str | None = f"refs/tags/{env['CI_COMMIT_TAG']}"
    elif env.get("CI_COMMIT_BRANCH"):
        ref = f"refs/heads/{env['CI_COMMIT_BRANCH']}"
    elif number is not None:
        ref = f"refs/merge-requests/{number}/head"
    else:
        ref = None
    return CIFacts(
        provider="gitlab",
        run_id=env.get("CI_PIPELINE_ID") or None,
        run_url=env.get("CI_PIPELINE_URL") or None,
        event=source,
        pull_request=number,
        is_pull_request=is_pr,
        ref=ref,
        commit=env.get("CI_COMMIT_SHA") or None,
        default_branch=env.get("CI_DEFAULT_BRANCH") or None,
    )


# --------------------------------------------------------------------------- git


def git_facts(cwd: Path, extra_output: Sequence[str] = ()) -> GitFacts:
    """Facts about the repository holding ``cwd``; empty facts outside a repository.

    Three git commands (every run asks twice, before the cells and for the gate): the
    root, HEAD and its branch in one, then the status and origin's default branch."""
    head = _root_and_head(cwd)
    if head is None:
        return GitFacts()
    root, commit, ref = head
    status = git_output(["status", "--porcelain=v1", "-z", "--untracked-files=normal"], root)
    relative_extra = [_relative_to(root, Path(item)) for item in extra_output]
    paths = (
        dirty_paths(status, [item for item in relative_extra if item])
        if status is not None
        else ["(git status failed)"]
    )
    origin_head = git_output(["symbolic-ref", "-q", "refs/remotes/origin/HEAD"], root)
    default_branch = None
    if origin_head and origin_head.strip().startswith("refs/remotes/origin/"):
        default_branch = origin_head.strip()[len("refs/remotes/origin/") :]
    return GitFacts(
        commit=commit,
        dirty=bool(paths),
        dirty_paths=tuple(paths[:10]),
        ref=ref,
        default_branch=default_branch,
        toplevel=str(root),
    )


def _root_and_head(cwd: Path) -> tuple[Path, str | None, str | None] | None:
    """The repository's root, HEAD's commit and the branch HEAD is on (None when
    detached); None outside a repository. Before the first commit (no commit, the
    branch still named) the one command fails and the two it stands for answer."""
    found = git_output(["rev-parse", "--show-toplevel", "HEAD", "--symbolic-full-name", "HEAD"], cwd)
    lines = found.rstrip("\n").rsplit("\n", 2) if found else []
    if len(lines) == 3:
        toplevel, commit, ref = lines
        return Path(toplevel.strip()), commit.strip(), None if ref.strip() == "HEAD" else ref.strip()
    alone = git_output(["rev-parse", "--show-toplevel"], cwd)
    if alone is None:
        return None
    root = Path(alone.strip())
    head = git_output(["rev-parse", "--verify", "-q", "HEAD"], root)
    branch = git_output(["symbolic-ref", "-q", "HEAD"], root)
    return root, head.strip() if head else None, branch.strip() if branch else None


def holds_tracked_files(cwd: Path, path: str) -> bool:
    """``path`` is, or holds, a file git tracks (True too when git cannot tell)."""
    listed = git_output(["ls-files", "-z", "--", path], cwd)
    return listed is None or bool(listed)


def local_branch_exists(cwd: Path, name: str) -> bool:
    return git_output(["rev-parse", "--verify", "-q", f"refs/heads/{name}"], cwd) is not None


def _relative_to(root: Path, path: Path) -> str | None:
    """``path`` relative to ``root`` with ``/``, or None when it is outside."""
    try:
        resolved = path.resolve()
        return resolved.relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return None


# --------------------------------------------------------------------------- tools


def tool_versions() -> dict[str, str]:
    """Versions of this tool, Python and the test tools installed beside it."""
    versions = {"pytest-pipeline-gate": __version__, "python": platform.python_version()}
    for name in _TOOL_DISTRIBUTIONS:
        version = installed.version(name)
        if version is not None:
            versions[name] = version
    return versions


def gather(cwd: Path, env: Mapping[str, str], extra_output: Sequence[str] = ()) -> Provenance:
    ci = ci_facts(env)
    return Provenance(
        git=git_facts(cwd, extra_output),
        ci=ci,
        in_ci=ci is not None or truthy(env.get("CI")),
        tools=tool_versions(),
    )
