"""How the last run ran its cells (pytest arguments, backend, installer): kept in run.json,
kept through a re-run, and what the re-run gives its cells."""

from __future__ import annotations

import json

from pytest_pipeline.commands.rerun import choose_pytest_args
from pytest_pipeline.rerun.combine import combined_record
from pytest_pipeline.run_record import CellRecord, CellStatus, RunRecord


def test_run_record_keeps_how_the_cells_ran() -> None:
    bare = RunRecord(cells=()).to_dict()
    assert not {"pytest_args", "backend", "installer"} & set(bare)  # older readers see the same file
    full = RunRecord(cells=(), pytest_args=("-k", "a b", "-x"), backend="tox", installer="pip")
    data = json.loads(json.dumps(full.to_dict()))
    assert (data["pytest_args"], data["backend"], data["installer"]) == (["-k", "a b", "-x"], "tox", "pip")
    assert RunRecord.from_dict(data) == full
    assert RunRecord.from_dict(bare) == RunRecord(cells=())


def test_a_combined_record_keeps_the_last_runs_way_not_the_re_runs() -> None:
    old = RunRecord(
        cells=(CellRecord("a", CellStatus.PASSED), CellRecord("b", CellStatus.FAILED)),
        pytest_args=("-k", "smoke"),
        backend="auto",
        installer="uv",
    )
    fixed = CellRecord("b", CellStatus.PASSED)
    new = RunRecord(cells=(fixed,), pytest_args=("-p", "filter", "--pipeline-rerun=x", "-k", "smoke"))
    combined = combined_record(old, new, {"b": fixed})
    assert [cell.status for cell in combined.cells] == [CellStatus.PASSED, CellStatus.PASSED]
    assert (combined.pytest_args, combined.backend, combined.installer) == (("-k", "smoke"), "auto", "uv")


def test_choose_pytest_args() -> None:
    record = RunRecord(cells=(), pytest_args=("-k", "smoke"))
    assert choose_pytest_args(record, (), forget=False) == ("-k", "smoke")
    assert choose_pytest_args(record, ("-x",), forget=False) == ("-x",)
    assert choose_pytest_args(record, (), forget=True) == ()
    assert choose_pytest_args(record, ("-x",), forget=True) == ("-x",)
    assert choose_pytest_args(RunRecord(cells=()), (), forget=False) == ()
