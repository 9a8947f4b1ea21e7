"""The report's data: the cells and stages of a report, its slowest cells."""

from __future__ import annotations

from pathlib import Path

from pytest_pipeline.report.model import ReportData
from pytest_pipeline.results import Counts
from pytest_pipeline.run_record import CellRecord, CellStatus, RunRecord


def counts(**values: int) -> Counts:
    result = Counts(**values)
    result.tests = sum(values.get(key, 0) for key in ("passed", "failed", "errors", "skipped", "blocked"))
    return result


def cell(
    name: str, python: str | None = None, status: CellStatus = CellStatus.PASSED, **factors: str
) -> CellRecord:
    return CellRecord(name=name, status=status, python=python, factors=factors)


def test_report_cells_add_cells_known_only_from_results() -> None:
    run = RunRecord(cells=(cell("a", "3.12"),), stages=("unit",))
    data = ReportData(root=Path("r"), title="t", run=run)
    data.groups[("a", "unit")] = counts(passed=1)
    data.groups[("b", "unit")] = counts(failed=1)
    data.groups[("c", "smoke")] = counts(passed=1)
    assert [(c.name, c.status) for c in data.cells] == [
        ("a", CellStatus.PASSED),
        ("b", CellStatus.FAILED),
        ("c", CellStatus.PASSED),
    ]
    assert data.stages == ("unit", "smoke")


def test_report_stages_come_from_the_gate_without_a_run_record() -> None:
    data = ReportData(root=Path("r"), title="t", gate={"required": {"stages": ["unit", "e2e"]}})
    assert data.stages == ("unit", "e2e")


def test_slowest_cells_leave_out_cells_without_a_duration() -> None:
    run = RunRecord(
        cells=(
            CellRecord(name="a", status=CellStatus.PASSED, duration=2.0),
            CellRecord(name="b", status=CellStatus.PASSED, duration=0.0),
            CellRecord(name="c", status=CellStatus.FAILED, duration=5.0),
        )
    )
    data = ReportData(root=Path("r"), title="t", run=run)
    assert [c.name for c in data.slowest_cells()] == ["c", "a"]


def test_report_stages_ignore_a_gate_file_whose_required_is_not_an_object() -> None:
    # gate.json may come from another build; reading it checks its version, not this field
    data = ReportData(root=Path("r"), title="t", gate={"required": ["unit"]})
    assert data.stages == ()
