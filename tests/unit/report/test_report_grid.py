"""The report's matrix: a mark per stage, the marks of a cell, the grid of cells."""

from __future__ import annotations

import pytest

from pytest_pipeline.report.grid import (
    NO_DEPENDENCIES,
    NO_PYTHON,
    build_grid,
    cell_marks,
    dependency_set,
    stage_mark,
)
from pytest_pipeline.results import Counts
from pytest_pipeline.run_record import CellRecord, CellStatus


def counts(**values: int) -> Counts:
    result = Counts(**values)
    result.tests = sum(values.get(key, 0) for key in ("passed", "failed", "errors", "skipped", "blocked"))
    return result


@pytest.mark.parametrize(
    ("given", "state", "detail"),
    [
        (None, "not-run", "not run"),
        (counts(passed=7), "passed", "7 passed"),
        (counts(passed=3, flaky=1), "flaky", "3 passed, 1 flaky"),
        (counts(failed=1, passed=6), "failed", "1 failed, 6 passed"),
        (counts(errors=1, passed=2), "failed", "1 error, 2 passed"),
        (counts(errors=2), "failed", "2 errors"),
        (counts(blocked=2), "blocked", "2 blocked"),
        (counts(failed=1, blocked=2), "failed", "1 failed, 2 blocked"),
        (counts(skipped=3), "skipped", "3 skipped"),
        (counts(), "empty", "no tests"),
    ],
)
def test_stage_mark_state_and_words(given: Counts | None, state: str, detail: str) -> None:
    mark = stage_mark("unit", given)
    assert (mark.state, mark.detail) == (state, detail)
    assert mark.label == f"unit: {detail}"


def cell(
    name: str, python: str | None = None, status: CellStatus = CellStatus.PASSED, **factors: str
) -> CellRecord:
    return CellRecord(name=name, status=status, python=python, factors=factors)


def test_cell_marks_follow_run_stages_and_skip_stages_the_cell_does_not_run() -> None:
    record = CellRecord(name="a", status=CellStatus.PASSED, stages=("unit", "smoke"))
    groups = {("a", "unit"): counts(passed=1), ("b", "smoke"): counts(failed=1)}
    marks = cell_marks(record, ("unit", "integration", "smoke"), groups)
    assert [(m.stage, m.state) for m in marks] == [("unit", "passed"), ("smoke", "not-run")]


def test_cell_without_stages_gets_every_stage() -> None:
    marks = cell_marks(cell("a"), ("unit", "smoke"), {})
    assert [m.stage for m in marks] == ["unit", "smoke"]


def test_grid_rows_are_interpreters_in_version_order_and_columns_dependency_sets() -> None:
    cells = [
        cell("py312-a", "3.12", attrs="23.2"),
        cell("py39-a", "3.9", attrs="23.2"),
        cell("py310-b", "3.10", attrs="24.2"),
        cell("pypy310-a", "pypy3.10", attrs="23.2"),
        cell("py310-a", "3.10", attrs="23.2"),
    ]
    grid = build_grid(cells)
    assert grid.rows == ("3.9", "3.10", "3.12", "pypy3.10")
    assert grid.columns == ("attrs=23.2", "attrs=24.2")
    assert [c.name for c in grid.slots[("3.10", "attrs=23.2")]] == ["py310-a"]
    assert ("3.9", "attrs=24.2") not in grid.slots
    assert not grid.by_name


def test_grid_slot_holds_every_cell_with_that_interpreter_and_dependency_set() -> None:
    grid = build_grid(
        [cell("tests-3.12", "3.12"), cell("coverage-3.12", "3.12"), cell("nox", None, django="5")]
    )
    assert grid.columns == (NO_DEPENDENCIES, "django=5")
    assert [c.name for c in grid.slots[("3.12", NO_DEPENDENCIES)]] == ["tests-3.12", "coverage-3.12"]
    assert [c.name for c in grid.slots[(NO_PYTHON, "django=5")]] == ["nox"]


def test_grid_falls_back_to_cell_names_when_cells_name_no_interpreter_or_dependencies() -> None:
    grid = build_grid([cell("lint"), cell("docs")])
    assert grid.by_name
    assert grid.rows == ("lint", "docs")


def test_dependency_set_shows_factor_without_version_by_name() -> None:
    assert dependency_set(cell("a", "3.12", django="5.0", cov="")) == "django=5.0, cov"
