"""Every input shape the merger accepts, read from real files."""

from __future__ import annotations

from pathlib import Path

import pytest
from junit_checks import (
    ERROR,
    FAILURE,
    SKIPPED,
    assert_valid,
    junitparser_counts,
    xml_case,
    xml_suite,
    xml_suites,
)

from pytest_pipeline.junit import merge, summarize
from pytest_pipeline.results import Counts, Outcome


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def counts(**values: int) -> Counts:
    result = Counts(**values)
    result.tests = result.passed + result.failed + result.errors + result.skipped + result.blocked
    return result


def without_time(counts: Counts) -> Counts:
    counts.time = 0.0
    return counts


def test_pytest_xunit2_file_outcomes(tmp_path: Path) -> None:
    path = write(
        tmp_path / "py311.xml",
        xml_suites(
            xml_suite(xml_case("a"), xml_case("b", FAILURE), xml_case("c", ERROR), xml_case("d", SKIPPED))
        ),
    )
    summary = summarize([path])
    assert list(summary.groups) == [("py311", "unit")]
    assert without_time(summary.groups["py311", "unit"]) == counts(passed=1, failed=1, errors=1, skipped=1)
    assert [(ref.name, ref.outcome, ref.message) for ref in summary.failures] == [
        ("b", Outcome.FAILED, "AssertionError: boom"),
        ("c", Outcome.ERROR, 'failed on setup with "RuntimeError"'),
    ]
    assert summary.problems == []
    assert summary.files == [str(path)]


def test_a_failure_after_many_skips_still_decides_the_outcome(tmp_path: Path) -> None:
    # More outcome elements than the reader keeps: the failure must not be the one dropped.
    path = write(tmp_path / "py311.xml", xml_suites(xml_suite(xml_case("a", SKIPPED * 8 + FAILURE))))
    summary = summarize([path])
    assert without_time(summary.groups["py311", "unit"]) == counts(failed=1)
    output = tmp_path / "merged.xml"
    merge([path], output)
    assert_valid(output)
    assert "<failure" in output.read_text()


def test_bare_testsuite_root(tmp_path: Path) -> None:
    path = write(tmp_path / "other.xml", xml_suite(xml_case("a"), xml_case("b", FAILURE)))
    assert without_time(summarize([path]).groups["other", "unit"]) == counts(passed=1, failed=1)


def test_suite_properties_give_cell_and_stage(tmp_path: Path) -> None:
    path = write(
        tmp_path / "junit.xml",
        xml_suites(
            xml_suite(xml_case("a"), props={"stage": "unit", "cell": "py312-django"}),
            xml_suite(xml_case("b"), xml_case("c"), props={"stage": "smoke", "cell": "py312-django"}),
        ),
    )
    summary = summarize([path], default_cell="ignored-when-the-file-says")
    assert {key: value.tests for key, value in summary.groups.items()} == {
        ("py312-django", "unit"): 1,
        ("py312-django", "smoke"): 2,
    }


def test_cell_from_default_then_path(tmp_path: Path) -> None:
    report = write(
        tmp_path / "results-py39" / "cells" / "py39" / "junit.xml", xml_suites(xml_suite(xml_case("a")))
    )
    named = write(tmp_path / "downloads" / "py310-lint.xml", xml_suites(xml_suite(xml_case("a"))))
    assert list(summarize([report, named]).groups) == [("py39", "unit"), ("py310-lint", "unit")]
    assert list(summarize([report], default_cell="ci-job-7").groups) == [("ci-job-7", "unit")]


def test_default_stage_applies_without_a_stage_property(tmp_path: Path) -> None:
    path = write(tmp_path / "a.xml", xml_suites(xml_suite(xml_case("a"))))
    assert list(summarize([path], default_stage="integration").groups) == [("a", "integration")]


def test_nested_suites_inherit_and_override_properties(tmp_path: Path) -> None:
    inner = xml_suite(xml_case("deep"), name="inner", props={"stage": "smoke"})
    outer = (
        '<testsuite name="outer" tests="2" failures="0" errors="0">'
        '<properties><property name="cell" value="jvm17"/>'
        '<property name="stage" value="integration"/></properties>'
        f"{xml_case('shallow')}{inner}</testsuite>"
    )
    path = write(tmp_path / "nested.xml", xml_suites(outer))
    summary = summarize([path])
    assert {key: value.tests for key, value in summary.groups.items()} == {
        ("jvm17", "integration"): 1,
        ("jvm17", "smoke"): 1,
    }


def test_xunit1_testcase_properties_and_file_line(tmp_path: Path) -> None:
    body = (
        '<properties><property name="stage" value="smoke"/><property name="cell" value="py313"/></properties>'
        + FAILURE
    )
    case = (
        f'<testcase classname="tests.test_mod" name="test_x" file="tests/test_mod.py" line="41" time="0.1">'
        f"{body}</testcase>"
    )
    path = write(tmp_path / "xunit1.xml", xml_suites(xml_suite(case)))
    summary = summarize([path])
    (ref,) = summary.failures
    assert (ref.cell, ref.stage, ref.file, ref.line) == ("py313", "smoke", "tests/test_mod.py", 41)
    output = tmp_path / "merged.xml"
    merge([path], output)
    assert_valid(output)  # file/line and testcase properties are not in the schema: dropped
    assert "file=" not in output.read_text()


def test_surefire_rerun_and_flaky_elements(tmp_path: Path) -> None:
    flaky = xml_case(
        "flaky",
        '<flakyFailure message="first" type="java.lang.AssertionError"><stackTrace>at A</stackTrace>'
        "<system-out>out 1</system-out></flakyFailure>"
        '<flakyError message="second" type="java.io.IOException"/>',
        classname="com.example.FooTest",
    )
    failed = xml_case(
        "broken",
        '<failure message="final" type="java.lang.AssertionError">at B</failure>'
        '<rerunFailure message="first" type="java.lang.AssertionError"/>',
        classname="com.example.FooTest",
    )
    path = write(
        tmp_path / "TEST-com.example.FooTest.xml", xml_suite(flaky, failed, name="com.example.FooTest")
    )
    summary = summarize([path])
    group = summary.groups["TEST-com.example.FooTest", "unit"]
    assert (group.tests, group.passed, group.failed, group.flaky) == (2, 1, 1, 1)
    assert [(ref.name, ref.attempts) for ref in summary.flaky] == [("flaky", 3)]
    assert [(ref.name, ref.attempts) for ref in summary.failures] == [("broken", 2)]
    output = tmp_path / "merged.xml"
    merge([path], output)
    assert_valid(output)
    text = output.read_text()
    assert "<stackTrace>at A</stackTrace>" in text
    assert '<flakyError type="java.io.IOException" message="second"/>' in text


def test_rerunfailures_attempts_are_one_flaky_test_in_every_count(tmp_path: Path) -> None:
    attempts = [xml_case("test_flaky"), xml_case("test_flaky"), xml_case("test_flaky")]
    path = write(tmp_path / "py311.xml", xml_suites(xml_suite(*attempts, xml_case("test_other"))))
    output = tmp_path / "merged.xml"
    summary = merge([path], output)
    assert without_time(summary.groups["py311", "unit"]) == counts(passed=2, flaky=1)
    _, total = junitparser_counts(output)
    assert total.tests == 2  # never three extra passes


def test_empty_suite_reports_its_group_with_zero_tests(tmp_path: Path) -> None:
    path = write(
        tmp_path / "py311.xml",
        xml_suites(xml_suite(xml_case("a"), props={"stage": "unit"}), xml_suite(props={"stage": "smoke"})),
    )
    output = tmp_path / "merged.xml"
    summary = merge([path], output)
    assert summary.groups["py311", "smoke"] == Counts()
    suites, _ = junitparser_counts(output)
    assert suites["py311: smoke"].tests == 0
    assert_valid(output)


def test_other_tools_layout_jest_style(tmp_path: Path) -> None:
    # jest-junit: <testsuites tests=...> with suites named after files, no properties.
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<testsuites name="jest tests" tests="3" failures="1" errors="0" time="1.2">\n'
        '  <testsuite name="sum.test.js" errors="0" failures="1" skipped="1" timestamp="2024-01-01T00:00:00" '
        'time="1.1" tests="3">\n'
        '    <testcase classname="sum adds" name="sum adds" time="0.002">\n    </testcase>\n'
        '    <testcase classname="sum fails" name="sum fails" time="0.1">\n'
        "      <failure>Error: expect(received).toBe(expected)\n    at Object.toBe</failure>\n"
        "    </testcase>\n"
        '    <testcase classname="sum todo" name="sum todo" time="0">\n      <skipped/>\n    </testcase>\n'
        "  </testsuite>\n</testsuites>\n"
    )
    path = write(tmp_path / "node20" / "junit.xml", text)
    summary = summarize([path])
    assert without_time(summary.groups["node20", "unit"]) == counts(passed=1, failed=1, skipped=1)
    (ref,) = summary.failures
    assert ref.message == "Error: expect(received).toBe(expected)"  # no message attribute: first line


def test_encodings_and_byte_order_marks(tmp_path: Path) -> None:
    text = xml_suites(xml_suite(xml_case("tést_ünïcode")))
    utf16 = tmp_path / "utf16.xml"
    utf16.write_bytes(text.replace('encoding="utf-8"', 'encoding="utf-16"').encode("utf-16"))
    latin = tmp_path / "latin.xml"
    latin.write_bytes(text.replace('encoding="utf-8"', 'encoding="iso-8859-1"').encode("latin-1"))
    bom = tmp_path / "bom.xml"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    # UTF-16 without a byte-order mark, told by its first '<' (little- and big-endian)
    le = tmp_path / "le.xml"
    le.write_bytes(text.split("?>", 1)[1].encode("utf-16-le"))
    be = tmp_path / "be.xml"
    be.write_bytes(text.replace('encoding="utf-8"', 'encoding="utf-16"').encode("utf-16-be"))
    summary = summarize([utf16, latin, bom, le, be])
    assert summary.problems == []
    assert {key[0]: value.tests for key, value in summary.groups.items()} == {
        "utf16": 1,
        "latin": 1,
        "bom": 1,
        "le": 1,
        "be": 1,
    }
    output = tmp_path / "merged.xml"
    merge([utf16], output)
    assert "tést_ünïcode [utf16]" in output.read_text(encoding="utf-8")


def test_times_are_summed_and_written_with_three_decimals(tmp_path: Path) -> None:
    cases = [xml_case("a", time="0.0004"), xml_case("b", time="1,234.5"), xml_case("c", time="nan")]
    path = write(tmp_path / "t.xml", xml_suites(xml_suite(*cases, xml_case("d", time="-3"))))
    output = tmp_path / "merged.xml"
    summary = merge([path], output)
    assert summary.groups["t", "unit"].time == pytest.approx(1234.5004)
    assert 'time="1234.500"' in output.read_text()
    assert_valid(output)
