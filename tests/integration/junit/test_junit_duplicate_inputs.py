"""A reports folder holds each cell's file and the merged file made from them: reading the
whole folder must not count every test twice (merge, summarize, the gate, the report)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from junit_checks import FAILURE, SKIPPED, assert_valid, xml_case, xml_suite, xml_suites

from pytest_pipeline import junit
from pytest_pipeline.cli import main
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.gate import inputs as gate_inputs
from pytest_pipeline.report import model
from pytest_pipeline.run_record import CellRecord, CellStatus, RunRecord
from pytest_pipeline.runner.outputs import Reports

CELLS = ("py311", "py312")


def cell_file(cell: str) -> str:
    """What a cell's pytest writes under ``pytest-pipeline run``: stage and cell properties."""
    unit = xml_suite(
        xml_case("test_a"), xml_case("test_b", FAILURE), name="pytest", props={"stage": "unit", "cell": cell}
    )
    smoke = xml_suite(xml_case("test_c", SKIPPED), name="pytest", props={"stage": "smoke", "cell": cell})
    return xml_suites(unit, smoke)


def make_run(root: Path, cells: tuple[str, ...] = CELLS) -> Reports:
    """A reports folder laid out as ``pytest-pipeline run`` leaves it (see runner.outputs)."""
    reports = Reports(root)
    for cell in cells:
        path = reports.junit(cell)
        path.parent.mkdir(parents=True)
        path.write_text(cell_file(cell), encoding="utf-8")
    # As commands.finish.merge_results does it.
    junit.merge([reports.junit(cell) for cell in cells], reports.merged, default_stage="unit")
    status = CellStatus.FAILED
    reports.write_run_record(
        RunRecord(
            cells=tuple(
                CellRecord(name=cell, status=status, exit_code=1, junit=reports.relative(reports.junit(cell)))
                for cell in cells
            ),
            stages=("unit", "smoke"),
        )
    )
    return reports


@pytest.fixture
def reports(tmp_path: Path) -> Reports:
    return make_run(tmp_path / "pipeline-reports")


def test_merging_the_reports_folder_leaves_the_merged_file_out(reports: Reports, tmp_path: Path) -> None:
    output = tmp_path / "merged.xml"
    summary = junit.merge([reports.root], output)
    alone = junit.summarize([reports.junit(cell) for cell in CELLS])
    assert summary.total() == alone.total()
    assert summary.groups == alone.groups
    assert summary.total().tests == 6
    assert [problem.path for problem in summary.problems] == [str(reports.merged)]
    assert summary.problems[0].message == (
        f"results for cell 'py311' stage 'unit' already came from {reports.junit('py311')}; "
        "pass either the merged file or the per-cell files, not both"
    )
    assert_valid(output)
    assert junit.summarize([reports.root]).to_dict() == summary.to_dict()


def test_the_merge_command_exits_3_and_names_both_files(
    reports: Reports, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "merged.xml"
    assert main(["merge", str(reports.root), "-o", str(output)]) == ExitCode.INCOMPLETE
    out, err = capsys.readouterr()
    assert out.startswith("merged 2 of 3 files")
    assert "6 tests in 2 cells, 4 suites" in out
    assert err.splitlines() == [
        f"pytest-pipeline: not merged: {reports.merged}: results for cell 'py311' stage 'unit' already "
        f"came from {reports.junit('py311')}; pass either the merged file or the per-cell files, not both"
    ]


def test_merging_the_folder_into_its_own_merged_file_still_works(
    reports: Reports, capsys: pytest.CaptureFixture[str]
) -> None:
    before = reports.merged.read_bytes()
    assert main(["merge", str(reports.root), "-o", str(reports.merged)]) == ExitCode.OK
    assert "merged 2 of 2 files" in capsys.readouterr().out
    assert reports.merged.read_bytes() == before


def test_merging_merged_files_of_separate_jobs_works_until_they_overlap(tmp_path: Path) -> None:
    downloads = tmp_path / "downloads"
    make_run(downloads / "job-1", ("py311",))
    make_run(downloads / "job-2", ("py312",))
    merged = sorted(downloads.glob("*/junit.xml"))
    summary = junit.merge(merged, tmp_path / "all.xml")
    assert summary.problems == []
    assert summary.cells == ["py311", "py312"]
    assert summary.total().tests == 6
    # The same cell's results downloaded twice (a re-run job uploaded them again).
    make_run(downloads / "job-3", ("py312",))
    summary = junit.summarize(sorted(downloads.glob("*/junit.xml")))
    assert summary.total().tests == 6
    assert [problem.path for problem in summary.problems] == [str(downloads / "job-3" / "junit.xml")]
    assert f"already came from {downloads / 'job-2' / 'junit.xml'}" in summary.problems[0].message


def test_the_gate_reads_its_run_record_and_refuses_an_extra_merged_file(reports: Reports) -> None:
    read = gate_inputs.junit_reader("unit")
    by_record = gate_inputs.load([str(reports.root)], read)
    assert by_record.summary.problems == []
    assert by_record.summary.total().tests == 6
    both = gate_inputs.load([str(reports.root), str(reports.merged)], read)
    assert both.summary.total().tests == 6
    [problem] = both.summary.problems
    assert problem.path == str(reports.merged)
    assert "results for cell 'py311' stage 'unit' already came from" in problem.message


def test_the_gate_refuses_the_merged_file_in_a_folder_without_run_record(reports: Reports) -> None:
    reports.run_record.unlink()
    results = gate_inputs.load([str(reports.root)], gate_inputs.junit_reader("unit"))
    assert results.summary.total().tests == 6
    assert [problem.path for problem in results.summary.problems] == [str(reports.merged)]


def test_the_gate_reads_a_file_named_twice_once(reports: Reports) -> None:
    results = gate_inputs.load([str(reports.merged), str(reports.merged)], gate_inputs.junit_reader("unit"))
    assert results.summary.problems == []
    assert results.summary.total().tests == 6


def test_the_report_of_a_fan_in_folder_counts_a_cell_reported_twice_once(tmp_path: Path) -> None:
    downloads = tmp_path / "downloads"
    make_run(downloads / "job-1", CELLS)
    shutil.copytree(downloads / "job-1", downloads / "job-2")  # the artifact downloaded twice
    for job in ("job-1", "job-2"):
        (downloads / job / "junit.xml").unlink()  # a job's merged file is not the fan-in's
    data = model.collect(downloads)
    assert data.groups[("py311", "unit")].tests == 2
    assert sum(counts.tests for counts in data.groups.values()) == 6
    assert [problem.path for problem in data.problems] == [
        "job-2/cells/py311/junit.xml",
        "job-2/cells/py312/junit.xml",
    ]
    assert "already came from job-1/cells/py311/junit.xml" in data.problems[0].message
