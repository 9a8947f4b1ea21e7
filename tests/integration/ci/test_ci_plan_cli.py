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
