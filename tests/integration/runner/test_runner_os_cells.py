"""An --os fan-out end to end: plan names CELL@OS, run records it, the gate names a missing OS job.

One real run of a tiny project stands for one CI job of a two-OS fan-out; the other
OS job never reports, and the fan-in gate over plan.json must say which one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mini_project import write_project

from pipeline_testkit import pipeline_cli
from pytest_pipeline.junit import summarize
from pytest_pipeline.runner import envs


@pytest.fixture
def project(tmp_path: Path) -> Path:
    if envs.find_uv() is None:
        pytest.skip("uv keeps this test fast")
    return write_project(tmp_path / "mini")


def test_os_qualified_cells_flow_from_plan_to_run_to_gate(project: Path) -> None:
    planned = pipeline_cli("plan", "--format", "json", "--os", "ubuntu-latest,windows-latest", cwd=project)
    assert planned.returncode == 0, planned.stderr
    (project / "plan.json").write_text(planned.stdout)
    cells = json.loads(planned.stdout)["cells"]
    assert [(c["name"], c["env"], c["os"]) for c in cells] == [
        ("py@ubuntu-latest", "py", "ubuntu-latest"),
        ("py@windows-latest", "py", "windows-latest"),
    ]
    matrix = pipeline_cli("plan", "--format", "github", "--os", "ubuntu-latest,windows-latest", cwd=project)
    include = json.loads(matrix.stdout.removeprefix("matrix="))["include"]
    assert [job["cell"] for job in include] == [c["name"] for c in cells]

    # the ubuntu job: `run --cell "$CELL"` with the matrix's cell name
    ran = pipeline_cli(
        "run", "--cell", "py@ubuntu-latest", "--reports-dir", "fan-in/py-ubuntu-latest", cwd=project
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    reports = project / "fan-in" / "py-ubuntu-latest"
    record = json.loads((reports / "run.json").read_text())
    assert [(c["name"], c["env"], c["junit"]) for c in record["cells"]] == [
        ("py@ubuntu-latest", "py", "cells/py@ubuntu-latest/junit.xml")
    ]
    # the cell's own pytest named its results after the qualified cell (PYTEST_PIPELINE_CELL)
    cell_summary = summarize([reports / "cells" / "py@ubuntu-latest" / "junit.xml"], default_stage="unit")
    assert cell_summary.cells == ["py@ubuntu-latest"]

    # fan-in: the windows job never reported
    gated = pipeline_cli("gate", "--expect-cells-from", "plan.json", "fan-in", cwd=project)
    assert gated.returncode == 3, gated.stdout + gated.stderr
    gate = json.loads((project / "pipeline-reports" / "gate.json").read_text())
    assert [(r["kind"], r["cell"]) for r in gate["reasons"]] == [("missing-cell", "py@windows-latest")]
