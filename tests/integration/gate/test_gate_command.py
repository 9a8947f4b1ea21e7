"""``pytest-pipeline gate`` on real files through the real JUnit reader: fails closed.

Each row lays out a project folder (pyproject.toml, result files, run records), runs
the command in-process, and checks the exit code, the winning reason in gate.json, and
that gate.json validates against the shipped JSON Schema.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from gate_files import BOMB, PYPROJECT, cell, green, junit, make_wheel, run_record, write

from pytest_pipeline.cli import main
from pytest_pipeline.gate import gatefile
from pytest_pipeline.gate.record import GateRecord
from pytest_pipeline.run_record import CellStatus

Setup = Callable[[Path], None]


def validate(record: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(
        gatefile.schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(record)
    # Read back as typed data and written again, it is the same file: same keys, same order.
    assert json.dumps(GateRecord.from_dict(record).to_dict()) == json.dumps(record)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write(tmp_path / "pyproject.toml", PYPROJECT.format(extra=""))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def per_cell(*cells: str) -> Setup:
    def setup(root: Path) -> None:
        for name in cells:
            write(root / "results" / f"{name}.xml", green())

    return setup


def both(*setups: Setup) -> Setup:
    def setup(root: Path) -> None:
        for step in setups:
            step(root)

    return setup


def put(relpath: str, text: str | bytes) -> Setup:
    def setup(root: Path) -> None:
        write(root / relpath, text)

    return setup


def file(name: str, text: str | bytes) -> Setup:
    return put(f"results/{name}", text)


def runs(
    *cells_: Any,
    interrupted: bool = False,
    junit_files: dict[str, str] | None = None,
    folder: str = "pipeline-reports",
) -> Setup:
    def setup(root: Path) -> None:
        run_record(root / folder, *cells_, interrupted=interrupted)
        for name, text in (junit_files or {}).items():
            write(root / folder / "cells" / name / "junit.xml", text)

    return setup


def killed_run(folder: str = "pipeline-reports") -> Setup:
    """A reports folder whose run was killed after one cell reported: its lock says
    'running' and nobody holds it."""

    def setup(root: Path) -> None:
        from pytest_pipeline.runner.outputs import LOCK_NAME, RunMark

        write(root / folder / "cells" / "py310" / "junit.xml", green("py310"))
        write(root / folder / LOCK_NAME, RunMark("r1", 4242, "2026-12-05T10:00:00+00:00").text())

    return setup


def with_not_merged(xml: str, left_out: str) -> str:
    """``xml`` (a JUnit file) with the suite a merge writes for an input it left out."""
    from pytest_pipeline.junit.render import not_merged_suite
    from pytest_pipeline.results import InputProblem

    listing = not_merged_suite([InputProblem(left_out, "truncated")])
    return xml.replace("</testsuites>", listing + "</testsuites>")


@dataclass
class Row:
    id: str
    setup: Setup
    code: int
    kind: str | None
    text: str = ""
    args: list[str] = field(default_factory=lambda: ["results"])


QUARANTINE = """
[[quarantine]]
id = "tests.test_unit::test_b"
reason = "flaky clock, #9"
expires = {date}
"""

ROWS = [
    Row("green folder of per-cell files", per_cell("py310", "py312"), 0, None),
    Row(
        "truncated file",
        both(per_cell("py310"), file("py312.xml", green()[:150])),
        3,
        "unreadable",
        "truncated",
    ),
    Row("XML bomb", both(per_cell("py310"), file("py312.xml", BOMB)), 3, "unreadable", "entit"),
    Row("empty file", both(per_cell("py310"), file("py312.xml", "")), 3, "unreadable", "py312.xml"),
    Row(
        "binary file",
        both(per_cell("py310"), file("py312.xml", b"\x89PNG\r\n\x1a\n\x00\x00")),
        3,
        "unreadable",
        "py312.xml",
    ),
    Row(
        "wrong root element",
        both(per_cell("py310"), file("py312.xml", "<html><body/></html>")),
        3,
        "unreadable",
        "py312.xml",
    ),
    Row(
        "reports folder missing (no input named)",
        lambda root: None,
        3,
        "unreadable",
        "no such file or folder",
        [],
    ),
    Row(
        "expected cell without results",
        per_cell("py310"),
        3,
        "missing-cell",
        "expected but has no results",
        ["results", "--expect-cells", "py310,py312"],
    ),
    Row(
        "plan names a cell without results",
        both(
            per_cell("py310"),
            put("plan.json", json.dumps({"cells": [{"name": "py310"}, {"name": "py311"}]})),
        ),
        3,
        "missing-cell",
        "expected",
        ["results", "--expect-cells-from", "plan.json"],
    ),
    Row(
        "required stage ran zero tests",
        file("py310.xml", junit(unit=[("test_a", "passed")])),
        5,
        "empty-stage",
        "stage 'integration' ran no tests",
    ),
    Row(
        "all tests skipped",
        file("py310.xml", junit(unit=[("test_a", "passed")], integration=[("test_c", "skipped")])),
        5,
        "empty-stage",
        "all 1 skipped",
    ),
    Row(
        "failed test",
        file("py310.xml", junit(unit=[("test_a", "failed")], integration=[("test_c", "passed")])),
        1,
        "failed",
        "assert 1 == 2",
    ),
    Row(
        "blocked stage",
        file(
            "py310.xml",
            junit(unit=[("test_a", "passed")], integration=[("test_c", "blocked"), ("test_d", "blocked")]),
        ),
        1,
        "blocked",
        "2 tests blocked",
    ),
    Row(
        "flaky pass under flaky = 'fail'",
        file("py310.xml", junit(unit=[("test_a", "flaky")], integration=[("test_c", "passed")])),
        1,
        "flaky",
        "passed only after 2 attempts",
        ["results", "--flaky", "fail"],
    ),
    Row(
        "flaky pass under flaky = 'allow'",
        file("py310.xml", junit(unit=[("test_a", "flaky")], integration=[("test_c", "passed")])),
        0,
        None,
    ),
    Row(
        "expired quarantine entry",
        both(
            file("py310.xml", junit(unit=[("test_b", "failed")], integration=[("test_c", "passed")])),
            put("q.toml", QUARANTINE.format(date="2020-01-31")),
        ),
        1,
        "quarantine-expired",
        "expired on 2020-01-31",
        ["results", "--quarantine", "q.toml"],
    ),
    Row(
        "active quarantine entry",
        both(
            file("py310.xml", junit(unit=[("test_b", "failed")], integration=[("test_c", "passed")])),
            put("q.toml", QUARANTINE.format(date="2999-12-31")),
        ),
        0,
        None,
        "",
        ["results", "--quarantine", "q.toml"],
    ),
    Row(
        "crashed cell in the run record",
        runs(
            cell("py310"), cell("py312", CellStatus.CRASHED, -11, junit=None), junit_files={"py310": green()}
        ),
        3,
        "crashed",
        "crashed: killed by SIGSEGV (exit -11), no report",
        [],
    ),
    Row(
        "interrupted run",
        runs(
            cell("py310"),
            cell("py312", CellStatus.CANCELLED, None, junit=None),
            interrupted=True,
            junit_files={"py310": green()},
        ),
        2,
        "interrupted",
        "the run was interrupted",
        [],
    ),
    Row(
        "lint cell (runs no pytest) whose commands failed",
        runs(
            cell("py310"),
            cell("lint", CellStatus.FAILED, 1, junit=None, runs_pytest=False),
            junit_files={"py310": green()},
        ),
        1,
        "cell-failed",
        "runs no pytest (no JUnit report) and its commands failed with exit code 1",
        [],
    ),
    Row(
        "lint cell (runs no pytest) that passed",
        runs(
            cell("py310"),
            cell("lint", CellStatus.PASSED, 0, junit=None, runs_pytest=False),
            junit_files={"py310": green()},
        ),
        0,
        None,
        "",
        [],
    ),
    Row(
        "cell that ran but left no report",
        runs(cell("py310"), cell("py312", CellStatus.PASSED, 0), junit_files={"py310": green()}),
        3,
        "no-report",
        "trusting exit code 0",
        [],
    ),
    Row(
        "cell whose report is truncated",
        runs(
            cell("py310"),
            cell("py312", CellStatus.FAILED, 1),
            junit_files={"py310": green(), "py312": green()[:120]},
        ),
        3,
        "no-report",
        "truncated",
        [],
    ),
    Row(
        "cell whose report says an input was not merged into it",
        runs(cell("py310"), junit_files={"py310": with_not_merged(green(), "results/py312.xml")}),
        3,
        "no-report",
        "results/py312.xml: truncated",
        [],
    ),
    Row(
        "run record pointing outside its folder",
        both(per_cell("py310"), runs(cell("py310", junit="../results/py310.xml"))),
        3,
        "no-report",
        "is outside",
        [],
    ),
    Row(
        "missing interpreter with missing-interpreters = 'fail'",
        runs(
            cell("py310"),
            cell("py399", CellStatus.MISSING_INTERPRETER, None, junit=None),
            junit_files={"py310": green()},
        ),
        3,
        "missing-interpreter",
        "is not installed",
        ["--missing-interpreters", "fail"],
    ),
    Row(
        "missing interpreter allowed locally",
        runs(
            cell("py310"),
            cell("py399", CellStatus.MISSING_INTERPRETER, None, junit=None),
            junit_files={"py310": green()},
        ),
        0,
        None,
        "",
        [],
    ),
    Row(
        "a run record that is not one",
        put("pipeline-reports/run.json", '{"version": 99}'),
        3,
        "unreadable",
        "is not a run record",
        [],
    ),
    Row(
        "the folder of a killed run (cells that reported alone)",
        killed_run(),
        3,
        "unfinished-run",
        "the run r1 (pid 4242, started 2026-12-05T10:00:00+00:00) never finished",
        [],
    ),
    Row(
        "one report of a killed run's folder",
        killed_run(),
        3,
        "unfinished-run",
        "never finished (it was killed)",
        ["pipeline-reports/cells/py310/junit.xml"],
    ),
    Row(
        "a folder holding a killed run's folder",
        killed_run("fanin/job1/pipeline-reports"),
        3,
        "unfinished-run",
        "fanin/job1/pipeline-reports: the run r1",
        ["fanin"],
    ),
    Row(
        "two jobs' run records claim the same cell",
        both(
            runs(cell("py310"), junit_files={"py310": green()}, folder="fanin/job1"),
            runs(cell("py310"), junit_files={"py310": green()}, folder="fanin/job2"),
        ),
        3,
        "unreadable",
        "is also in",
        ["fanin"],
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_gate_command(project: Path, row: Row, capsys: pytest.CaptureFixture[str]) -> None:
    row.setup(project)
    code = main(["gate", *row.args])
    out = capsys.readouterr().out
    assert code == row.code, out
    record = json.loads((project / "pipeline-reports" / "gate.json").read_text())
    validate(record)
    assert record["code"] == row.code
    assert out.splitlines()[0] == record["headline"]
    if row.code == 0:
        assert record["verdict"] == "open"
        assert record["reasons"] == []
        assert out.startswith("GATE OPEN (0)")
    else:
        assert record["verdict"] == "closed"
        assert out.startswith(f"GATE CLOSED ({row.code}): ")
        first = record["reasons"][0]
        assert first["kind"] == row.kind, record["reasons"]
        assert row.text in first["message"]


def test_a_merged_file_missing_an_input_closes_the_gate(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`merge` left a truncated file out (exit 3); the merged file says so, and a gate over
    it alone closes with 3 naming that file, as a gate over the inputs would."""
    per_cell("py310")(project)
    file("py312.xml", green()[:150])(project)
    assert main(["merge", "results", "-o", "merged.xml"]) == 3
    capsys.readouterr()
    assert main(["gate", "merged.xml"]) == 3
    out = capsys.readouterr().out
    assert out.startswith("GATE CLOSED (3): ")
    record = json.loads((project / "pipeline-reports" / "gate.json").read_text())
    validate(record)
    (reason,) = record["reasons"]
    assert reason["kind"] == "unreadable"
    assert reason["message"].startswith(f"{Path('results', 'py312.xml')}: truncated")
    assert reason["message"].endswith("(not merged into merged.xml)")


def test_rows_cover_twenty_ways_of_failing_closed() -> None:
    assert sum(row.code != 0 for row in ROWS) >= 20


def test_configuration_error_is_exit_4_without_a_gate_file(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    per_cell("py310")(project)
    write(
        project / "pyproject.toml", PYPROJECT.format(extra='[tool.pytest-pipeline.gate]\nflakey = "allow"\n')
    )
    assert main(["gate", "results"]) == 4
    err = capsys.readouterr().err
    assert "unknown key 'flakey'" in err
    assert len(err.strip().splitlines()) == 1
    assert not (project / "pipeline-reports" / "gate.json").exists()


def test_policy_from_pyproject(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "results" / "py310.xml", junit(unit=[("test_a", "passed")]))
    write(
        project / "pyproject.toml",
        PYPROJECT.format(extra='[tool.pytest-pipeline.gate]\nallow-empty-stages = ["integration"]\n'),
    )
    assert main(["gate", "results"]) == 0
    record = json.loads((project / "pipeline-reports" / "gate.json").read_text())
    assert record["policy"]["allow-empty-stages"] == ["integration"]
    assert [n["kind"] for n in record["notes"]] == ["empty-stage"]
    assert capsys.readouterr().out.startswith("GATE OPEN (0): 1 note")


def test_gate_file_contents(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(
        project / "results" / "py310.xml",
        junit(unit=[("test_a", "failed"), ("test_b", "flaky")], integration=[("test_c", "passed")]),
    )
    write(project / "results" / "py312.xml", green())
    write(project / "dist" / "greeter-1.0.tar.gz", b"sdist bytes")
    code = main(["gate", "results", "--artifact", "dist/greeter-1.0.tar.gz", "-o", "out/gate.json"])
    assert code == 1
    out = capsys.readouterr().out
    record = json.loads((project / "out" / "gate.json").read_text())
    validate(record)
    assert record["headline"] == "GATE CLOSED (1): 1 failed in 1 cell"
    assert record["counts"]["total"]["tests"] == 6
    assert record["counts"]["cells"]["py310"]["failed"] == 1
    assert record["counts"]["stages"]["unit"]["passed"] == 3
    assert record["required"]["cells"] == ["py310", "py312"]
    assert [f["id"] for f in record["failures"]] == ["tests.test_unit::test_a"]
    assert [f["id"] for f in record["flaky"]] == ["tests.test_unit::test_b"]
    assert record["artifacts"] == [
        {"name": "greeter-1.0.tar.gz", "sha256": hashlib.sha256(b"sdist bytes").hexdigest()}
    ]
    assert record["tools"]["pytest-pipeline-gate"]
    assert record["git"]["commit"] is None  # not a repository
    assert "gate file: out/gate.json" in out
    # the terminal block names the failure where a person looks first
    assert "py310 · unit · tests.test_unit::test_a — failed: assert 1 == 2" in out


def test_baseline_regressions_only(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(
        project / "results" / "py310.xml",
        junit(unit=[("test_a", "failed")], integration=[("test_c", "passed")]),
    )
    assert main(["gate", "results", "-o", "old/gate.json"]) == 1
    write(
        project / "results" / "py310.xml",
        junit(unit=[("test_a", "failed"), ("test_n", "failed")], integration=[("test_c", "passed")]),
    )
    assert main(["gate", "results", "--baseline", "old/gate.json", "--mode", "regressions-only"]) == 1
    record = json.loads((project / "pipeline-reports" / "gate.json").read_text())
    validate(record)
    assert [r["test"] for r in record["reasons"]] == ["tests.test_unit::test_n"]
    assert [r["id"] for r in record["baseline"]["new_failures"]] == ["tests.test_unit::test_n"]
    assert [r["id"] for r in record["baseline"]["still_failing"]] == ["tests.test_unit::test_a"]
    # the new failure fixed: the gate opens, the old one is a note
    write(
        project / "results" / "py310.xml",
        junit(unit=[("test_a", "failed"), ("test_n", "passed")], integration=[("test_c", "passed")]),
    )
    assert main(["gate", "results", "--baseline", "old/gate.json", "--mode", "regressions-only"]) == 0
    capsys.readouterr()


def test_unreadable_baseline_is_a_usage_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    per_cell("py310")(project)
    write(project / "old.json", '{"version": 7}')
    assert main(["gate", "results", "--baseline", "old.json"]) == 4
    assert "version 7 is not supported" in capsys.readouterr().err


def test_quiet_prints_one_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    per_cell("py310")(project)
    assert main(["gate", "results", "-q"]) == 0
    assert capsys.readouterr().out == "GATE OPEN (0)\n"


def test_run_record_of_uncommitted_changes_marks_the_gate_dirty(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = project / "pipeline-reports"
    record = json.loads(run_record(folder, cell("py310")).read_text())
    record["dirty"] = True
    write(folder / "run.json", json.dumps(record))
    write(folder / "cells" / "py310" / "junit.xml", green())
    assert main(["gate"]) == 0
    gate = json.loads((folder / "gate.json").read_text())
    validate(gate)
    assert gate["git"]["dirty"] is True
    assert gate["git"]["dirty_paths"] == ["pipeline-reports/run.json (tested uncommitted changes)"]
    assert gatefile.read(folder / "gate.json").dirty
    capsys.readouterr()


def test_a_dangling_result_file_in_a_folder_closes_the_gate(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without expected cells, a cell whose only result file is broken must not vanish."""
    write(project / "results" / "py312.xml", green())
    (project / "results" / "py311.xml").symlink_to(project / "never-downloaded.xml")
    assert main(["gate", "results"]) == 3
    assert "py311.xml: cannot be read: No such file or directory" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["nope"], "input nope: no such file or folder"),
        (["results", "nope/"], "input nope/: no such file or folder"),
        (["results/*.json"], "input results/*.json: no file matches this pattern"),
    ],
)
def test_a_named_input_that_does_not_exist_is_a_usage_error_that_writes_nothing(
    project: Path, capsys: pytest.CaptureFixture[str], args: list[str], text: str
) -> None:
    """A typo (or a download that did not happen) must not replace the last gate.json."""
    per_cell("py310")(project)
    assert main(["gate", "results"]) == 0
    gate_file = project / "pipeline-reports" / "gate.json"
    before = gate_file.read_bytes()
    capsys.readouterr()
    assert main(["gate", *args]) == 4
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert text in captured.err
    assert gate_file.read_bytes() == before


def test_a_wheel_renamed_to_another_version_is_not_a_tested_artifact(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    per_cell("py310")(project)
    built = make_wheel(project / "dist" / "greeter-1.0-py3-none-any.whl", "greeter", "1.0")
    renamed = project / "dist" / "greeter-2.0-py3-none-any.whl"
    renamed.write_bytes(built.read_bytes())
    assert main(["gate", "results", "--artifact", str(renamed)]) == 4
    err = capsys.readouterr().err
    assert "its name says greeter 2.0 but its own metadata says greeter 1.0" in err
    assert len(err.strip().splitlines()) == 1
    assert not (project / "pipeline-reports" / "gate.json").exists()
    assert main(["gate", "results", "--artifact", str(built)]) == 0
