"""CI facts from each provider's documented variables; what makes a tree dirty."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_pipeline.gate.provenance import CIFacts, ci_facts, truthy
from pytest_pipeline.git import dirty_paths, is_output_path


def test_no_ci() -> None:
    assert ci_facts({}) is None
    assert ci_facts({"CI": "false"}) is None


def test_unknown_ci() -> None:
    assert ci_facts({"CI": "1"}) == CIFacts(provider="unknown")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TRAVIS_PULL_REQUEST", "5"),
        ("CHANGE_ID", "5"),
        ("BITBUCKET_PR_ID", "5"),
        ("CIRCLE_PULL_REQUEST", "https://github.com/o/r/pull/5"),
        ("BUILDKITE_PULL_REQUEST", "5"),
    ],
)
def test_other_cis_pull_requests_are_pull_requests(variable: str, value: str) -> None:
    facts = ci_facts({"CI": "true", variable: value})
    assert facts is not None
    assert facts.is_pull_request
    assert facts.event == f"{variable}={value}"
    # the "not a pull request" values those CIs use
    assert not ci_facts({"CI": "true", variable: "false"}).is_pull_request  # type: ignore[union-attr]


def test_github_push(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"repository": {"default_branch": "trunk"}}))
    facts = ci_facts(
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": "push",
            "GITHUB_REF": "refs/heads/trunk",
            "GITHUB_REF_NAME": "trunk",
            "GITHUB_RUN_ID": "42",
            "GITHUB_RUN_ATTEMPT": "2",
            "GITHUB_REPOSITORY": "acme/greeter",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_SHA": "c" * 40,
            "GITHUB_EVENT_PATH": str(event),
        }
    )
    assert facts is not None
    assert facts.provider == "github"
    assert facts.run_url == "https://github.com/acme/greeter/actions/runs/42/attempts/2"
    assert facts.ref == "refs/heads/trunk"
    assert facts.default_branch == "trunk"
    assert not facts.is_pull_request
    assert facts.commit == "c" * 40


@pytest.mark.parametrize("event", ["pull_request", "pull_request_target"])
def test_github_pull_request(event: str) -> None:
    facts = ci_facts(
        {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event, "GITHUB_REF": "refs/pull/7/merge"}
    )
    assert facts is not None
    assert facts.is_pull_request
    assert facts.pull_request == "7"


def test_github_tag_from_ref_name_only() -> None:
    facts = ci_facts({"GITHUB_ACTIONS": "true", "GITHUB_REF_NAME": "v1.0", "GITHUB_REF_TYPE": "tag"})
    assert facts is not None
    assert facts.ref == "refs/tags/v1.0"


def test_github_unreadable_event_payload_means_unknown_default_branch(tmp_path: Path) -> None:
    (tmp_path / "e.json").write_text("{not json")
    facts = ci_facts({"GITHUB_ACTIONS": "true", "GITHUB_EVENT_PATH": str(tmp_path / "e.json")})
    assert facts is not None
    assert facts.default_branch is None


def test_azure_push_and_pull_request() -> None:
    base = {
        "TF_BUILD": "True",
        "BUILD_BUILDID": "99",
        "SYSTEM_COLLECTIONURI": "https://dev.azure.com/acme/",
        "SYSTEM_TEAMPROJECT": "greeter",
    }
    push = ci_facts({**base, "BUILD_REASON": "IndividualCI", "BUILD_SOURCEBRANCH": "refs/heads/main"})
    assert push is not None
    assert push.provider == "azure"
    assert push.ref == "refs/heads/main"
    assert not push.is_pull_request
    assert push.run_url == "https://dev.azure.com/acme/greeter/_build/results?buildId=99"
    pr = ci_facts({**base, "BUILD_REASON": "PullRequest", "SYSTEM_PULLREQUEST_PULLREQUESTID": "5"})
    assert pr is not None
    assert pr.is_pull_request
    assert pr.pull_request == "5"
    # a GitHub-hosted PR build on Azure says so through the PR variables alone
    pr_by_variable = ci_facts({**base, "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER": "8"})
    assert pr_by_variable is not None
    assert pr_by_variable.is_pull_request


def test_gitlab_branch_tag_and_merge_request() -> None:
    base = {"GITLAB_CI": "true", "CI": "true", "CI_PIPELINE_ID": "7", "CI_DEFAULT_BRANCH": "main"}
    branch = ci_facts({**base, "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main"})
    assert branch is not None
    assert (branch.provider, branch.ref, branch.default_branch) == ("gitlab", "refs/heads/main", "main")
    assert not branch.is_pull_request
    tag = ci_facts({**base, "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_TAG": "v2"})
    assert tag is not None
    assert tag.ref == "refs/tags/v2"
    mr = ci_facts({**base, "CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "12"})
    assert mr is not None
    assert mr.is_pull_request
    assert mr.pull_request == "12"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, False), ("", False), ("0", False), ("False", False), ("1", True), ("true", True)],
)
def test_truthy(value: str | None, expected: bool) -> None:
    assert truthy(value) is expected


@pytest.mark.parametrize(
    ("path", "output"),
    [
        ("dist/", True),
        ("dist/greeter-1.0.tar.gz", True),
        (".tox/", True),
        ("examples/sample-project/.nox/", True),
        ("src/greeter.egg-info/", True),
        (".coverage.host.123", True),
        ("coverage.xml", True),
        ("pipeline-reports/", True),
        ("src/greeter/new_module.py", False),
        ("conftest.py", False),
        ("distribution.py", False),
        # a name a subpackage can have is output only at the top: this one would be packaged
        ("src/greeter/build/__init__.py", False),
        ("src/greeter/dist/", False),
        ("src/greeter/venv/", False),
        ("src/greeter/__pycache__/", True),
        ("build/lib/greeter/__init__.py", True),
    ],
)
def test_untracked_output(path: str, output: bool) -> None:
    assert is_output_path(path, ["pipeline-reports"]) is output


def test_dirty_paths_from_porcelain() -> None:
    porcelain = "\0".join(
        [
            " M src/greeter/__init__.py",
            "R  new_name.py",
            "old_name.py",
            "?? dist/",
            "?? notes.txt",
            "?? pipeline-reports/",
            "",
        ]
    )
    assert dirty_paths(porcelain, ["pipeline-reports"]) == [
        "src/greeter/__init__.py",
        "new_name.py",
        "notes.txt",
    ]
