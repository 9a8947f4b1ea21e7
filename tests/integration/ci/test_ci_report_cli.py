"""ci-report end to end: a real pytest run, the real gate, then the report in each CI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline_testkit import clean_environ, pipeline_cli

TESTS = """
def test_ok():
    assert True

def test_bad():
    assert 'expected' == 'actual'
"""


def ci_report(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return pipeline_cli("ci-report", *args, cwd=cwd, env=clean_environ(**env), timeout=300)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cell's JUnit from a real pytest run and the gate's verdict over it (+ a missing cell)."""
    root = tmp_path_factory.mktemp("project")
    (root / "tests" / "unit").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.pytest-pipeline]\nstages = ["unit"]\n', encoding="utf-8")
    (root / "tests" / "unit" / "test_mod.py").write_text(TESTS, encoding="utf-8")
    junit = root / "reports" / "cells" / "py312" / "junit.xml"
    pytest_argv = ["-m", "pytest", "--stage=unit", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}"]
    tested = subprocess.run(
        [sys.executable, *pytest_argv],
        cwd=root,
        env=clean_environ(PYTEST_PIPELINE_CELL="py312"),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
        check=False,
    )
    assert tested.returncode == 1, tested.stdout + tested.stderr
    gated = pipeline_cli(
        "gate", "reports/", "--expect-cells", "py312,py313", "-o", "pipeline-reports/gate.json", cwd=root
    )
    assert gated.returncode == 3, gated.stdout + gated.stderr
    return root


def test_github_gets_a_step_summary_and_annotations(project: Path, tmp_path: Path) -> None:
    page = tmp_path / "step_summary.md"
    result = ci_report(cwd=project, GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(page))
    assert result.returncode == 0, result.stderr
    # The line is where the test failed (its assert, line 6 of TESTS), read from the traceback.
    assert result.stdout.splitlines() == [
        "::error file=tests/unit/test_mod.py,line=6,title=py312 / unit%3A tests.unit.test_mod%3A%3Atest_bad::"
        + result.stdout.split("::")[-1].rstrip("\n")
    ]
    assert "expected" in result.stdout
    summary = page.read_text(encoding="utf-8")
    assert summary.startswith("## ❌ pytest-pipeline: gate closed (exit 3)")
    assert "| py313 | ⚠ no results |" in summary
    assert "`tests.unit.test_mod::test_bad`" in summary


def test_azure_gets_issues_a_summary_and_the_test_results(project: Path, tmp_path: Path) -> None:
    junit = project / "reports" / "cells" / "py312" / "junit.xml"
    result = ci_report("--junit", str(junit), cwd=project, TF_BUILD="True", AGENT_TEMPDIRECTORY=str(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        "##vso[task.logissue type=error;sourcepath=tests/unit/test_mod.py;linenumber=6]py312 / unit"
    )
    assert lines[1].startswith("##vso[task.uploadsummary]")
    assert Path(lines[1].split("]", 1)[1]).read_text(encoding="utf-8").startswith("## ❌")
    assert lines[2] == (
        "##vso[results.publish type=JUnit;mergeResults=true;"
        f"resultFiles={junit.resolve()};testRunTitle=pytest-pipeline]"
    )


def test_outside_ci_it_prints_and_writes_markdown(project: Path, tmp_path: Path) -> None:
    target = tmp_path / "summary.md"
    result = ci_report("--markdown", str(target), cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("## ❌ pytest-pipeline: gate closed (exit 3)")
    assert target.read_text(encoding="utf-8") == result.stdout


def test_a_missing_gate_file_is_incomplete(tmp_path: Path) -> None:
    result = ci_report("--gate", "nowhere/gate.json", cwd=tmp_path)
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
