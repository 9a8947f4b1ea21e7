"""Progress: one plain line per event when piped or in CI; a live table on a terminal."""

from __future__ import annotations

import io

from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.run_record import CellRecord, CellStatus
from pytest_pipeline.runner import progress

CELLS = [Cell("py310", "tox", "py310"), Cell("py312", "tox", "py312")]


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines() -> None:
    out = io.StringIO()
    board = progress.PlainProgress(CELLS, out)
    board.started("py310")
    board.update("py310", phase="tox")
    board.update("py310", phase="tox")  # no change, no line
    board.update("py310", phase="environment")  # quiet phases
    board.update("py310", phase="commands_pre")
    board.update("py310", phase="waiting for pid 7")
    board.event("py310", {"event": "stage", "stage": "unit"})
    board.event("py310", {"event": "test", "outcome": "passed", "stage": "unit", "nodeid": "t::a"})
    board.event("py310", {"event": "test", "outcome": "failed", "stage": "unit", "nodeid": "t::b"})
    board.event("py310", {"event": "test", "outcome": "blocked", "stage": "smoke", "nodeid": "t::c"})
    board.finished(CellRecord("py310", CellStatus.FAILED, duration=1.25, message="tests failed"))
    lines = [line.split("] ", 1)[1] for line in out.getvalue().splitlines()]
    assert lines == [
        "py310 started",
        "py310 tox",
        "py310 waiting for pid 7",
        "py310 stage unit",
        "py310 FAILED t::b (unit)",
        "py310 failed [1 passed, 1 failed, 1 blocked] - tests failed (1.2s)",
    ]
    view = board.views["py310"]
    assert (view.passed, view.failed, view.blocked, view.stage) == (1, 1, 1, "unit")


def test_choose() -> None:
    assert isinstance(progress.choose(CELLS, io.StringIO(), {}), progress.PlainProgress)
    assert isinstance(progress.choose(CELLS, Tty(), {"CI": "true"}), progress.PlainProgress)
    assert isinstance(progress.choose(CELLS, Tty(), {"TERM": "dumb"}), progress.PlainProgress)
    assert isinstance(progress.choose(CELLS, Tty(), {}), progress.LiveProgress)


def test_live_table_renders_running_and_finished() -> None:
    from rich.console import Console

    board = progress.LiveProgress(CELLS, Tty())
    board.started("py310")
    board.update("py310", phase="environment")
    board.event("py310", {"event": "stage", "stage": "integration"})
    board.event("py310", {"event": "test", "outcome": "blocked", "stage": "smoke", "nodeid": "t::c"})
    board.finished(CellRecord("py312", CellStatus.MISSING_INTERPRETER, message="python 3.12 not found"))
    out = io.StringIO()
    Console(file=out, width=160, no_color=True).print(board.render())
    text = out.getvalue()
    header, row = text.splitlines()[:2]
    assert header.split() == ["cell", "status", "stage", "passed", "failed", "blocked", "skipped", "time"]
    assert row.split()[:4] == ["py310", "running", "integration", "1"]
    assert "missing-interpreter" in text
    board.started("py312")
    board.update("py312", phase="environment")
    out = io.StringIO()
    Console(file=out, width=80, no_color=True).print(board.render())
    assert out.getvalue().splitlines()[2].split()[:3] == ["py312", "running", "(environment)"]


def test_a_quiet_cell_gets_a_line_each_quiet_period_and_what_it_left_one_too() -> None:
    out = io.StringIO()
    board = progress.PlainProgress(CELLS, out)
    board.started("py310")
    board.update("py310", quiet=300.0)
    board.update("py310", quiet=600.0)
    board.update("py310", quiet=None)  # it printed again: no line
    board.note("py310", "ended 1 process left by cell py310")
    board.finished(CellRecord("py310", CellStatus.TIMED_OUT, duration=900.0, message="timed out after 15m"))
    lines = [line.split("] ", 1)[1] for line in out.getvalue().splitlines()]
    assert lines == [
        "py310 started",
        "py310 quiet for 5m: no output",
        "py310 quiet for 10m: no output",
        "py310 ended 1 process left by cell py310",
        "py310 timed-out - timed out after 15m (900.0s)",
    ]


def test_the_live_table_shows_how_long_a_cell_has_been_quiet() -> None:
    from rich.console import Console

    board = progress.LiveProgress(CELLS, Tty())
    board.started("py310")
    board.event("py310", {"event": "stage", "stage": "unit"})
    board.update("py310", quiet=312.0)
    out = io.StringIO()
    Console(file=out, width=160, no_color=True).print(board.render())
    assert out.getvalue().splitlines()[1].split()[:4] == ["py310", "running", "unit,", "quiet"]
    assert "quiet 5m12s" in out.getvalue()
    board.update("py310", quiet=None)
    out = io.StringIO()
    Console(file=out, width=160, no_color=True).print(board.render())
    assert "quiet" not in out.getvalue()
