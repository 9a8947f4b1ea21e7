"""plan --format github|azure|gitlab, --os, --shard on hand-built plans (no tox)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from pytest_pipeline import cli
from pytest_pipeline.commands import ci_plan
from pytest_pipeline.commands.plan import formatters
from pytest_pipeline.errors import PipelineError
from pytest_pipeline.matrix.model import Cell, Plan


def plan(*names: str) -> Plan:
    cells = tuple(
        Cell(name=n, tool="tox", env=n, python=f"3.{10 + i}", stages=("unit",)) for i, n in enumerate(names)
    )
    return Plan(
        tool="tox", tool_version="4", project_dir=".", config_file="tox.ini", stages=("unit",), cells=cells
    )


def args(**values: object) -> argparse.Namespace:
    defaults: dict[str, object] = {"os": [], "shard": None, "durations": None}
    defaults.update(values)
    ns = argparse.Namespace(**defaults)
    ns.plugin_manager = cli.plugin_manager(load_entry_points=False)
    return ns


def test_ci_formats_are_plan_formats() -> None:
    found = formatters(cli.plugin_manager(load_entry_points=False))
    assert {"text", "json", "github", "azure", "gitlab"} <= set(found)


def test_github_format_with_os() -> None:
    text = ci_plan.provider_format("github")(
        plan("a", "b"), args(os=["ubuntu-latest,macos-latest", "windows-latest"])
    )
    assert text.endswith("\n")
    include = json.loads(text.removeprefix("matrix="))["include"]
    assert [(e["cell"], e["os"], e["python"]) for e in include] == [
        ("a", "ubuntu-latest", "3.10"),
        ("a", "macos-latest", "3.10"),
        ("a", "windows-latest", "3.10"),
        ("b", "ubuntu-latest", "3.11"),
        ("b", "macos-latest", "3.11"),
        ("b", "windows-latest", "3.11"),
    ]


def test_shard_plan_keeps_this_shards_cells() -> None:
    full = plan("a", "b", "c", "d")
    assert [c.name for c in ci_plan.shard_plan(full, args(shard="2/2")).cells] == ["b", "d"]
    assert ci_plan.shard_plan(full, args()) is full


def test_shard_plan_by_recorded_durations(tmp_path: Path) -> None:
    record = tmp_path / "gate.json"
    record.write_text(
        json.dumps({"cells": [{"name": "a", "duration": 100}, {"name": "b", "duration": 1}]}), "utf-8"
    )
    full = plan("a", "b", "c")
    first = ci_plan.shard_plan(full, args(shard="1/2", durations=str(record)))
    second = ci_plan.shard_plan(full, args(shard="2/2", durations=str(record)))
    assert [c.name for c in first.cells] == ["a"]
    assert [c.name for c in second.cells] == ["b", "c"]


def test_durations_without_shard_is_an_error() -> None:
    with pytest.raises(PipelineError, match="--durations only balances --shard"):
        ci_plan.shard_plan(plan("a"), args(durations="gate.json"))


def test_the_plan_parser_has_the_ci_options() -> None:
    parser = cli.build_parser(cli.plugin_manager(load_entry_points=False))
    ns = parser.parse_args(
        ["plan", "--format", "github", "--os", "a,b", "--shard", "1/3", "--durations", "g.json"]
    )
    assert (ns.os, ns.shard, ns.durations) == (["a,b"], "1/3", "g.json")
