"""The merge's fast paths give what the general paths give: pytest's attribute layout read
by position, a merge that lists no tests, text escaped without a change to make."""

from __future__ import annotations

from pathlib import Path

import pytest
from junit_checks import FAILURE, SKIPPED, xml_case, xml_suite, xml_suites

from pytest_pipeline.junit import merge, summarize
from pytest_pipeline.junit.render import escape_text

FLAKY_TWICE = xml_case("test_flaky", FAILURE) + xml_case("test_flaky")


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_testcase_reads_the_same_whatever_its_attributes_order(tmp_path: Path) -> None:
    # pytest writes classname, name, time in that order, which the reader takes by
    # position; any other order, or another attribute, goes the general way.
    pytest_layout = _write(
        tmp_path / "a" / "py311" / "junit.xml",
        xml_suites(xml_suite(xml_case("test_a"), xml_case("test_b", SKIPPED, time="1.5"))),
    )
    other_layouts = _write(
        tmp_path / "b" / "py311" / "junit.xml",
        xml_suites(
            xml_suite(
                '<testcase time="0.010" name="test_a" classname="tests.test_mod"/>',
                f'<testcase classname="tests.test_mod" name="test_b" time="1.5" url="x">{SKIPPED}</testcase>',
            )
        ),
    )
    merge([pytest_layout], tmp_path / "a.xml")
    merge([other_layouts], tmp_path / "b.xml")
    assert (tmp_path / "a.xml").read_bytes() == (tmp_path / "b.xml").read_bytes()


def test_a_merge_that_lists_no_tests_counts_and_writes_the_same(tmp_path: Path) -> None:
    failed = xml_suites(xml_suite(xml_case("test_a", FAILURE), FLAKY_TWICE))
    skipped = xml_suites(xml_suite(xml_case("test_a"), xml_case("t", SKIPPED)))
    inputs = [
        _write(tmp_path / "py311" / "junit.xml", failed),
        _write(tmp_path / "py312" / "junit.xml", skipped),
    ]
    listed = merge(inputs, tmp_path / "listed.xml")
    unlisted = merge(inputs, tmp_path / "unlisted.xml", list_tests=False)
    assert (listed.failures, listed.flaky) != ([], [])
    assert (unlisted.failures, unlisted.flaky) == ([], [])
    assert unlisted.groups == listed.groups
    assert unlisted.files == listed.files
    assert (tmp_path / "unlisted.xml").read_bytes() == (tmp_path / "listed.xml").read_bytes()
    assert summarize(inputs).groups == listed.groups


def _escape_text_in_full(value: str) -> str:
    """escape_text() without its shortcut for a text it leaves alone."""
    import re

    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    return re.sub(
        "[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]", lambda m: f"#x{ord(m.group()):02X}", value
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "tests/test_mod.py:3: not here",
        "line one\n\tline two\n",
        "a < b && c > d",
        "windows\r\nline",
        "bell\x07 and form feed\x0c",
        "markup <b> & a bell\x07 together",
        "café ☕ <ok>",
        "lone surrogate \ud800 and \ufffe",
    ],
)
def test_escape_text_is_the_full_escape(text: str) -> None:
    assert escape_text(text) == _escape_text_in_full(text)
