"""report_to_ci and fold_log with real providers writing to in-memory streams."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from pytest_pipeline.ci import report
from pytest_pipeline.ci.azure import AzurePipelines
from pytest_pipeline.ci.github import GitHubActions
from pytest_pipeline.ci.gitlab import GitLabCI
from pytest_pipeline.errors import PipelineError
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.gate.findings import Reason, ReasonKind
from pytest_pipeline.gate.record import GateRecord
from pytest_pipeline.results import Outcome, ResultSummary, TestRef
from pytest_pipeline.run_record import CellRecord, CellStatus


def closed_by(summary: ResultSummary) -> GateRecord:
    """The gate's verdict on ``summary``: closed by each of its failures."""
    reasons = tuple(
        Reason(ExitCode.TESTS_FAILED, ReasonKind.FAILED, ref.message, ref.cell, ref.stage, ref.test_id)
        for ref in summary.failures
    )
    return GateRecord(verdict="closed", code=ExitCode.TESTS_FAILED, reasons=reasons)


def summary_with(failures: int, flaky: int = 0) -> ResultSummary:
    s = ResultSummary()
    for i in range(failures):
        s.counts("py312", "unit").add(Outcome.FAILED)
        s.failures.append(
            TestRef("py312", "unit", "t", f"test_{i}", Outcome.FAILED, f"boom {i}", "t.py", i + 1)
        )
    for i in range(flaky):
        s.counts("py312", "unit").add(Outcome.PASSED, flaky=True)
        s.flaky.append(TestRef("py312", "unit", "t", f"test_flaky_{i}", Outcome.PASSED, "", attempts=2))
    return s


def test_github_gets_annotations_up_to_its_limit_and_a_summary_page(tmp_path: Path) -> None:
    page = tmp_path / "step-summary.md"
    out = io.StringIO()
    provider = GitHubActions({"GITHUB_STEP_SUMMARY": str(page)}, out)
    summary = summary_with(12, 3)
    done = report.report_to_ci(provider, summary, closed_by(summary))
    lines = out.getvalue().splitlines()
    assert [line.split(" ", 1)[0] for line in lines[:10]] == ["::error"] * 10
    assert lines[10].startswith(
        "::notice::pytest-pipeline: 5 more failed, blocked or flaky tests are not annotated"
    )
    assert len(lines) == 11, "nothing else goes to the log when the summary page exists"
    assert (done.annotations, done.left_out, done.summary, done.junit) == (10, 5, True, False)
    assert page.read_text(encoding="utf-8").startswith("## ❌ pytest-pipeline: gate closed (exit 1)")


def test_flaky_passes_are_warnings_after_the_failures(tmp_path: Path) -> None:
    out = io.StringIO()
    report.report_to_ci(AzurePipelines({"AGENT_TEMPDIRECTORY": str(tmp_path)}, out), summary_with(1, 2), None)
    kinds = re.findall(r"##vso\[task\.logissue type=(\w+)", out.getvalue())
    assert kinds == ["error", "warning", "warning"]


def test_blocked_tests_do_not_crowd_out_another_cells_failure() -> None:
    """Cell A: one failure blocks 12 tests of its later stage; cell B: one failure. B's
    failure is annotated, and the blocked tests fill what is left of GitHub's 10."""
    s = ResultSummary()
    s.failures.append(TestRef("a", "unit", "t", "test_a", Outcome.FAILED, "boom a"))
    for i in range(12):
        blocked = f"blocked by a failure in stage unit ({i})"
        s.failures.append(TestRef("a", "integration", "t", f"test_blocked_{i}", Outcome.BLOCKED, blocked))
    s.failures.append(TestRef("b", "unit", "t", "test_b", Outcome.ERROR, "boom b"))
    s.flaky.append(TestRef("b", "unit", "t", "test_flaky", Outcome.PASSED, "", attempts=2))
    out = io.StringIO()
    shown, left_out = report.annotate(GitHubActions({}, out), s.failures, s.flaky)
    titles = re.findall(r"^::error .*title=(\w+) / \w+%3A t%3A%3A(\w+)::", out.getvalue(), re.MULTILINE)
    assert titles[:2] == [("a", "test_a"), ("b", "test_b")]
    assert [name for _, name in titles[2:]] == [f"test_blocked_{i}" for i in range(8)]
    assert (shown, left_out) == (10, 5)
    assert "::warning" not in out.getvalue(), "the flaky pass comes after every blocked test"


def test_with_the_verdict_only_what_closed_the_gate_is_an_error() -> None:
    closing = TestRef("py312", "unit", "t", "test_closing", Outcome.FAILED, "boom")
    quarantined = TestRef("py312", "unit", "t", "test_quarantined", Outcome.FAILED, "known")
    blocked = TestRef("py312", "smoke", "t", "test_blocked", Outcome.BLOCKED, "blocked by a failure")
    strict_flaky = TestRef("py310", "unit", "t", "test_flaky", Outcome.PASSED, "", attempts=2)
    failed = ExitCode.TESTS_FAILED
    verdict = GateRecord(
        verdict="closed",
        code=failed,
        reasons=(
            Reason(failed, ReasonKind.FAILED, "failed", "py312", "unit", closing.test_id),
            Reason(failed, ReasonKind.BLOCKED, "1 test blocked", "py312", "smoke", None),
            Reason(
                failed,
                ReasonKind.FLAKY,
                "passed only after 2 attempts",
                "py310",
                "unit",
                strict_flaky.test_id,
            ),
        ),
    )

    def levels(verdict: GateRecord | None) -> list[tuple[str, str]]:
        out = io.StringIO()
        report.annotate(
            GitHubActions({}, out), [quarantined, closing, blocked], [strict_flaky], verdict=verdict
        )
        return re.findall(r"^::(\w+) .*%3A%3A(\w+)::", out.getvalue(), re.MULTILINE)

    assert levels(verdict) == [
        ("error", "test_closing"),
        ("error", "test_flaky"),
        ("error", "test_blocked"),
        ("warning", "test_quarantined"),
    ]
    # An open gate: nothing is red.
    assert {level for level, _ in levels(GateRecord(verdict="open", code=ExitCode.OK))} == {"warning"}
    # No verdict at hand: every failure is an error, as before.
    assert levels(None) == [
        ("error", "test_quarantined"),
        ("error", "test_closing"),
        ("error", "test_blocked"),
        ("warning", "test_flaky"),
    ]


def test_azure_publishes_the_junit_file(tmp_path: Path) -> None:
    out = io.StringIO()
    junit = tmp_path / "junit.xml"
    done = report.report_to_ci(
        AzurePipelines({"AGENT_TEMPDIRECTORY": str(tmp_path)}, out), summary_with(0), None, junit=junit
    )
    assert done.junit
    assert f"resultFiles={junit.resolve()}" in out.getvalue()


def test_without_a_summary_page_the_summary_is_folded_into_the_log() -> None:
    out = io.StringIO()
    done = report.report_to_ci(GitLabCI({}, out), summary_with(2), closed_by(summary_with(2)))
    text = out.getvalue()
    assert not done.summary
    assert "section_start:" in text
    assert "pytest-pipeline summary" in text
    assert "## ❌ pytest-pipeline: gate closed (exit 1)" in text
    assert text.rstrip().endswith("\x1b[0K"), "the section is closed"


def test_outside_ci_the_summary_is_printed() -> None:
    out = io.StringIO()
    done = report.report_to_ci(None, summary_with(1), closed_by(summary_with(1)), stream=out)
    assert out.getvalue().startswith("## ❌ pytest-pipeline: gate closed (exit 1)")
    assert done == report.Reported(0, 0, False, False)


def test_fold_log_prints_the_end_of_a_long_log(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    log.write_bytes(b"A" * 100 + b"\nthe failure\n")
    out = io.StringIO()
    report.fold_log(GitHubActions({}, out), "cell py312", log, max_bytes=12)
    assert out.getvalue() == (
        "::group::cell py312\n[... first 101 bytes left out; the whole log is in the reports ...]\n"
        "the failure\n::endgroup::\n"
    )


def test_fold_log_of_a_missing_file_says_so(tmp_path: Path) -> None:
    out = io.StringIO()
    report.fold_log(GitHubActions({}, out), "cell", tmp_path / "nope.txt")
    assert out.getvalue().startswith("::notice::pytest-pipeline: cannot read ")


@pytest.mark.parametrize(
    ("content", "match"), [(None, "no gate file"), ("{", "is not JSON"), ("[1]", "not a JSON object")]
)
def test_read_gate_errors_are_incomplete(tmp_path: Path, content: str | None, match: str) -> None:
    path = tmp_path / "gate.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(PipelineError, match=match) as info:
        report.read_gate(path)
    assert info.value.code == ExitCode.INCOMPLETE


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ('{"version": 2, "verdict": "open", "code": 0}', "gate file version 2 is not supported (expected 1)"),
        ('{"verdict": "open", "code": 0}', "gate file version None is not supported"),
        ('{"version": 1, "verdict": "maybe", "code": 0}', "is not a valid gate file"),
    ],
)
def test_read_gate_checks_the_version_and_the_shape(tmp_path: Path, content: str, match: str) -> None:
    """ci-report reads gate.json as publish does: another version is refused, not guessed at."""
    path = tmp_path / "gate.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PipelineError, match=re.escape(match)) as info:
        report.read_gate(path)
    assert info.value.code == ExitCode.INCOMPLETE


def test_a_file_is_guessed_from_the_classname(tmp_path: Path) -> None:
    (tmp_path / "tests" / "unit").mkdir(parents=True)
    (tmp_path / "tests" / "unit" / "test_greet.py").write_text("", encoding="utf-8")
    in_class = TestRef("c", "unit", "tests.unit.test_greet.TestHello", "test_x", Outcome.FAILED)
    assert report.locate(in_class, tmp_path).file == "tests/unit/test_greet.py"
    unknown = TestRef("c", "unit", "tests.unit.test_gone", "test_x", Outcome.FAILED)
    assert report.locate(unknown, tmp_path).file is None
    given = TestRef("c", "unit", "tests.unit.test_greet", "test_x", Outcome.FAILED, file="elsewhere.py")
    assert report.locate(given, tmp_path).file == "elsewhere.py"
    out = io.StringIO()
    report.annotate(GitHubActions({}, out), [in_class], root=tmp_path)
    assert out.getvalue().startswith("::error file=tests/unit/test_greet.py,title=")


def test_fold_cell_logs_folds_each_log_and_passes_over_cells_without_one(tmp_path: Path) -> None:
    (tmp_path / "cells" / "a").mkdir(parents=True)
    (tmp_path / "cells" / "a" / "log.txt").write_text("a's log\n", encoding="utf-8")
    cells = [
        CellRecord("a", CellStatus.FAILED, log="cells/a/log.txt"),
        CellRecord("b", CellStatus.CANCELLED, log="cells/b/log.txt"),  # never started: no file
        CellRecord("c", CellStatus.MISSING_INTERPRETER),
    ]
    out = io.StringIO()
    assert report.fold_cell_logs(AzurePipelines({}, out), cells, tmp_path) == 1
    assert out.getvalue() == "##[group]log of a (failed)\na's log\n##[endgroup]\n"
