"""Reading a reports folder for the report: real JUnit files (merged by the real merger),
a real gate.json, hostile and broken inputs, caps."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from report_builders import HOSTILE_NAME, HOSTILE_TRACE, MATRIX, junit_xml

from pytest_pipeline.errors import PipelineError
from pytest_pipeline.report import model
from pytest_pipeline.report.junit_results import MAX_FAILURES, MAX_TEXT
from pytest_pipeline.results import Outcome
from pytest_pipeline.run_record import CellStatus


def test_collect_reads_run_gate_and_merged_junit(make_reports: Callable[..., Path]) -> None:
    root = make_reports()
    data = model.collect(root)
    assert data.problems == []
    assert data.junit_files == [str(root / "junit.xml")]
    assert data.run is not None
    assert [c.name for c in data.cells] == list(MATRIX)
    assert data.gate is not None
    assert data.gate["code"] == 3
    assert data.stages == ("unit", "integration")
    unit = data.groups[("py312-attrs23", "unit")]
    assert (unit.tests, unit.passed, unit.failed) == (2, 1, 1)
    assert data.groups[("py312-attrs23", "integration")].blocked == 1
    assert ("py312-attrs24", "unit") not in data.groups  # crashed: no results
    [failure] = data.failures
    assert (failure.cell, failure.stage, failure.name, failure.outcome) == (
        "py312-attrs23",
        "unit",
        HOSTILE_NAME,
        Outcome.FAILED,
    )
    assert failure.text == HOSTILE_TRACE
    assert "captured line" in failure.output
    assert [ref.name for ref in data.blocked] == ["test_roundtrip"]
    [flaky] = data.flaky
    assert (flaky.cell, flaky.name, flaky.attempts, flaky.message) == (
        "py310-attrs24",
        "test_warm",
        2,
        "warming up",
    )
    assert [t.test_id for t in data.slowest_tests[:2]] == [
        f"tests.unit.test_page::{HOSTILE_NAME}",
        "tests.unit.test_greet::test_greet",
    ]
    assert [t.time for t in data.slowest_tests] == sorted((t.time for t in data.slowest_tests), reverse=True)
    assert all(t.time > 0 for t in data.slowest_tests)


def test_without_merged_file_the_cells_files_are_read(make_reports: Callable[..., Path]) -> None:
    root = make_reports()
    merged = model.collect(root)
    (root / "junit.xml").unlink()
    data = model.collect(root)
    assert data.junit_files == [str(root / "cells" / name / "junit.xml") for name in list(MATRIX)[:3]]
    assert {k: v.to_dict() for k, v in data.groups.items()} == {
        k: v.to_dict() for k, v in merged.groups.items()
    }
    assert [f.name for f in data.failures] == [f.name for f in merged.failures]


def test_unreadable_cell_file_is_a_problem_and_the_others_still_count(
    make_reports: Callable[..., Path],
) -> None:
    root = make_reports(gate=False)
    (root / "junit.xml").unlink()
    broken = root / "cells" / "py310-attrs23" / "junit.xml"
    broken.write_text(broken.read_text()[:200], encoding="utf-8")  # truncated
    data = model.collect(root)
    assert [p.path for p in data.problems] == ["cells/py310-attrs23/junit.xml"]
    assert "truncated" in data.problems[0].message
    assert not any(cell == "py310-attrs23" for cell, _ in data.groups)
    assert ("py310-attrs24", "unit") in data.groups
    assert data.gate is None


def test_a_cell_file_the_merged_file_left_out_is_a_problem(make_reports: Callable[..., Path]) -> None:
    """The merged junit.xml lists a cell file its merge could not read; the report says so."""
    from pytest_pipeline.junit import merge

    root = make_reports(gate=False)
    broken = root / "cells" / "py310-attrs23" / "junit.xml"
    broken.write_text(broken.read_text()[:200], encoding="utf-8")  # truncated
    cells = sorted((root / "cells").glob("*/junit.xml"))
    merge(cells, root / "junit.xml")
    data = model.collect(root)
    assert [p.path for p in data.problems] == [str(broken)]
    assert data.problems[0].message.startswith("truncated")
    assert data.problems[0].message.endswith("(not merged into junit.xml)")
    assert ("py310-attrs24", "unit") in data.groups


def test_run_record_paths_may_not_leave_the_reports_folder(
    make_reports: Callable[..., Path], tmp_path: Path
) -> None:
    root = make_reports(gate=False)
    (root / "junit.xml").unlink()
    outside = tmp_path / "outside.xml"
    outside.write_text(junit_xml("evil", [("unit", "x", "test_x", 0.1, "failed")]), encoding="utf-8")
    record = json.loads((root / "run.json").read_text())
    record["cells"][0]["junit"] = "../outside.xml"
    (root / "run.json").write_text(json.dumps(record))
    data = model.collect(root)
    assert [p.path for p in data.problems] == ["../outside.xml"]
    assert "leaves" in data.problems[0].message
    assert not any(cell == "evil" for cell, _ in data.groups)


def test_broken_run_record_and_gate_file_are_listed(make_reports: Callable[..., Path]) -> None:
    root = make_reports()
    (root / "run.json").write_text('{"version": 99}')
    (root / "gate.json").write_text("not json")
    data = model.collect(root)
    assert [p.path for p in data.problems] == ["run.json", "gate.json"]
    assert data.run is None
    assert data.gate is None
    # The merged file still says which cells there were, and how they did.
    assert {c.name: c.status for c in data.cells}["py312-attrs23"] is CellStatus.FAILED


def test_nothing_to_report_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match=r"no run\.json, gate\.json or junit\.xml") as info:
        model.collect(tmp_path)
    assert info.value.code == 4


def test_failures_and_texts_are_capped(tmp_path: Path) -> None:
    count = MAX_FAILURES + 5
    cases = [("unit", "tests.test_many", f"test_{i}", 0.0, "failed") for i in range(count)]
    text = junit_xml("c", cases).replace(
        "assert 1 == 2</failure>", "assert 1 == 2\n" + "x" * (3 * MAX_TEXT) + "\nLAST LINE</failure>", 1
    )
    (tmp_path / "junit.xml").write_text(text, encoding="utf-8")
    data = model.collect(tmp_path)
    assert len(data.failures) == MAX_FAILURES
    assert data.failures_omitted == 5
    assert data.groups[("c", "unit")].failed == count
    first = data.failures[0].text
    assert len(first) < MAX_TEXT + 200
    assert first.endswith("LAST LINE")  # the tail, where the error is, survives the cap
    assert "truncated" in first


def test_a_fan_in_folder_of_job_records_is_one_run(make_reports: Callable[..., Path], tmp_path: Path) -> None:
    jobs = tmp_path / "downloads"
    jobs.mkdir()
    for job, cells in (("job-1", dict(list(MATRIX.items())[:2])), ("job-2", dict(list(MATRIX.items())[2:]))):
        make_reports(cells, gate=False, name=f"downloads/{job}")
        (jobs / job / "junit.xml").unlink()  # a job's merged file is not the fan-in's
    record = json.loads((jobs / "job-2" / "run.json").read_text())
    record["cells"][0]["junit"] = "../../escape.xml"
    (jobs / "job-2" / "run.json").write_text(json.dumps(record))
    data = model.collect(jobs)
    assert [c.name for c in data.cells] == list(MATRIX)
    assert data.cells[0].log == "job-1/cells/py310-attrs23/log.txt"
    assert data.cells[2].junit is None
    assert [p.message for p in data.problems] == ["cell py312-attrs23: path leaves job-2; ignored"]
    assert ("py310-attrs24", "unit") in data.groups
    assert not any(cell == "py312-attrs23" for cell, _ in data.groups)
