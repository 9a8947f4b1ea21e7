"""Combining a cell's earlier JUnit file with a re-run's: also a second time, when the earlier
file is itself a combined (merged-format) file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pytest_pipeline import junit
from pytest_pipeline.junit.reader import TestCaseRecord
from pytest_pipeline.rerun.combine import combine_junit, identities, install_cell, status_from
from pytest_pipeline.results import Counts, ResultSummary
from pytest_pipeline.run_record import CellRecord, CellStatus
from pytest_pipeline.runner.outputs import Reports


def pytest_file(path: Path, cases: dict[str, str]) -> Path:
    """A file like the cell's pytest writes it: name -> passed|failed, all in stage unit."""
    body = "".join(
        f'<testcase classname="tests.test_x" name="{name}" time="0.1">'
        + ('<failure message="boom">E   boom</failure>' if outcome == "failed" else "")
        + "</testcase>"
        for name, outcome in cases.items()
    )
    path.write_text(
        '<?xml version="1.0"?><testsuites><testsuite name="pytest: unit"><properties>'
        '<property name="stage" value="unit"/><property name="cell" value="py312"/></properties>'
        f"{body}</testsuite></testsuites>"
    )
    return path


def outcomes(path: Path) -> tuple[int, int, int]:
    total = junit.summarize([path]).total()
    return total.tests, total.passed, total.failed


def test_merge_exclude_leaves_chosen_testcases_of_one_input_out(tmp_path: Path) -> None:
    first = pytest_file(tmp_path / "a.xml", {"t1": "passed", "t2": "failed"})
    second = pytest_file(tmp_path / "b.xml", {"t2": "passed"})

    def drop(path: Path, test: TestCaseRecord) -> bool:
        return path == first and test.name == "t2"

    summary = junit.merge([first, second], tmp_path / "out.xml", exclude=drop)
    assert (summary.total().tests, summary.total().passed) == (2, 2)


def test_two_re_runs_in_a_row(tmp_path: Path) -> None:
    original = pytest_file(tmp_path / "original.xml", {"t1": "passed", "t2": "failed", "t3": "failed"})
    first = pytest_file(tmp_path / "first.xml", {"t2": "passed", "t3": "failed"})
    combined = tmp_path / "combined.xml"
    summary, how = combine_junit(original, first, combined, asked=2, default_stage="unit")
    assert how == "re-ran 2 of its tests"
    assert summary is not None
    assert outcomes(combined) == (3, 2, 1)
    # The combined file names its tests with the cell added (merged format); reading it
    # back gives the original names, so the second re-run replaces t3 and nothing else.
    assert identities(combined, "unit") == {("unit", "tests.test_x", name) for name in ("t1", "t2", "t3")}
    second = pytest_file(tmp_path / "second.xml", {"t3": "passed"})
    again = tmp_path / "again.xml"
    summary, _ = combine_junit(combined, second, again, asked=1, default_stage="unit")
    assert summary is not None
    assert outcomes(again) == (3, 3, 0)
    assert status_from(summary, CellRecord(name="py312", status=CellStatus.PASSED)) is CellStatus.PASSED


def test_unreadable_re_run_report(tmp_path: Path) -> None:
    original = pytest_file(tmp_path / "original.xml", {"t1": "failed"})
    broken = tmp_path / "broken.xml"
    broken.write_text("<testsuites><testsuite>")
    summary, how = combine_junit(original, broken, tmp_path / "out.xml", asked=1, default_stage="unit")
    assert (summary, how) == (None, "its new report is unreadable")
    assert not (tmp_path / "out.xml").exists()


def test_status_from_the_combined_results() -> None:
    bad = ResultSummary(groups={("c", "unit"): Counts(tests=2, passed=1, failed=1)})
    empty = ResultSummary(groups={("c", "unit"): Counts()})
    good = ResultSummary(groups={("c", "unit"): Counts(tests=1, passed=1)})
    ran = CellRecord(name="c", status=CellStatus.PASSED)
    assert status_from(bad, ran) is CellStatus.FAILED
    assert status_from(empty, ran) is CellStatus.NO_TESTS
    assert status_from(good, CellRecord(name="c", status=CellStatus.FAILED)) is CellStatus.PASSED
    assert status_from(good, CellRecord(name="c", status=CellStatus.INTERRUPTED)) is CellStatus.INTERRUPTED


def test_install_cell_keeps_the_old_files_and_writes_the_new_ones_like_any_report(tmp_path: Path) -> None:
    main = Reports(tmp_path / "reports")
    folder = main.cell_dir("py312")
    folder.mkdir(parents=True)
    (folder / "junit.xml").write_text("old junit")
    (folder / "log.txt").write_text("old log")
    staged = tmp_path / "staged"
    staged.mkdir()
    (staged / "junit.xml").write_text("new junit")
    (staged / "log.txt").write_text("new log")
    install_cell(main, staged, "py312")
    assert {p.name: p.read_text() for p in folder.iterdir()} == {
        "junit.xml": "new junit",
        "log.txt": "new log",
        "junit.xml.previous": "old junit",
        "log.txt.previous": "old log",
    }
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE((folder / "junit.xml").stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600
