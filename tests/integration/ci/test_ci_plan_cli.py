"""The plan job's real commands on a copy of the sample project (real tox discovery)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_testkit import copy_sample, pipeline_cli


def plan(project: Path, *args: str) -> str:
    result = pipeline_cli("plan", "--project", str(project), *args, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_sample(tmp_path_factory.mktemp("ci-plan") / "sample")


def test_every_format_lists_the_cells_of_the_json_plan(
    project: Path, tmp_path: Path, check_schema: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    names = [cell["name"] for cell in json.loads(plan(project, "--format", "json"))["cells"]]
    assert len(names) >= 4

    github = plan(project, "--format", "github")
    assert github.startswith("matrix=")
    assert [e["cell"] for e in json.loads(github.removeprefix("matrix="))["include"]] == names

    azure = plan(project, "--format", "azure")
    payload = json.loads(azure.split("]", 1)[1])
    assert [entry["cell"] for entry in payload.values()] == names

    child = tmp_path / "pipeline-cells.yml"
    child.write_text(plan(project, "--format", "gitlab"), encoding="utf-8")
    for name in names:
        assert f'CELL: "{name}"' in child.read_text(encoding="utf-8")
    result = check_schema("gitlab", child)
    assert result.returncode == 0, result.stdout + result.stderr


def test_shards_split_the_json_plan(project: Path) -> None:
    names = [cell["name"] for cell in json.loads(plan(project, "--format", "json"))["cells"]]
    shards = [
        [cell["name"] for cell in json.loads(plan(project, "--format", "json", "--shard", f"{i}/3"))["cells"]]
        for i in (1, 2, 3)
    ]
    assert sorted(n for shard in shards for n in shard) == sorted(names)
    assert all(shards)


def test_shards_balance_by_the_durations_of_a_real_gate_file(project: Path, tmp_path: Path) -> None:
    """``--durations gate.json`` with the file ``pytest-pipeline gate`` writes (its cells
    carry no duration; each cell's test time is in its counts)."""
    names = [cell["name"] for cell in json.loads(plan(project, "--format", "json"))["cells"]]
    slow, *others = names
    results = tmp_path / "downloads"
    for name in names:
        seconds = 100.0 if name == slow else 1.0
        junit = results / "cells" / name / "junit.xml"
        junit.parent.mkdir(parents=True)
        junit.write_text(
            '<testsuites><testsuite name="pytest" tests="1">'
            f'<testcase classname="tests.unit.test_greet" name="test_hello" time="{seconds}"/>'
            "</testsuite></testsuites>",
            encoding="utf-8",
        )
    gate_file = tmp_path / "gate.json"
    gated = pipeline_cli("gate", str(results), "-o", str(gate_file), cwd=project, timeout=300)
    assert gate_file.is_file(), gated.stdout + gated.stderr

    def shard(index: int) -> list[str]:
        text = plan(project, "--format", "json", "--shard", f"{index}/2", "--durations", str(gate_file))
        return [cell["name"] for cell in json.loads(text)["cells"]]

    assert shard(1) == [slow], "the 100 s cell is alone on its shard"
    assert shard(2) == others
