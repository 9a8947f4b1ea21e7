"""``status`` output from given records: verdict, commit, HEAD moved, cells, last open gate."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from pytest_pipeline.gate import history
from pytest_pipeline.report.status import Status, describe_counts, render_text, to_json
from pytest_pipeline.run_record import CellRecord, CellStatus, RunRecord

NOW = dt.datetime(2026, 11, 22, 12, 0, 0, tzinfo=dt.timezone.utc)
OLD = "a" * 40
NEW = "b" * 40


def gate(
    code: int, commit: str = NEW, finished: str = "2026-11-22T11:00:00Z", **extra: Any
) -> dict[str, Any]:
    return {
        "verdict": "open" if code == 0 else "closed",
        "code": code,
        "headline": "GATE OPEN (0)" if code == 0 else f"GATE CLOSED ({code}): 1 failed in 1 cell",
        "finished": finished,
        "git": {"commit": commit, "branch": "main", "dirty": False},
        "run": {"started": "2026-11-22T10:58:00Z", "finished": "2026-11-22T10:59:00Z"},
        "cells": [{"name": "py312", "status": "failed" if code else "passed"}],
        "counts": {
            "total": {"tests": 3, "passed": 2, "failed": 1},
            "cells": {"py312": {"tests": 3, "passed": 2, "failed": 1, "blocked": 0, "flaky": 1}},
        },
        **extra,
    }


def run_record() -> RunRecord:
    return RunRecord(
        cells=(
            CellRecord(name="py312", status=CellStatus.FAILED, python="3.12", duration=4.5, exit_code=1),
            CellRecord(name="py313", status=CellStatus.CRASHED, python="3.13", duration=1.0),
        ),
        stages=("unit",),
        started="2026-11-22T10:58:00+00:00",
        finished="2026-11-22T10:59:00+00:00",
    )


def test_history_entry_keeps_what_status_needs() -> None:
    entry = history.entry(
        gate(1, ci={"provider": "github", "run_id": "7", "url": "https://x/7", "event": "push"})
    )
    assert entry == {
        "version": 1,
        "verdict": "closed",
        "code": 1,
        "headline": "GATE CLOSED (1): 1 failed in 1 cell",
        "decided": "2026-11-22T11:00:00Z",
        "run_started": "2026-11-22T10:58:00Z",
        "run_finished": "2026-11-22T10:59:00Z",
        "commit": NEW,
        "branch": "main",
        "dirty": False,
        "counts": {"tests": 3, "passed": 2, "failed": 1},
        "cells": {"py312": "failed"},
        "ci": {"provider": "github", "run_id": "7", "url": "https://x/7"},
    }


def test_history_entry_of_a_sparse_record() -> None:
    entry = history.entry({"verdict": "open", "code": 0, "git": None, "cells": [{"no": "name"}, "junk"]})
    assert (entry["commit"], entry["cells"], entry["counts"]) == (None, {}, {})
    assert "ci" not in entry


def test_last_open_is_the_most_recent_open_verdict() -> None:
    entries = [history.entry(gate(0, OLD)), history.entry(gate(0, "c" * 40)), history.entry(gate(1))]
    assert history.last_open(entries) is entries[1]
    assert history.last_open([history.entry(gate(1))]) is None
    assert history.last_open([{"verdict": "open", "code": 5}]) is None


def test_closed_gate_with_head_moved_and_an_older_open_gate() -> None:
    status = Status(
        reports=Path("pipeline-reports"),
        gate=gate(1),
        run=run_record(),
        entries=[history.entry(gate(0, OLD, finished="2026-11-21T09:00:00Z")), history.entry(gate(1))],
        head="c" * 40,
    )
    text = render_text(status, now=NOW)
    assert text.splitlines()[0] == "GATE CLOSED (1): 1 failed in 1 cell"
    assert (
        f"  commit  {NEW[:12]} on main, clean tree "
        f"(HEAD is now {'c' * 12}: these results are of another commit)" in text
    )
    assert "  gate    decided 2026-11-22 11:00:00 UTC (1 hour ago)" in text
    assert "  run     2026-11-22 10:58:00 UTC (1 hour ago)" in text
    assert "  cells   2: 1 failed, 1 crashed" in text
    assert "  py312  failed   1 failed, 2 passed (1 flaky)  4.50s" in text
    assert "  py313  crashed  no results" in text
    assert text.endswith(
        f"last open gate: {OLD[:12]} on main, decided 2026-11-21 09:00:00 UTC (1 day ago) (1 verdict ago)\n"
    )
    assert status.code == 1


def test_open_gate_is_its_own_last_open_gate() -> None:
    status = Status(reports=Path("r"), gate=gate(0), entries=[history.entry(gate(0))], head=NEW)
    text = render_text(status, now=NOW)
    assert "HEAD is now" not in text
    assert text.rstrip().endswith("(the verdict above)")
    data = to_json(status)
    assert (data["code"], data["verdict"], data["head_matches"]) == (0, "open", True)
    assert data["last_open"]["commit"] == NEW
    # Without a run record the cells come from the gate file.
    assert data["cells"] == [
        {
            "name": "py312",
            "status": "passed",
            "python": None,
            "factors": {},
            "duration": None,
            "exit_code": None,
            "counts": {"tests": 3, "passed": 2, "failed": 1, "blocked": 0, "flaky": 1},
            "reused_from": None,
        }
    ]


def test_no_history_says_where_it_looked() -> None:
    status = Status(reports=Path("r"), gate=gate(1), entries=[history.entry(gate(1))])
    assert (
        render_text(status, now=NOW)
        .rstrip()
        .endswith("last open gate: none in r/history.jsonl (1 verdict recorded)")
    )


def test_without_verdict_the_code_is_incomplete() -> None:
    status = Status(reports=Path("r"), run=run_record(), problems=["r/gate.json: is not JSON"])
    text = render_text(status, now=NOW)
    assert text.startswith("no verdict: r/gate.json is missing or unreadable\n")
    assert "problem: r/gate.json: is not JSON" in text
    assert status.code == 3
    data = to_json(status)
    assert (data["verdict"], data["code"], data["commit"], data["head_matches"]) == (None, 3, None, None)
    assert [cell["name"] for cell in data["cells"]] == ["py312", "py313"]
    assert data["run"] == {
        "started": "2026-11-22T10:58:00+00:00",
        "finished": "2026-11-22T10:59:00+00:00",
        "interrupted": False,
    }


def test_an_unfinished_run_shows_what_the_history_has() -> None:
    entries = [history.entry(gate(0, commit=OLD)), history.entry(gate(1))]
    status = Status(reports=Path("r"), entries=entries, unfinished=True)
    lines = render_text(status, now=NOW).splitlines()
    assert lines[0] == (
        "no verdict: the last run in r did not finish (no gate.json or run.json: it was killed, "
        "or is still running)"
    )
    assert lines[1] == (
        f"  last recorded verdict: GATE CLOSED (1): 1 failed in 1 cell ({NEW[:12]} on main, "
        "decided 2026-11-22 11:00:00 UTC (1 hour ago))"
    )
    assert lines[-1].startswith(f"last open gate: {OLD[:12]} on main")
    assert status.code == 3
    assert to_json(status)["last_recorded"] == entries[-1]


def test_describe_counts() -> None:
    assert describe_counts(None) == "no results"
    assert describe_counts({"tests": 0}) == "no tests"
    assert describe_counts({"errors": 2, "blocked": 1, "skipped": 3}) == "2 errors, 1 blocked, 3 skipped"


def test_status_tells_what_the_result_store_holds(tmp_path: Path) -> None:
    from pytest_pipeline.runner import reuse

    cell_dir = tmp_path / "cell"
    cell_dir.mkdir()
    (cell_dir / "junit.xml").write_text("<testsuites/>")
    origin = {"run": "R1", "finished": "2026-11-22T10:59:00+00:00", "commit": NEW}
    for key, name, state in (("k1", "py312", "passed"), ("k2", "py312", "failed"), ("k3", "py313", "passed")):
        record = {"name": name, "status": state}
        inputs = reuse.Inputs("tool", None, key, (), {}, {}, (), ())
        assert reuse.save(tmp_path, inputs, record=record, origin=origin, cell_dir=cell_dir)
    damaged = reuse.Inputs("tool", None, "k3", (), {}, {}, (), ()).key()
    (reuse.store_dir(tmp_path) / damaged / reuse.RESULT).write_text("{half")
    store = reuse.contents(tmp_path)
    assert (store.entries, store.damaged) == (3, 1)
    assert store.cells == {"py312": {"failed": 1, "passed": 1}}
    status = Status(reports=tmp_path / "pipeline-reports", gate=gate(0), store=store)
    text = render_text(status, now=NOW)
    assert "stored results: 3 (0.0 MiB of 200 MiB) in " in text
    assert "  py312  1 failed, 1 passed" in text
    assert "  1 damaged (ignored" in text
    assert to_json(status)["store"]["cells"] == {"py312": {"failed": 1, "passed": 1}}
    empty = Status(reports=tmp_path, gate=gate(0), store=reuse.contents(tmp_path / "elsewhere"))
    assert "stored results: none in " in render_text(empty, now=NOW)


def test_a_reused_cell_says_so_in_the_cells_table() -> None:
    origin = {"run": "R1", "finished": "2026-11-22T10:59:00+00:00", "commit": NEW}
    record = RunRecord(cells=(CellRecord(name="py312", status=CellStatus.PASSED, reused_from=origin),))
    text = render_text(Status(reports=Path("r"), gate=gate(0), run=record), now=NOW)
    assert "py312  passed (reused)" in text
    assert to_json(Status(reports=Path("r"), gate=gate(0), run=record))["cells"][0]["reused_from"] == origin


@pytest.mark.parametrize("duration", [0.5, 4.5, 12.345, 754.0])
def test_a_cell_s_time_reads_as_in_the_run_s_table(duration: float) -> None:
    """``status`` shows run.json's cells as the end of ``run`` showed them."""
    from pytest_pipeline.runner.summary import rows

    cell = CellRecord(name="py312", status=CellStatus.PASSED, python="3.12", duration=duration)
    record = RunRecord(cells=(cell,), stages=("unit",))
    run_table_time = rows([cell], None, ("unit",))[1][-1]
    text = render_text(Status(reports=Path("r"), run=record), now=NOW)
    (line,) = [line for line in text.splitlines() if line.startswith("  py312")]
    assert line.endswith(f"  {run_table_time}")
