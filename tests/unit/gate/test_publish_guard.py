"""The publish guard refuses unless everything holds: one row per refusal."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest

from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.gate.findings import Reason, ReasonKind
from pytest_pipeline.gate.gatefile import GateRecord
from pytest_pipeline.gate.provenance import CIFacts, GitFacts
from pytest_pipeline.gate.publish import PublishFacts, PublishRules, check
from pytest_pipeline.gate.record import GateCell
from pytest_pipeline.run_record import Artifact

COMMIT = "a" * 40
OTHER = "b" * 40
WHEEL = Artifact("greeter-1.0-py3-none-any.whl", "1" * 64)
SDIST = Artifact("greeter-1.0.tar.gz", "2" * 64)

GATE = GateRecord(
    path="pipeline-reports/gate.json",
    verdict="open",
    code=ExitCode.OK,
    git=GitFacts(commit=COMMIT, dirty=False),
    ci=None,
    artifacts=(WHEEL, SDIST),
    cells=(GateCell("py310", reported=True),),
)


def failed(cell: str, message: str, code: ExitCode = ExitCode.TESTS_FAILED) -> Reason:
    return Reason(
        code, ReasonKind.FAILED if code is ExitCode.TESTS_FAILED else ReasonKind.CRASHED, message, cell
    )


FACTS = PublishFacts(
    head=COMMIT,
    dirty_paths=(),
    ref="refs/heads/main",
    default_branches=("main",),
    is_pull_request=False,
    pull_request_detail="",
    files=((f"dist/{WHEEL.name}", WHEEL.sha256), (f"dist/{SDIST.name}", SDIST.sha256)),
)


@dataclass
class Row:
    id: str
    text: str
    gate: GateRecord = GATE
    facts: PublishFacts = FACTS
    rules: PublishRules = field(default_factory=PublishRules)


ROWS = [
    Row(
        "closed gate",
        "the gate is closed (code 1): py310: failed (and 1 more)",
        gate=replace(
            GATE,
            verdict="closed",
            code=ExitCode.TESTS_FAILED,
            reasons=(failed("py310", "failed"), failed("py312", "failed")),
        ),
    ),
    Row(
        "stale commit",
        f"stale gate: it tested commit {COMMIT[:12]} but HEAD is {OTHER[:12]}",
        facts=replace(FACTS, head=OTHER),
    ),
    Row("gate without commit", "records no git commit", gate=replace(GATE, git=GitFacts(commit=None))),
    Row("not a git checkout", "not inside a git repository", facts=replace(FACTS, head=None)),
    Row(
        "dirty tree",
        "the working tree is dirty (src/greeter/__init__.py)",
        facts=replace(FACTS, dirty_paths=("src/greeter/__init__.py",)),
    ),
    Row(
        "gate ran on a dirty tree",
        "says the tree was dirty when the gate ran",
        gate=replace(GATE, git=GitFacts(commit=COMMIT, dirty=True)),
    ),
    Row(
        "different artifact",
        f"dist/{WHEEL.name} is not the tested artifact: sha256 333333333333… but the gate tested 1111",
        facts=replace(FACTS, files=((f"dist/{WHEEL.name}", "3" * 64),)),
    ),
    Row(
        "untested artifact",
        "other-2.0.whl was not tested (the gate tested greeter-1.0-py3-none-any.whl, greeter-1.0.tar.gz)",
        facts=replace(FACTS, files=(*FACTS.files, ("dist/other-2.0.whl", "4" * 64))),
    ),
    Row(
        "the tested bytes renamed to another version",
        f"dist/greeter-2.0-py3-none-any.whl has the bytes of the tested {WHEEL.name} but its name says "
        "greeter 2.0; publish the file under its tested name",
        facts=replace(FACTS, files=(("dist/greeter-2.0-py3-none-any.whl", WHEEL.sha256),)),
    ),
    Row(
        "the tested bytes renamed to another project",
        "dist/other-1.0.tar.gz has the bytes of the tested greeter-1.0.tar.gz but its name says other 1.0",
        facts=replace(FACTS, files=(("dist/other-1.0.tar.gz", SDIST.sha256),)),
    ),
    Row(
        "the tested bytes under a name that says no release",
        "upload/renamed.whl has the bytes of the tested greeter-1.0-py3-none-any.whl but its name says "
        "no release",
        facts=replace(FACTS, files=(("upload/renamed.whl", WHEEL.sha256),)),
    ),
    Row(
        "a package whose name is not the release its metadata says",
        "its own metadata says greeter 1.0",
        facts=replace(
            FACTS,
            mislabelled=(
                "dist/greeter-2.0-py3-none-any.whl: its name says greeter 2.0 but its own metadata says "
                "greeter 1.0 (renamed after the build?); use the file under the name it was built with",
            ),
        ),
    ),
    Row(
        "an argument hides what it publishes",
        "`sh -c` runs code given on its command line",
        facts=replace(FACTS, hidden=("`sh -c` runs code given on its command line ('twine upload x/*')",)),
    ),
    Row("no artifact named", "cannot tell what the command publishes", facts=replace(FACTS, files=())),
    Row("gate recorded no artifact", "records no tested artifact", gate=replace(GATE, artifacts=())),
    Row(
        "pull-request build",
        "this is a pull-request build (github pull_request #7)",
        facts=replace(
            FACTS, is_pull_request=True, pull_request_detail="github pull_request #7", ref="refs/pull/7/merge"
        ),
    ),
    Row(
        "gate written by a pull-request build",
        "was written by a pull-request build",
        gate=replace(GATE, ci=CIFacts("github", is_pull_request=True)),
    ),
    Row(
        "feature branch",
        "feature/x may not publish (allowed: main)",
        facts=replace(FACTS, ref="refs/heads/feature/x"),
    ),
    Row("detached HEAD outside CI", "cannot tell which branch this is", facts=replace(FACTS, ref=None)),
    Row(
        "CI that does not say its default branch, and no rule names one",
        "cannot tell the repository's default branch in this CI",
        facts=replace(FACTS, default_branches=()),
    ),
    Row(
        "tag not in publish-branches",
        "v1.0 may not publish (allowed: main)",
        facts=replace(FACTS, ref="refs/tags/v1.0"),
    ),
    Row(
        "branch named like an allowed tag",
        "v1.0 may not publish (allowed: refs/tags/v*)",
        facts=replace(FACTS, ref="refs/heads/v1.0"),
        rules=PublishRules(branches=("refs/tags/v*",)),
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_publish_refused(row: Row) -> None:
    refusals = check(row.gate, row.facts, row.rules)
    assert len(refusals) == 1, refusals
    assert row.text in refusals[0]


def test_everything_in_order_is_allowed() -> None:
    assert check(GATE, FACTS, PublishRules()) == []


@pytest.mark.parametrize(
    "path",
    [
        f"upload/{WHEEL.name}",  # the tested file, copied elsewhere
        "dist/Greeter-1.0-py3-none-any.whl",  # the same release, the name not normalised
        "dist/greeter-1.0-py2.py3-none-any.whl",  # the same release, another tag spelling
    ],
)
def test_the_tested_bytes_under_the_tested_release_are_the_tested_artifact(path: str) -> None:
    facts = replace(FACTS, files=((path, WHEEL.sha256),))
    assert check(GATE, facts, PublishRules()) == []


@pytest.mark.parametrize(
    ("ref", "rules"),
    [
        ("refs/tags/v1.0", PublishRules(branches=("refs/tags/v*",))),
        ("refs/heads/release/1.x", PublishRules(branches=("main", "release/*"))),
        ("refs/heads/master", PublishRules()),
    ],
)
def test_allowed_refs(ref: str, rules: PublishRules) -> None:
    facts = replace(FACTS, ref=ref, default_branches=("main", "master"))
    assert check(GATE, facts, rules) == []


def test_pull_request_allowed_explicitly() -> None:
    facts = replace(
        FACTS,
        is_pull_request=True,
        pull_request_detail="gitlab merge_request_event #3",
        ref="refs/pull/3/head",
    )
    assert check(GATE, facts, PublishRules(allow_pull_request=True)) == []


def test_every_problem_is_listed() -> None:
    gate = replace(
        GATE,
        verdict="closed",
        code=ExitCode.INCOMPLETE,
        reasons=(failed("py312", "crashed", ExitCode.INCOMPLETE),),
    )
    facts = replace(
        FACTS,
        head=OTHER,
        dirty_paths=("x.py",),
        is_pull_request=True,
        pull_request_detail="azure PullRequest",
    )
    refusals = check(gate, facts, PublishRules())
    assert len(refusals) == 4
