"""The end-of-run table: cells x stages with counts and times."""

from __future__ import annotations

import io
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_pipeline.results import Counts, ResultSummary
from pytest_pipeline.run_record import CellRecord, CellStatus
from pytest_pipeline.runner.summary import (
    _render_with_rich,
    console_width,
    plain_lines,
    plain_table,
    plain_text_is_rich_text,
    render,
    reused_lines,
    rows,
    stage_text,
)


def test_stage_text() -> None:
    assert stage_text(None) == "-"
    assert stage_text(Counts()) == "-"
    assert stage_text(Counts(tests=5, passed=5, time=0.4)) == "5 passed 0.40s"
    assert stage_text(Counts(tests=5, passed=4, failed=1, time=12.25)) == "1 failed, 4 passed 12.2s"
    assert stage_text(Counts(tests=3, blocked=3)) == "3 blocked"
    assert stage_text(Counts(tests=1, passed=1, flaky=1, time=0.01)) == "1 passed (1 flaky) 0.01s"
    assert stage_text(Counts(tests=2, skipped=2)) == "2 skipped"


def summary() -> ResultSummary:
    result = ResultSummary()
    result.groups[("py310", "unit")] = Counts(tests=7, passed=7, time=0.1)
    result.groups[("py310", "smoke")] = Counts(tests=1, passed=1, flaky=1, time=0.1)
    result.groups[("py312", "unit")] = Counts(tests=7, passed=6, failed=1, time=0.1)
    result.groups[("py312", "smoke")] = Counts(tests=1, blocked=1)
    return result


RECORDS = [
    CellRecord("py310", CellStatus.PASSED, stages=("unit", "integration", "smoke"), duration=1.5),
    CellRecord("py312", CellStatus.FAILED, stages=("unit", "smoke"), duration=2.0),
    CellRecord("py313", CellStatus.MISSING_INTERPRETER, message="python 3.13 not found"),
]


def test_rows() -> None:
    table = rows(RECORDS, summary(), ("unit", "integration", "smoke"))
    assert table[0] == ["cell", "unit", "integration", "smoke", "status", "time"]
    assert table[1] == ["py310", "7 passed 0.10s", "-", "1 passed (1 flaky) 0.10s", "passed", "1.50s"]
    # integration does not run in py312: an empty column, not "-"
    assert table[2] == ["py312", "1 failed, 6 passed 0.10s", "", "1 blocked", "failed", "2.00s"]
    assert table[3] == ["py313", "-", "-", "-", "missing-interpreter", ""]


def test_a_failed_tox_ignore_outcome_cell_says_ignored() -> None:
    ignored = [
        CellRecord("py312", CellStatus.FAILED, stages=("unit",), ignore_outcome=True),
        CellRecord("py310", CellStatus.PASSED, stages=("unit",), ignore_outcome=True),
    ]
    table = rows(ignored, summary(), ("unit",))
    assert [row[-2] for row in table[1:]] == ["failed (ignored)", "passed"]


def test_render_plain_text_with_notes_for_what_junit_cannot_say() -> None:
    out = io.StringIO()
    render(RECORDS, summary(), ("unit", "integration", "smoke"), out, colour=False)
    text = out.getvalue()
    assert "\x1b[" not in text
    assert "1 passed (1 flaky) 0.10s" in text
    assert "py313: missing-interpreter: python 3.13 not found" in text
    assert "py312: failed" not in text  # failures are the gate's to list


ORIGIN = {"run": "R1", "finished": "2026-12-07T08:00:05+00:00", "commit": "0123456789abcdef"}


def test_reused_cells_say_so_in_the_status_and_below_the_table() -> None:
    records = [
        CellRecord("py310", CellStatus.PASSED, stages=("unit",), reused_from=ORIGIN),
        CellRecord("py312", CellStatus.FAILED, stages=("unit",), reused_from=ORIGIN),
        CellRecord("py313", CellStatus.PASSED, stages=("unit",)),
    ]
    table = rows(records, summary(), ("unit",))
    assert [row[-2] for row in table[1:]] == ["passed (reused)", "failed (reused)", "passed"]
    out = io.StringIO()
    render(records, summary(), ("unit",), out, colour=False)
    text = out.getvalue()
    assert "py310, py312: reused from run R1 (2026-12-07T08:00:05+00:00, 0123456789ab)" in text
    assert "pytest-pipeline run --fresh runs every cell" in text


def test_no_reuse_line_when_every_cell_ran() -> None:
    out = io.StringIO()
    render(RECORDS, summary(), ("unit", "integration", "smoke"), out, colour=False)
    assert "reused" not in out.getvalue()


# The plain table is printed without rich when nothing needs it (no colour, no notes):
# it must be rich's own output, character for character.
PLAIN_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="[]\\:"), max_size=14
)


def rich_output(
    table_rows: list[list[str]], records: list[CellRecord], below: list[str] | None = None
) -> str:
    out = io.StringIO()
    _render_with_rich(
        records, table_rows, out, colour=False, below=reused_lines(records) if below is None else below
    )
    return out.getvalue()


@settings(max_examples=300, deadline=None)
@given(
    columns=st.integers(min_value=2, max_value=6),
    texts=st.lists(st.lists(PLAIN_TEXT, min_size=6, max_size=6), min_size=1, max_size=5),
    header=st.lists(PLAIN_TEXT.filter(bool), min_size=6, max_size=6),
)
def test_the_plain_table_is_what_rich_prints(columns: int, texts: list[list[str]], header: list[str]) -> None:
    table_rows = [header[:columns], *(row[:columns] for row in texts)]
    records = [CellRecord(f"cell{index}", CellStatus.PASSED) for index in range(len(texts))]
    assert plain_text_is_rich_text(table_rows, io.StringIO())
    assert plain_table(table_rows) == rich_output(table_rows, records)


def test_a_run_s_table_is_printed_without_rich_when_nothing_needs_it() -> None:
    records = [
        CellRecord("py310", CellStatus.PASSED, stages=("unit", "integration", "smoke"), duration=1.5),
        CellRecord(
            "py312-pytest8@windows-latest", CellStatus.FAILED, stages=("unit", "smoke"), duration=12.0
        ),
        CellRecord("lint", CellStatus.PASSED, ignore_outcome=True),
    ]
    table_rows = rows(records, summary(), ("unit", "integration", "smoke"))
    out = io.StringIO()
    render(records, summary(), ("unit", "integration", "smoke"), out, colour=False)
    assert out.getvalue() == rich_output(table_rows, records)
    probe = (
        "import io, sys\n"
        "from pytest_pipeline.results import ResultSummary\n"
        "from pytest_pipeline.run_record import CellRecord, CellStatus\n"
        "from pytest_pipeline.runner.summary import render\n"
        "origin = {'run': 'R1', 'finished': '2026-12-07T08:00:05+00:00', 'commit': 'abc'}\n"
        "records = [CellRecord('py310', CellStatus.PASSED, reused_from=origin)]\n"
        "render(records, ResultSummary(), ('unit',), io.StringIO(), colour=False)\n"
        "print('rich.console' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout == "False\n"


WORD = st.text(alphabet=st.sampled_from(":-+abc01259()[]\\,.x"), min_size=1, max_size=24)
LINE_TEXT = st.builds(
    lambda lead, words, sep, tail: lead + sep.join(words) + tail,
    st.sampled_from(["", " ", "  "]),
    st.lists(WORD, max_size=30),
    st.sampled_from([" ", "  "]),
    st.sampled_from(["", " ", "   "]),
)
"""Lines of words, often longer than the console: rich wraps them."""


@settings(max_examples=400, deadline=None)
@given(lines=st.lists(LINE_TEXT, max_size=3))
def test_lines_below_the_table_are_what_rich_prints(lines: list[str]) -> None:
    table_rows = [["cell", "unit", "status", "time"], ["py310", "1 passed 0.01s", "passed (reused)", ""]]
    records = [CellRecord("py310", CellStatus.PASSED)]
    if plain_text_is_rich_text(table_rows, io.StringIO(), lines):
        assert plain_table(table_rows) + plain_lines(lines, console_width(table_rows)) == rich_output(
            table_rows, records, lines
        )


def test_the_lines_of_a_nothing_changed_run_need_no_rich() -> None:
    origins = [
        ORIGIN,
        {**ORIGIN, "run": "20261207T080730Z-19861-38b0", "finished": "2026-12-07T23:59:59+00:00"},
    ]
    records = [
        CellRecord(f"py31{index}", CellStatus.PASSED, stages=("unit",), reused_from=origins[index % 2])
        for index in range(4)
    ]
    table_rows = rows(records, summary(), ("unit",))
    below = reused_lines(records)
    assert plain_text_is_rich_text(table_rows, io.StringIO(), below)
    out = io.StringIO()
    render(records, summary(), ("unit",), out, colour=False)
    assert out.getvalue() == rich_output(table_rows, records)
    # what rich would change or wrap is left to rich
    assert not plain_text_is_rich_text(table_rows, io.StringIO(), ["  py310: :smile: reused"])
    assert not plain_text_is_rich_text(table_rows, io.StringIO(), ["  " + "x" * 101])  # folded


class _Encoded(io.StringIO):
    def __init__(self, encoding: str) -> None:
        super().__init__()
        self._encoding = encoding

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding


def test_rich_draws_what_the_plain_table_cannot() -> None:
    table_rows = [["cell", "time"], ["py310", "1.00s"]]
    assert plain_text_is_rich_text(table_rows, io.StringIO())
    assert not plain_text_is_rich_text(table_rows, _Encoded("cp1252"))  # rich swaps its box for ASCII
    assert not plain_text_is_rich_text([["cell", "time"], ["py[3]", ":x:"]], io.StringIO())
    assert not plain_text_is_rich_text([["cell", "time"], ["café", "1s"]], io.StringIO())  # width != length
