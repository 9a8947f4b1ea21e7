"""Regrouping pytest's JUnit file into one suite per stage."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_pipeline.plugin.junitxml import NOT_READY_TYPE, RERUN_TYPE, CaseInfo, case_key, regroup
from pytest_pipeline.results import BLOCKED_TYPE

PYTEST_OUTPUT = """<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">
<testsuite name="pytest" errors="2" failures="1" skipped="1" tests="6" time="1.5" timestamp="T" hostname="h">
<properties><property name="build" value="42"/></properties>
<testcase classname="tests.test_a" name="test_ok" time="0.100"/>
<testcase classname="tests.test_a" name="test_bad" time="0.200">
  <failure message="boom">tb</failure></testcase>
<testcase classname="tests.test_s" name="test_flaky" time="0.100"/>
<testcase classname="tests.test_s" name="test_flaky" time="0.300"/>
<testcase classname="tests.test_s" name="test_skip" time="0.000">
  <skipped message="no" type="pytest.skip">x</skipped></testcase>
<testcase classname="tests.test_s" name="test_blocked" time="0.000">
  <error message="failed on setup with &quot;x&quot;">x</error></testcase>
<testcase classname="pytest" name="internal" time="0.000"><error message="internal error">x</error></testcase>
</testsuite></testsuites>"""

CASES = {
    ("tests.test_a", "test_ok"): CaseInfo("unit", passed=True),
    ("tests.test_a", "test_bad"): CaseInfo("unit"),
    ("tests.test_s", "test_flaky"): CaseInfo("smoke", failed_attempts=["E warming up"], passed=True),
    ("tests.test_s", "test_skip"): CaseInfo("smoke"),
    ("tests.test_s", "test_blocked"): CaseInfo(
        "smoke", error_type=BLOCKED_TYPE, error_message="blocked by a failure in stage unit"
    ),
}


def rewrite(
    tmp_path: Path, *, family: str = "xunit2", cell: str | None = None, walls: dict[str, float] | None = None
) -> ET.Element:
    path = tmp_path / "junit.xml"
    path.write_text(PYTEST_OUTPUT, encoding="utf-8")
    regroup(
        path,
        stages=["unit", "integration", "smoke"],
        cases=CASES,
        suite_name="proj",
        family=family,
        cell=cell,
        wall_times=walls,
    )
    return ET.parse(path).getroot()


def props(element: ET.Element) -> list[tuple[str | None, str | None]]:
    return [(p.get("name"), p.get("value")) for p in element.findall("properties/property")]


def test_one_suite_per_stage_with_counts_and_names(tmp_path: Path) -> None:
    root = rewrite(tmp_path)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["proj: unit", "proj: integration", "proj: smoke", "proj"]
    unit, integration, smoke, rest = suites
    assert {k: unit.get(k) for k in ("tests", "failures", "errors", "skipped", "time")} == {
        "tests": "2",
        "failures": "1",
        "errors": "0",
        "skipped": "0",
        "time": "0.300",
    }
    assert integration.get("tests") == "0"
    assert {k: smoke.get(k) for k in ("tests", "failures", "errors", "skipped", "time")} == {
        "tests": "3",
        "failures": "0",
        "errors": "1",
        "skipped": "1",
        "time": "0.300",
    }
    assert [c.get("name") for c in rest.findall("testcase")] == ["internal"]
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "1", "2")
    assert unit.get("timestamp") == "T"
    assert unit.get("hostname") == "h"


def test_a_stage_s_suite_time_is_its_wall_time_when_known(tmp_path: Path) -> None:
    unit, integration, smoke, _ = rewrite(tmp_path, walls={"unit": 0.125}).findall("testsuite")
    assert unit.get("time") == "0.125"  # what the stage took, not its testcases' sum (0.300)
    assert smoke.get("time") == "0.300"
    assert integration.get("time") == "0.000"


def test_suite_properties_carry_stage_cell_and_global_ones(tmp_path: Path) -> None:
    root = rewrite(tmp_path, cell="py311-linux")
    unit = root.findall("testsuite")[0]
    assert props(unit) == [("build", "42"), ("stage", "unit"), ("cell", "py311-linux")]
    assert ("stage", "unit") not in props(root.findall("testsuite")[-1])
    # xunit2: no per-testcase properties (junit-10.xsd forbids them)
    assert root.findall(".//testcase/properties") == []


def test_blocked_error_is_typed_and_flaky_attempts_are_listed(tmp_path: Path) -> None:
    root = rewrite(tmp_path)
    blocked = root.find(".//testcase[@name='test_blocked']/error")
    assert blocked is not None
    assert (blocked.get("type"), blocked.get("message")) == (
        BLOCKED_TYPE,
        "blocked by a failure in stage unit",
    )
    # pytest's testcase for the retried attempt is gone; the last one carries the attempts
    assert [c.get("time") for c in root.findall(".//testcase[@name='test_flaky']")] == ["0.300"]
    flaky = root.findall(".//testcase[@name='test_flaky']/flakyFailure")
    assert [(f.get("type"), f.get("message")) for f in flaky] == [(RERUN_TYPE, "E warming up")]
    assert NOT_READY_TYPE != BLOCKED_TYPE


def test_final_failure_and_teardown_error_both_stay_after_retries(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    attempt = '<testcase classname="t" name="test_x" time="0.1"/>'
    final = (
        '<testcase classname="t" name="test_x" time="0.1"><failure message="call">tb</failure></testcase>'
        '<testcase classname="t" name="test_x" time="0.1"><error message="teardown">tb</error></testcase>'
    )
    path.write_text(
        f'<testsuites><testsuite name="pytest" tests="4">{attempt * 2}{final}</testsuite></testsuites>'
    )
    info = CaseInfo("unit", failed_attempts=["call boom", "call boom"])
    regroup(path, stages=["unit"], cases={("t", "test_x"): info}, suite_name="p", family="xunit2", cell=None)
    cases = ET.parse(path).getroot().findall(".//testcase")
    assert [[child.tag for child in case] for case in cases] == [
        ["failure", "rerunFailure", "rerunFailure"],
        ["error"],
    ]


def test_xunit1_gets_per_testcase_properties(tmp_path: Path) -> None:
    root = rewrite(tmp_path, family="xunit1", cell="c1")
    case = root.find(".//testcase[@name='test_ok']")
    assert case is not None
    assert props(case) == [("stage", "unit"), ("cell", "c1")]
    assert case[0].tag == "properties"


def test_output_validates_against_pytests_schema(tmp_path: Path, junit_schema: Path) -> None:
    xmlschema = pytest.importorskip("xmlschema")
    rewrite(tmp_path, cell="c1")
    xmlschema.XMLSchema(str(junit_schema)).validate(str(tmp_path / "junit.xml"))


@pytest.mark.parametrize(
    ("nodeid", "prefix", "key"),
    [
        ("tests/unit/test_a.py::test_x", None, ("tests.unit.test_a", "test_x")),
        ("tests/test_a.py::TestC::test_x[1-a]", None, ("tests.test_a.TestC", "test_x[1-a]")),
        ("test_a.py::test_x", "cell1", ("cell1.test_a", "test_x")),
    ],
)
def test_case_key_matches_pytests_naming(nodeid: str, prefix: str | None, key: tuple[str, str]) -> None:
    assert case_key(nodeid, prefix) == key
