"""The in-cell filter of ``rerun --failed``, in real pytest runs with the stage plugin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

TESTS = """
import pytest

def test_ok():
    pass

@pytest.mark.parametrize("value", ["a[1]", "b::c"])
def test_param(value):
    pass

def test_fails():
    assert False, "still broken"

@pytest.mark.integration
def test_later():
    pass

@pytest.mark.integration
def test_later_too():
    pass
"""
FAILING = "test_cells.py::test_fails"
LATER = "test_cells.py::test_later"


def selection(pytester: pytest.Pytester, cells: dict[str, list[str]]) -> str:
    path = pytester.path / "selection.json"
    path.write_text(json.dumps({"version": 1, "cells": cells}))
    return f"--pipeline-rerun={path}"


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makepyfile(test_cells=TESTS)
    monkeypatch.setenv("PYTEST_PIPELINE_CELL", "py312")
    return pytester


def test_only_the_cells_tests_run_and_blocking_still_works(project: pytest.Pytester) -> None:
    option = selection(project, {"py312": [FAILING, LATER], "py310": ["test_cells.py::test_ok"]})
    result = project.runpytest("-p", "pytest_pipeline.plugin.rerun_filter", option, "-v", "-p", "no:randomly")
    result.stdout.fnmatch_lines(
        [
            "pytest-pipeline rerun: re-running the 2 tests that failed or were blocked",
            "*test_cells.py::test_fails FAILED*",
            "*test_cells.py::test_later BLOCKED*",
        ]
    )
    outcomes = result.parseoutcomes()
    assert (outcomes["failed"], outcomes["blocked"], outcomes["deselected"]) == (1, 1, 4)
    assert "passed" not in outcomes


def test_parametrized_node_ids_match_exactly(project: pytest.Pytester) -> None:
    option = selection(project, {"py312": ["test_cells.py::test_param[b::c]"]})
    result = project.runpytest("-p", "pytest_pipeline.plugin.rerun_filter", option, "-v")
    result.stdout.fnmatch_lines(["*test_param?b::c? PASSED*"])
    assert result.parseoutcomes() == {"passed": 1, "deselected": 5}


def test_a_cell_not_in_the_file_runs_whole(project: pytest.Pytester) -> None:
    option = selection(project, {"py310": [FAILING]})
    result = project.runpytest("-p", "pytest_pipeline.plugin.rerun_filter", option, "--no-stage-block")
    assert result.parseoutcomes() == {"passed": 5, "failed": 1}
    assert "pytest-pipeline rerun" not in result.stdout.str()


def test_a_test_that_is_gone_makes_the_whole_cell_run(project: pytest.Pytester) -> None:
    option = selection(project, {"py312": [FAILING, "test_cells.py::test_renamed"]})
    result = project.runpytest("-p", "pytest_pipeline.plugin.rerun_filter", option, "--no-stage-block")
    result.stdout.fnmatch_lines(
        [
            "pytest-pipeline rerun: 1 of the 2 tests to re-run are not collected any more "
            "(first: test_cells.py::test_renamed); running every test of the cell"
        ]
    )
    assert result.parseoutcomes() == {"passed": 5, "failed": 1}


def test_without_the_option_nothing_changes(project: pytest.Pytester) -> None:
    result = project.runpytest("-p", "pytest_pipeline.plugin.rerun_filter", "--no-stage-block")
    assert result.parseoutcomes() == {"passed": 5, "failed": 1}


def test_unreadable_selection_is_a_usage_error(project: pytest.Pytester) -> None:
    missing = Path(project.path / "nope.json")
    result = project.runpytest("-p", "pytest_pipeline.plugin.rerun_filter", f"--pipeline-rerun={missing}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--pipeline-rerun {missing}: cannot be read*"])


def test_xdist_workers_keep_the_same_tests(project: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    option = selection(project, {"py312": [FAILING, LATER, "test_cells.py::test_ok"]})
    result = project.runpytest_subprocess("-p", "pytest_pipeline.plugin.rerun_filter", option, "-n", "2")
    outcomes = result.parseoutcomes()
    assert (outcomes["passed"], outcomes["failed"], outcomes["blocked"]) == (1, 1, 1)
