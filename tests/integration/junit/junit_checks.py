"""Helpers for the JUnit merge tests: the schema, and what a consumer (junitparser) reads."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pipeline_testkit import JUNIT_SCHEMA as SCHEMA


@cache
def _schema() -> Any:
    import xmlschema

    return xmlschema.XMLSchema(str(SCHEMA))


def assert_valid(path: Path) -> None:
    """``path`` validates against junit-10.xsd."""
    _schema().validate(str(path))


@dataclass(frozen=True)
class Read:
    """Counts as junitparser reads them (attributes and recounted from the testcases)."""

    tests: int
    failures: int
    errors: int
    skipped: int


def junitparser_counts(path: Path) -> tuple[dict[str, Read], Read]:
    """Per suite name and in total, from the attributes junitparser reads; each checked
    against junitparser's own recount of the testcases (``update_statistics``)."""
    from junitparser import JUnitXml

    xml = JUnitXml.fromfile(str(path))
    suites: dict[str, Read] = {}
    for suite in xml:
        stated = Read(suite.tests, suite.failures, suite.errors, suite.skipped)
        suite.update_statistics()  # type: ignore[no-untyped-call]
        recounted = Read(suite.tests, suite.failures, suite.errors, suite.skipped)
        assert stated == recounted, f"suite {suite.name}: attributes {stated} but testcases say {recounted}"
        suites[suite.name] = stated
    total = Read(xml.tests, xml.failures, xml.errors, sum(read.skipped for read in suites.values()))
    xml.update_statistics()  # type: ignore[no-untyped-call]
    assert (total.tests, total.failures, total.errors) == (xml.tests, xml.failures, xml.errors)
    return suites, total


def xml_suites(*suites: str, name: str = "pytest tests") -> str:
    return f'<?xml version="1.0" encoding="utf-8"?><testsuites name="{name}">{"".join(suites)}</testsuites>'


def xml_suite(*cases: str, name: str = "pytest", props: dict[str, str] | None = None) -> str:
    properties = ""
    if props:
        properties = (
            "<properties>"
            + "".join(f'<property name="{k}" value="{v}"/>' for k, v in props.items())
            + "</properties>"
        )
    return (
        f'<testsuite name="{name}" tests="{len(cases)}" failures="0" errors="0">{properties}'
        f"{''.join(cases)}</testsuite>"
    )


def xml_case(name: str, body: str = "", classname: str = "tests.test_mod", time: str = "0.010") -> str:
    if not body:
        return f'<testcase classname="{classname}" name="{name}" time="{time}"/>'
    return f'<testcase classname="{classname}" name="{name}" time="{time}">{body}</testcase>'


FAILURE = '<failure message="AssertionError: boom">def test():\n&gt;   assert 0\nE   AssertionError</failure>'
ERROR = '<error message="failed on setup with &quot;RuntimeError&quot;">trace</error>'
SKIPPED = '<skipped type="pytest.skip" message="not here">tests/test_mod.py:3: not here</skipped>'
