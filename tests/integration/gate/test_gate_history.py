"""``history.jsonl``: every gate.json write appends one line; concurrent appends stay whole
lines; a torn last line is skipped; the file is trimmed."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from gate_files import PYPROJECT, cell, green, run_record, write

from pytest_pipeline import cli
from pytest_pipeline.gate import history
from pytest_pipeline.run_record import CellStatus


@pytest.fixture
def make_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """A run's reports folder (the working directory holds the project): one passing cell
    and ``py312-attrs24`` crashed without a report, so its gate closes with code 3."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "pyproject.toml", PYPROJECT.format(extra=""))

    def make(*, gate: bool = True) -> Path:
        root = tmp_path / "pipeline-reports"
        write(root / "cells" / "py310" / "junit.xml", green("py310"))
        crashed = cell("py312-attrs24", CellStatus.CRASHED, -9, junit=None)
        run_record(root, cell("py310"), crashed)
        if gate:
            cli.main(["gate", str(root / "run.json"), "-o", str(root / "gate.json"), "-q"])
        return root

    return make


def test_each_gate_verdict_is_appended(make_reports: Callable[..., Path]) -> None:
    root = make_reports()  # its gate already ran once
    assert cli.main(["gate", str(root / "run.json"), "-o", str(root / "gate.json"), "-q"]) == 3
    entries = history.read(root / history.HISTORY_NAME)
    assert len(entries) == 2
    gate = json.loads((root / "gate.json").read_text())
    assert entries[-1] == history.entry(gate)
    assert entries[-1]["cells"]["py312-attrs24"] == "crashed"


def test_a_gate_file_outside_a_reports_folder_gets_no_history(make_reports: Callable[..., Path]) -> None:
    # gate -o somewhere/in/the/checkout: a new untracked file there would make the next
    # gate see a dirty tree
    root = make_reports(gate=False)
    out = root.parent / "elsewhere" / "gate.json"
    assert cli.main(["gate", str(root / "run.json"), "-o", str(out), "-q"]) == 3
    assert out.is_file()
    assert not (out.parent / history.HISTORY_NAME).exists()
    assert not (root / history.HISTORY_NAME).exists()
    # a folder that already keeps a history goes on keeping it
    history.append(out.parent / history.HISTORY_NAME, {"version": 1, "code": 5})
    assert cli.main(["gate", str(root / "run.json"), "-o", str(out), "-q"]) == 3
    assert [entry["code"] for entry in history.read(out.parent / history.HISTORY_NAME)] == [5, 3]


APPENDER = """
import sys
from pathlib import Path
from pytest_pipeline.gate import history
path, writer = Path(sys.argv[1]), sys.argv[2]
for number in range(150):
    history.append(path, {"version": 1, "writer": writer, "number": number, "pad": "x" * 3000})
"""


def test_concurrent_appends_keep_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / history.HISTORY_NAME
    writers = [
        subprocess.Popen([sys.executable, "-c", APPENDER, str(path), str(n)], stdin=subprocess.DEVNULL)
        for n in range(4)
    ]
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0, 0, 0]
    lines = path.read_text().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is whole JSON
    assert len(entries) == 600
    for writer in map(str, range(4)):
        assert [e["number"] for e in entries if e["writer"] == writer] == list(range(150))


def test_torn_and_foreign_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / history.HISTORY_NAME
    history.append(path, {"version": 1, "verdict": "open", "code": 0, "commit": "a"})
    with path.open("a") as handle:
        handle.write('{"version": 2, "verdict": "open"}\n[1, 2]\n{"version": 1, "verdict": "clo')
    assert [e["commit"] for e in history.read(path)] == ["a"]
    assert history.read(tmp_path / "missing.jsonl") == []


def test_history_is_trimmed_to_the_newest_entries(tmp_path: Path) -> None:
    path = tmp_path / history.HISTORY_NAME
    path.write_text(
        "".join(
            json.dumps({"version": 1, "number": n, "pad": "x" * 100}) + "\n" for n in range(history.TRIM_AT)
        )
    )
    history.append(path, {"version": 1, "number": history.TRIM_AT, "pad": ""})
    numbers = [e["number"] for e in history.read(path)]
    assert numbers == list(range(history.TRIM_AT + 1 - history.KEEP, history.TRIM_AT + 1))


def test_an_unwritable_history_does_not_fail_the_gate(make_reports: Callable[..., Path]) -> None:
    root = make_reports(gate=False)
    (root / history.HISTORY_NAME).mkdir()  # a folder where the file should be
    assert cli.main(["gate", str(root / "run.json"), "-o", str(root / "gate.json"), "-q"]) == 3
    assert (root / "gate.json").is_file()
