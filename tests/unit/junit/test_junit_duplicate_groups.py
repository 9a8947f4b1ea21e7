"""One input file per (cell, stage): the accumulator refuses a file repeating another's results."""

from __future__ import annotations

import pytest

from pytest_pipeline.junit.pipeline import _Accumulator
from pytest_pipeline.junit.reader import UnreadableInput
from pytest_pipeline.junit.records import EmptySuite, ResultEntry, TestCaseRecord
from pytest_pipeline.results import ResultSummary


def case(cell: str, stage: str = "unit", name: str = "test_a", *, failed: bool = False) -> TestCaseRecord:
    record = TestCaseRecord(cell, stage, "tests.test_mod", name, 0.5)
    if failed:
        record.add_result(ResultEntry("failure", "AssertionError", "boom"))
        record.size = 1
    return record


def read_file(accumulator: _Accumulator, path: str, *items: TestCaseRecord | EmptySuite) -> str | None:
    """Feed one input file's tests the way the pipeline does; its problem, if any."""
    accumulator.begin_file(path)
    try:
        for item in items:
            if isinstance(item, EmptySuite):
                accumulator.empty_suite(item)
            else:
                accumulator.accept(item)
    except UnreadableInput as exc:
        accumulator.rollback()
        return str(exc)
    accumulator.commit()
    return None


def test_a_second_file_for_the_same_cell_and_stage_is_refused_and_counts_nothing() -> None:
    summary = ResultSummary()
    accumulator = _Accumulator(summary, None, 1024)
    assert read_file(accumulator, "cells/py311/junit.xml", case("py311"), case("py311", name="b")) is None
    problem = read_file(
        accumulator, "junit.xml", case("py312"), case("py311", failed=True), case("py311", name="b")
    )
    assert problem == (
        "results for cell 'py311' stage 'unit' already came from cells/py311/junit.xml; "
        "pass either the merged file or the per-cell files, not both"
    )
    # All or nothing: py312, read before the repeated group, is rolled back too.
    assert list(summary.groups) == [("py311", "unit")]
    assert summary.groups[("py311", "unit")].tests == 2
    assert summary.failures == []


def test_other_stages_and_cells_of_later_files_are_fine() -> None:
    summary = ResultSummary()
    accumulator = _Accumulator(summary, None, 1024)
    assert read_file(accumulator, "a.xml", case("py311"), case("py312")) is None
    assert read_file(accumulator, "b.xml", case("py311", "integration"), case("py313")) is None
    assert [counts.tests for counts in summary.groups.values()] == [1, 1, 1, 1]


def test_an_empty_suite_claims_its_group_too() -> None:
    summary = ResultSummary()
    accumulator = _Accumulator(summary, None, 1024)
    assert read_file(accumulator, "a.xml", EmptySuite("py311", "smoke")) is None
    problem = read_file(accumulator, "b.xml", case("py311", "smoke"))
    assert problem is not None
    assert "already came from a.xml" in problem
    assert summary.groups[("py311", "smoke")].tests == 0


def test_a_refused_file_claims_nothing() -> None:
    summary = ResultSummary()
    accumulator = _Accumulator(summary, None, 1024)
    assert read_file(accumulator, "a.xml", case("py311")) is None
    assert read_file(accumulator, "b.xml", case("py312"), case("py311")) is not None
    # py312 was rolled back with b.xml: a third file may give it.
    assert read_file(accumulator, "c.xml", case("py312")) is None
    assert list(summary.groups) == [("py311", "unit"), ("py312", "unit")]


def test_the_callers_default_cell_may_span_files() -> None:
    # `merge --cell linux a.xml b.xml`: the caller says files naming no cell are one cell.
    summary = ResultSummary()
    accumulator = _Accumulator(summary, None, 1024, shared_cell="linux")
    assert read_file(accumulator, "a.xml", case("linux"), case("py311")) is None
    assert read_file(accumulator, "b.xml", case("linux", name="b")) is None
    assert summary.groups[("linux", "unit")].tests == 2
    assert read_file(accumulator, "c.xml", case("py311", name="b")) is not None


def test_groups_may_span_files_when_asked() -> None:
    summary = ResultSummary()
    accumulator = _Accumulator(summary, None, 1024, one_file_per_group=False)
    assert read_file(accumulator, "previous.xml", case("py311")) is None
    assert read_file(accumulator, "rerun.xml", case("py311", name="b")) is None
    assert summary.groups[("py311", "unit")].tests == 2


@pytest.mark.parametrize("first_failed", [False, True])
def test_the_check_does_not_depend_on_the_first_tests_outcome(first_failed: bool) -> None:
    # Passed tests take a shorter path through the accumulator than the others.
    summary = ResultSummary()
    accumulator = _Accumulator(summary, None, 1024)
    assert read_file(accumulator, "a.xml", case("py311")) is None
    assert read_file(accumulator, "b.xml", case("py311", failed=first_failed)) is not None
