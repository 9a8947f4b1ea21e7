"""--junitxml: one suite per stage, stage/cell properties, typed blocked errors, schema-valid."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_pipeline.plugin.junitxml import RERUN_TYPE
from pytest_pipeline.results import BLOCKED_TYPE, CELL_ENV

SUITE = """
import pytest

attempts = {"count": 0}

def test_unit_ok(): pass

def test_unit_flaky():
    attempts["count"] += 1
    assert attempts["count"] > 1

@pytest.mark.integration
def test_integration_bad(): assert False

@pytest.mark.smoke
def test_smoke_blocked(): pass

@pytest.mark.smoke
def test_smoke_skipped(): pytest.skip("later")
"""

PROJECT = """
[tool.pytest.ini_options]
junit_suite_name = "{suite}"
junit_family = "{family}"
[tool.pytest-pipeline.stage.unit]
retries = 1
"""


def run(pytester: pytest.Pytester, *args: str, family: str = "xunit2", suite: str = "proj") -> ET.Element:
    pytester.makepyprojecttoml(PROJECT.format(suite=suite, family=family))
    pytester.makepyfile(test_all=SUITE)
    result = pytester.runpytest("--junitxml=out/junit.xml", "-W", "error", *args)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.no_fnmatch_line("*warning*")
    return ET.parse(pytester.path / "out" / "junit.xml").getroot()


def props(element: ET.Element | None) -> dict[str | None, str | None]:
    assert element is not None
    return {p.get("name"): p.get("value") for p in element.findall("properties/property")}


def test_one_suite_per_stage_named_after_the_stage(pytester: pytest.Pytester) -> None:
    root = run(pytester)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["proj: unit", "proj: integration", "proj: smoke"]
    assert [props(s) for s in suites] == [{"stage": "unit"}, {"stage": "integration"}, {"stage": "smoke"}]
    counts = [(s.get("tests"), s.get("failures"), s.get("errors"), s.get("skipped")) for s in suites]
    # smoke: one blocked (error); the skipped one was blocked too, since blocking comes first
    assert counts == [("2", "0", "0", "0"), ("1", "1", "0", "0"), ("2", "0", "2", "0")]
    assert [c.get("name") for c in suites[0].findall("testcase")] == ["test_unit_ok", "test_unit_flaky"]


def test_blocked_errors_are_typed_and_flaky_attempts_recorded(pytester: pytest.Pytester) -> None:
    root = run(pytester)
    error = root.find(".//testcase[@name='test_smoke_blocked']/error")
    assert error is not None
    assert error.get("type") == BLOCKED_TYPE
    assert error.get("message") == "blocked by a failure in stage integration"
    flaky = root.findall(".//testcase[@name='test_unit_flaky']/flakyFailure")
    assert [f.get("type") for f in flaky] == [RERUN_TYPE]


def test_selection_names_only_selected_stages_and_cell_property(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CELL_ENV, "py311-linux")
    root = run(pytester, "--stage=integration,smoke")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["proj: integration", "proj: smoke"]
    assert props(suites[0]) == {"stage": "integration", "cell": "py311-linux"}
    assert root.findall(".//testcase/properties") == []


def test_xunit2_output_validates_against_pytests_schema(
    pytester: pytest.Pytester, junit_schema: Path
) -> None:
    xmlschema = pytest.importorskip("xmlschema")
    run(pytester)
    xmlschema.XMLSchema(str(junit_schema)).validate(str(pytester.path / "out" / "junit.xml"))


@pytest.mark.parametrize("family", ["xunit1", "legacy"])
def test_xunit1_gets_a_stage_property_per_testcase(pytester: pytest.Pytester, family: str) -> None:
    root = run(pytester, family=family)
    assert props(root.find(".//testcase[@name='test_unit_ok']")) == {"stage": "unit"}
    assert props(root.find(".//testcase[@name='test_smoke_skipped']")) == {"stage": "smoke"}


def test_collection_error_lands_in_its_path_stage(pytester: pytest.Pytester) -> None:
    broken = pytester.path / "tests" / "smoke" / "test_broken.py"
    broken.parent.mkdir(parents=True)
    broken.write_text("import no_such_module\n")
    pytester.makepyfile(test_fine="def test_fine(): pass\n")
    result = pytester.runpytest("--junitxml=junit.xml")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    root = ET.parse(pytester.path / "junit.xml").getroot()
    smoke = root.find("testsuite[@name='pytest: smoke']")
    assert smoke is not None
    assert (smoke.get("tests"), smoke.get("errors")) == ("1", "1")
