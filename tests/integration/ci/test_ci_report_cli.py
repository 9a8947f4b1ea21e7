"""ci-report end to end: a real pytest run, the real gate, then the report in each CI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = """
def test_ok():
    assert True

def test_bad():
    assert 'expected' == 'actual'
"""


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cell's JUnit from a real pytest run and the gate's verdict over it (+ a missing cell)."""
    root = tmp_path_factory.mktemp("project")
    (root / "tests" / "unit").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.pytest-pipeline]\nstages = ["unit"]\n', encoding="utf-8")
    (root / "tests" / "unit" / "test_mod.py").write_text(TESTS, encoding="utf-8")
    junit = root / "reports" / "cells" / "py312" / "junit.xml"
    tested = run(
        "-m", "pytest", "--stage=unit", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}",
        cwd=root, env={"PYTEST_PIPELINE_CELL": "py312"},
    )  # fmt: skip
    assert tested.returncode == 1, tested.stdout + tested.stderr
    gated = run(
        "-m", "pytest_pipeline", "gate", "reports/", "--expect-cells", "py312,py313",
        "-o", "pipeline-reports/gate.json", cwd=root,
    )  # fmt: skip
    assert gated.returncode == 3, gated.stdout + gated.stderr
    return root


def test_github_gets_a_step_summary_and_annotations(project: Path, tmp_path: Path) -> None:
    page = tmp_path / "step_summary.md"
    result = run(
        "-m", "pytest_pipeline", "ci-report", cwd=project,
        env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(page)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "::error file=tests/unit/test_mod.py,title=py312 / unit%3A tests.unit.test_mod%3A%3Atest_bad::"
        + result.stdout.split("::")[-1].rstrip("\n")
    ]
    assert "expected" in result.stdout
    summary = page.read_text(encoding="utf-8")
    assert summary.startswith("## ❌ pytest-pipeline: gate closed (exit 3)")
    assert "| py313 | ⚠ no results |" in summary
    assert "`tests.unit.test_mod::test_bad`" in summary


def test_azure_gets_issues_a_summary_and_the_test_results(project: Path, tmp_path: Path) -> None:
    junit = project / "reports" / "cells" / "py312" / "junit.xml"
    result = run(
        "-m", "pytest_pipeline", "ci-report", "--junit", str(junit), cwd=project,
        env={"TF_BUILD": "True", "AGENT_TEMPDIRECTORY": str(tmp_path)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        "##vso[task.logissue type=error;sourcepath=tests/unit/test_mod.py]py312 / unit"
    )
    assert lines[1].startswith("##vso[task.uploadsummary]")
    assert Path(lines[1].split("]", 1)[1]).read_text(encoding="utf-8").startswith("## ❌")
    assert lines[2] == (
        "##vso[results.publish type=JUnit;mergeResults=true;"
        f"resultFiles={junit.resolve()};testRunTitle=pytest-pipeline]"
    )


def test_outside_ci_it_prints_and_writes_markdown(project: Path, tmp_path: Path) -> None:
    target = tmp_path / "summary.md"
    result = run("-m", "pytest_pipeline", "ci-report", "--markdown", str(target), cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("## ❌ pytest-pipeline: gate closed (exit 3)")
    assert target.read_text(encoding="utf-8") == result.stdout


def test_a_missing_gate_file_is_incomplete(tmp_path: Path) -> None:
    result = run("-m", "pytest_pipeline", "ci-report", "--gate", "nowhere/gate.json", cwd=tmp_path)
    assert result.returncode == 3
    assert result.stderr.strip() == (
        "pytest-pipeline: error: nowhere/gate.json: no gate file; "
        "run `pytest-pipeline gate` first or pass --gate FILE"
    )


def test_the_gate_file_shape_is_what_the_summary_reads(project: Path) -> None:
    """A contract check with the gate: the keys ci-report relies on are in gate.json."""
    data = json.loads((project / "pipeline-reports" / "gate.json").read_text(encoding="utf-8"))
    assert {"verdict", "code", "headline", "reasons", "cells", "failures", "flaky", "quarantined"} <= set(
        data
    )
    assert {"cell", "stage", "tests", "failed"} <= set(data["counts"]["groups"][0])
