"""The in-cell plugin: stages and the JUnit folder from PYTEST_PIPELINE_* variables, so
a project's own ``--junitxml`` or ``PYTEST_ADDOPTS`` cannot lose the cell's results."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_pipeline.plugin import cell as cellplugin

SUITE = """
import pytest

def test_unit(): pass

@pytest.mark.smoke
def test_smoke(): pass
"""

CELL = ("-p", "pytest_pipeline.plugin.cell")


@pytest.fixture
def cell(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    pytester.makepyfile(test_suite=SUITE)
    sessions = pytester.path / "sessions"
    monkeypatch.setenv(cellplugin.JUNIT_DIR_ENV, str(sessions))
    monkeypatch.setenv(cellplugin.STAGES_ENV, "unit")
    monkeypatch.setenv(cellplugin.EVENTS_ENV, str(pytester.path / "events.jsonl"))
    return sessions


def cases(path: Path) -> list[str]:
    return [case.get("name", "") for case in ET.parse(path).getroot().iter("testcase")]


def test_the_cell_s_stages_and_junit_without_any_option(
    pytester: pytest.Pytester, cell: Path, dist: tuple[str, ...]
) -> None:
    result = pytester.runpytest_subprocess(*CELL, *dist)
    result.assert_outcomes(passed=1, deselected=None if dist else 1)
    (written,) = cell.glob("*.xml")
    assert cases(written) == ["test_unit"]
    stages = [prop.get("value") for prop in ET.parse(written).getroot().iter("property")]
    assert "unit" in stages  # our stage regrouping ran on it
    events = [json.loads(line) for line in (pytester.path / "events.jsonl").read_text().splitlines()]
    assert {
        "event": "test",
        "outcome": "passed",
        "stage": "unit",
        "nodeid": "test_suite.py::test_unit",
    } in events


def test_the_project_s_own_junitxml_is_written_and_copied(
    pytester: pytest.Pytester, cell: Path, dist: tuple[str, ...]
) -> None:
    own = pytester.path / "reports" / "their.xml"
    result = pytester.runpytest_subprocess(*CELL, *dist, f"--junitxml={own}")
    result.assert_outcomes(passed=1, deselected=None if dist else 1)
    (copied,) = cell.glob("*.xml")
    assert own.read_bytes() == copied.read_bytes()
    assert cases(copied) == ["test_unit"]


def test_the_command_line_stage_wins(pytester: pytest.Pytester, cell: Path) -> None:
    result = pytester.runpytest_subprocess(*CELL, "--stage=smoke")
    result.assert_outcomes(passed=1, deselected=1)
    (written,) = cell.glob("*.xml")
    assert cases(written) == ["test_smoke"]


def test_a_project_s_pytest_addopts_does_not_lose_the_stages(
    pytester: pytest.Pytester, cell: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_ADDOPTS", "-q")  # what a project's set_env may do
    pytester.runpytest_subprocess(*CELL).assert_outcomes(passed=1, deselected=1)
    assert len(list(cell.glob("*.xml"))) == 1


def test_every_session_leaves_its_own_file(pytester: pytest.Pytester, cell: Path) -> None:
    pytester.runpytest_subprocess(*CELL).assert_outcomes(passed=1, deselected=1)
    pytester.runpytest_subprocess(*CELL, "-k", "unit").assert_outcomes(passed=1, deselected=1)
    assert len(list(cell.glob("*.xml"))) == 2


def test_nothing_without_the_variables(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    pytester.runpytest_subprocess(*CELL).assert_outcomes(passed=2)
    assert not list(pytester.path.rglob("*.xml"))


NESTED = """
import subprocess, sys

def test_runs_pytest_itself(tmp_path):
    (tmp_path / "test_inner.py").write_text("def test_inner(): pass\\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "pytest_pipeline.plugin.cell",
                           str(tmp_path), "-p", "no:cacheprovider"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
"""


def test_a_session_inside_the_cell_s_is_the_project_s_own(
    pytester: pytest.Pytester, cell: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A test that runs pytest (pytester, a subprocess): its session's results are not the
    cell's, and its tests are not deselected by the cell's stages."""
    monkeypatch.setenv(cellplugin.STAGES_ENV, "")
    pytester.makepyfile(test_nested=NESTED)
    pytester.runpytest_subprocess(*CELL, "test_nested.py").assert_outcomes(passed=1)
    (written,) = cell.glob("*.xml")  # one session file: the cell's, not the inner one
    assert cases(written) == ["test_runs_pytest_itself"]
    assert "PYTEST_PIPELINE_ACTIVE" not in __import__("os").environ


SUBTESTS = """
import unittest

class T(unittest.TestCase):
    def test_three_subtests(self):
        for n in range(3):
            with self.subTest(n=n):
                pass

    def test_one_fails(self):
        for n in range(2):
            with self.subTest(n=n):
                self.assertEqual(n, 0)
"""


@pytest.mark.skipif(pytest.version_tuple < (9,), reason="subtests are pytest's own from pytest 9")
def test_the_live_view_counts_subtests_as_pytest_s_summary_does(
    pytester: pytest.Pytester, cell: Path
) -> None:
    # pytest 9 (and pytest-subtests) log a report per subTest besides the test's own;
    # pytest's summary counts each test once and each failed subtest: "1 failed, 2 passed"
    pytester.makepyfile(test_subtests=SUBTESTS)
    result = pytester.runpytest_subprocess(*CELL, "test_subtests.py")
    result.assert_outcomes(passed=2, failed=1)
    events = [json.loads(line) for line in (pytester.path / "events.jsonl").read_text().splitlines()]
    tests = [
        (event["nodeid"].rsplit("::", 1)[-1], event["outcome"])
        for event in events
        if event["event"] == "test"
    ]
    assert sorted(tests) == [
        ("test_one_fails", "failed"),  # its failed subtest
        ("test_one_fails", "passed"),  # the test itself, as pytest counts it
        ("test_three_subtests", "passed"),  # once, not once per subtest
    ]
