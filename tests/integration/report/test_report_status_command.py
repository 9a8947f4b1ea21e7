"""``pytest-pipeline status`` on real reports folders, in and out of a git repository."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from report_builders import passing as passing_cases

from pipeline_testkit import git
from pytest_pipeline import cli
from pytest_pipeline.gate import history
from pytest_pipeline.run_record import CellStatus


def test_status_text_and_exit_code_are_the_last_gate(
    make_reports: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    make_reports()
    capsys.readouterr()
    assert cli.main(["status"]) == 3
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("GATE CLOSED (3): 1 cell crashed, 1 failed in 1 cell")
    assert "  cells   4: 2 passed, 1 failed, 1 crashed" in out
    assert any(line.split()[:2] == ["py312-attrs24", "crashed"] for line in lines)
    assert any(line.split()[:5] == ["py312-attrs23", "failed", "1", "failed,", "1"] for line in lines)
    assert lines[-1] == "last open gate: none in pipeline-reports/history.jsonl (1 verdict recorded)"
    assert cli.main(["status", "-q"]) == 3
    assert capsys.readouterr().out == lines[0] + "\n"


def test_status_json(make_reports: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    make_reports()
    capsys.readouterr()
    assert cli.main(["status", "--format", "json"]) == 3
    data = json.loads(capsys.readouterr().out)
    assert (data["version"], data["verdict"], data["code"]) == (1, "closed", 3)
    assert data["head"] is None  # not a git repository
    assert [cell["name"] for cell in data["cells"]][:2] == ["py310-attrs23", "py310-attrs24"]
    assert data["cells"][2]["counts"]["failed"] == 1
    assert data["history_entries"] == 1
    assert data["last_open"] is None


def test_last_open_gate_and_moved_head_in_a_git_repository(
    make_reports: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / ".gitignore").write_text("pipeline-reports/\n")
    git(tmp_path, "add", "pyproject.toml", ".gitignore")
    git(tmp_path, "commit", "-q", "-m", "one")
    first = git(tmp_path, "rev-parse", "HEAD")
    root = make_reports({"py310": ("3.10", {}, CellStatus.PASSED, passing_cases())})
    assert json.loads((root / "gate.json").read_text())["code"] == 0
    (tmp_path / "src.py").write_text("x = 1\n")
    git(tmp_path, "add", "src.py")
    git(tmp_path, "commit", "-q", "-m", "two")
    second = git(tmp_path, "rev-parse", "HEAD")
    # A failing verdict on the second commit.
    record = json.loads((root / "run.json").read_text())
    record["cells"][0]["status"] = "crashed"
    record["cells"][0]["junit"] = None
    (root / "run.json").write_text(json.dumps(record))
    assert cli.main(["gate", str(root / "run.json"), "-o", str(root / "gate.json"), "-q"]) == 3
    (tmp_path / "src.py").write_text("x = 2\n")
    git(tmp_path, "commit", "-q", "-am", "three")
    third = git(tmp_path, "rev-parse", "HEAD")
    capsys.readouterr()
    assert cli.main(["status"]) == 3
    out = capsys.readouterr().out
    assert f"commit  {second[:12]} on main, clean tree (HEAD is now {third[:12]}: " in out
    assert f"last open gate: {first[:12]} on main, decided " in out
    assert out.rstrip().endswith("(1 verdict ago)")
    assert [e["commit"] for e in history.read(root / history.HISTORY_NAME)] == [first, second]


def test_no_results_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "reports").mkdir()
    assert cli.main(["status", "--reports-dir", str(tmp_path / "reports")]) == 4
    assert "no results in" in capsys.readouterr().err


def test_after_a_killed_run_status_reports_the_history_and_that_the_run_did_not_finish(
    make_reports: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A run clears run.json and gate.json when it starts; killed before its gate, it
    leaves the history alone (tests/integration/runner has the real kill -9)."""
    root = make_reports()
    (root / "run.json").unlink()
    (root / "gate.json").unlink()
    capsys.readouterr()
    assert cli.main(["status"]) == 3
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "no verdict: the last run in pipeline-reports did not finish "
        "(no gate.json or run.json: it was killed, or is still running)"
    )
    assert lines[1].startswith("  last recorded verdict: GATE CLOSED (3): 1 cell crashed, 1 failed in 1 cell")
    assert lines[-1] == "last open gate: none in pipeline-reports/history.jsonl (1 verdict recorded)"
    assert cli.main(["status", "--format", "json"]) == 3
    data = json.loads(capsys.readouterr().out)
    assert (data["verdict"], data["code"], data["history_entries"]) == (None, 3, 1)
    assert data["last_recorded"]["headline"].startswith("GATE CLOSED (3)")
    assert data["problems"] == [
        "the last run in pipeline-reports did not finish (no gate.json or run.json: "
        "it was killed, or is still running)"
    ]


def test_unreadable_gate_file_gives_incomplete(
    make_reports: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_reports()
    (root / "gate.json").write_text("{")
    capsys.readouterr()
    assert cli.main(["status"]) == 3
    out = capsys.readouterr().out
    assert out.startswith("no verdict: pipeline-reports/gate.json is missing or unreadable")
    assert "problem: pipeline-reports/gate.json: is not JSON" in out
