"""One collapsed test -> one ``<testcase>`` element."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pytest_pipeline.junit.collapse import CollapsedTest
from pytest_pipeline.junit.records import ResultEntry, TestCaseRecord
from pytest_pipeline.junit.render import render, render_passed, suite_header
from pytest_pipeline.results import BLOCKED_TYPE, Counts, Outcome

MAX_TEXT = 2000


def record(
    *results: ResultEntry, name: str = "test_a[x]", classname: str = "tests.test_mod"
) -> TestCaseRecord:
    case = TestCaseRecord("py311", "unit", classname, name, 0.25)
    case.results = list(results)
    return case


def parse(text: str) -> ET.Element:
    return ET.fromstring(text)


def test_passed_testcase_shows_the_cell_in_classname_and_name() -> None:
    element = parse(render_passed(record(), MAX_TEXT))
    assert element.attrib == {
        "classname": "py311.tests.test_mod",
        "name": "test_a[x] [py311]",
        "time": "0.250",
    }
    assert list(element) == []


def test_passed_testcase_without_classname_uses_the_cell() -> None:
    element = parse(render_passed(record(classname=""), MAX_TEXT))
    assert element.get("classname") == "py311"


def test_markup_in_names_is_escaped() -> None:
    element = parse(render_passed(record(name='test_<a>&"b"'), MAX_TEXT))
    assert element.get("name") == 'test_<a>&"b" [py311]'


def test_failure_keeps_type_message_and_text() -> None:
    case = record(ResultEntry("failure", "AssertionError", "boom\nassert 0", "def test():\n>  assert 0\n"))
    case.out = "captured <out>"
    element = parse(render(CollapsedTest(case), MAX_TEXT))
    failure = element.find("failure")
    assert failure is not None
    assert failure.attrib == {"type": "AssertionError", "message": "boom\nassert 0"}
    assert failure.text == "def test():\n>  assert 0\n"
    assert element.findtext("system-out") == "captured <out>"


def test_other_outcome_elements_are_folded_into_the_primary_text() -> None:
    case = record(
        ResultEntry("failure", "", "call failed", "call trace"),
        ResultEntry("error", "", 'failed on teardown with "x"', "teardown trace"),
    )
    element = parse(render(CollapsedTest(case), MAX_TEXT))
    assert [child.tag for child in element] == ["failure"]
    text = element.findtext("failure") or ""
    assert "call trace" in text
    assert "teardown trace" in text


def test_blocked_is_an_error_with_the_blocked_type() -> None:
    case = record(ResultEntry("error", "", 'failed on setup with "blocked by a failure in stage unit"', ""))
    test = CollapsedTest(case)
    assert test.outcome is Outcome.BLOCKED
    error = parse(render(test, MAX_TEXT)).find("error")
    assert error is not None
    assert error.get("type") == BLOCKED_TYPE


def test_flaky_pass_writes_flaky_elements_and_failed_reruns_write_rerun_elements() -> None:
    test = CollapsedTest(record(ResultEntry("failure", "", "first", "trace 1")))
    test.add(record())
    element = parse(render(test, MAX_TEXT))
    assert [child.tag for child in element] == ["flakyFailure"]
    assert element[0].findtext("stackTrace") == "trace 1"

    test = CollapsedTest(record())
    test.add(record(ResultEntry("error", "", "final", "")))
    element = parse(render(test, MAX_TEXT))
    assert [child.tag for child in element] == ["error", "rerunFailure"]
    assert element[1].get("type") == "rerun"


def test_long_messages_are_capped() -> None:
    case = record(ResultEntry("failure", "", "m" * 5000, "t" * 5000))
    failure = parse(render(CollapsedTest(case), MAX_TEXT)).find("failure")
    assert failure is not None
    assert len(failure.get("message", "")) < 2100
    assert "characters truncated by pytest-pipeline" in (failure.get("message") or "")


def test_a_single_outcome_s_texts_share_the_budget_only_beyond_it() -> None:
    # single_body() asks share() only when the texts together exceed the budget: at the
    # budget they stay whole, one character more and each is cut to its share.
    def texts(case: TestCaseRecord) -> list[str]:
        element = parse(render(CollapsedTest(case), MAX_TEXT))
        failure = element.find("failure")
        assert failure is not None
        return [failure.get("message") or "", failure.text or "", element.findtext("system-out") or ""]

    at_budget = record(ResultEntry("failure", "", "m" * 500, "t" * 1000))
    at_budget.out = "o" * 500
    assert texts(at_budget) == ["m" * 500, "t" * 1000, "o" * 500]
    over = record(ResultEntry("failure", "", "m" * 500, "t" * 1001))
    over.out = "o" * 500
    message, text, out = texts(over)
    assert (message, out) == ("m" * 500, "o" * 500)
    assert "1 characters truncated by pytest-pipeline" in text


def test_suite_header_counts_blocked_as_errors_and_names_cell_and_stage() -> None:
    counts = Counts(tests=5, passed=1, failed=1, errors=1, skipped=1, blocked=1, flaky=1, time=1.23456)
    element = parse(suite_header("py311", "smoke", counts) + "</testsuite>")
    assert element.attrib == {
        "name": "py311: smoke",
        "tests": "5",
        "failures": "1",
        "errors": "2",
        "skipped": "1",
        "time": "1.235",
    }
    properties = {prop.get("name"): prop.get("value") for prop in element.iter("property")}
    assert properties["cell"] == "py311"
    assert properties["stage"] == "smoke"
    assert properties["pytest-pipeline.flaky"] == "1"
    assert properties["pytest-pipeline.blocked"] == "1"
