"""tracebacks.failure_line: the line a test failed on in its own file, from JUnit text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from pytest_pipeline.junit import summarize
from pytest_pipeline.tracebacks import failure_line, own_files

# A helper in the test file fails (the last frame in the file is the helper's assert,
# line 5), a fixture errors (line 11), and a library frame sits below a test (line 18).
TESTS = """\
import pytest
import json

def helper(x):
    assert x == 2

class TestHello:
    def test_bad(self):
        helper(3)

@pytest.fixture
def broken():
    raise RuntimeError("boom")

def test_error(broken):
    pass

def test_library():
    json.loads("{")
"""

EXPECTED = {
    ("tests.unit.test_greet.TestHello", "test_bad"): 5,
    ("tests.unit.test_greet", "test_error"): 13,
    ("tests.unit.test_greet", "test_library"): 19,
}


# --tb=line and --tb=no leave only the error line in the JUnit text: no frame, no line.
@pytest.mark.parametrize("style", ["auto", "long", "short", "native"])
def test_every_traceback_style_of_a_real_pytest_junit_file(pytester: pytest.Pytester, style: str) -> None:
    pytester.makepyfile(**{"tests/unit/test_greet": TESTS})
    junit = pytester.path / "junit.xml"
    pytester.runpytest("-p", "no:cacheprovider", f"--tb={style}", f"--junitxml={junit}")
    found = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        (outcome,) = [child for child in case if child.tag in ("failure", "error")]
        classname, name = case.get("classname", ""), case.get("name", "")
        found[classname, name] = failure_line(outcome.text or "", classname)
    assert found == EXPECTED


def test_the_merge_lists_failures_with_the_line_they_failed_on(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(**{"tests/unit/test_greet": TESTS})
    junit = pytester.path / "junit.xml"
    pytester.runpytest("-p", "no:cacheprovider", f"--junitxml={junit}")
    summary = summarize([junit], default_stage="unit", default_cell="py312")
    assert {(ref.classname, ref.name): ref.line for ref in summary.failures} == EXPECTED


def test_xunit1_file_and_line_name_the_file_and_are_replaced_by_the_failing_line() -> None:
    text = "tests/test_a.py:3: in test_a\n    helper()\nsrc/lib.py:9: in helper\n    raise\nE   ValueError"
    assert failure_line(text, "tests.test_a", "tests/test_a.py") == 3
    assert failure_line(text, "tests.test_a", "tests/other.py") is None


@pytest.mark.parametrize(
    "text",
    [
        "/home/ci/work/tests/unit/test_greet.py:27: AssertionError",  # absolute (another rootdir)
        "./tests/unit/test_greet.py:27: AssertionError",
        "C:\\work\\tests\\unit\\test_greet.py:27: AssertionError",  # Windows
        '  File "D:\\a\\tests\\unit\\test_greet.py", line 27, in test_hello\n    assert x\nAssertionError',
    ],
)
def test_paths_as_other_machines_write_them(text: str) -> None:
    assert failure_line(text, "tests.unit.test_greet") == 27


@pytest.mark.parametrize(
    "text",
    [
        "",
        "assert 1 == 2",  # a message without a traceback
        "tests/unit/test_other.py:4: AssertionError",  # another file
        "    x = 'tests/unit/test_greet.py:4: not a frame'",  # an indented source line
        "E   AssertionError: tests/unit/test_greets.py:4: x",
    ],
)
def test_no_frame_in_the_own_file_gives_no_line(text: str) -> None:
    assert failure_line(text, "tests.unit.test_greet") is None


def test_the_most_specific_module_path_wins() -> None:
    # tests/unit.py would also "match" a classname prefix; the test's own module is longer.
    text = "tests/unit/test_greet.py:8: in test_bad\n    unit.check()\ntests/unit.py:2: AssertionError"
    assert failure_line(text, "tests.unit.test_greet") == 8
    assert own_files("tests.unit.test_greet.TestHello")[:2] == [
        "tests/unit/test_greet/TestHello.py",
        "tests/unit/test_greet.py",
    ]
