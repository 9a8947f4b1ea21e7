"""plan --format github|azure|gitlab, --os, --shard on hand-built plans (no tox)."""

from __future__ import annotations

import argparse
import dataclasses
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
    given = args(os=["ubuntu-latest,macos-latest", "windows-latest"])
    text = ci_plan.provider_format("github")(ci_plan.os_plan(plan("a", "b"), given), given)
    assert text.endswith("\n")
    include = json.loads(text.removeprefix("matrix="))["include"]
    assert [(e["cell"], e["os"], e["python"], e["key"]) for e in include] == [
        ("a@ubuntu-latest", "ubuntu-latest", "3.10", "a-ubuntu-latest"),
        ("a@macos-latest", "macos-latest", "3.10", "a-macos-latest"),
        ("a@windows-latest", "windows-latest", "3.10", "a-windows-latest"),
        ("b@ubuntu-latest", "ubuntu-latest", "3.11", "b-ubuntu-latest"),
        ("b@macos-latest", "macos-latest", "3.11", "b-macos-latest"),
        ("b@windows-latest", "windows-latest", "3.11", "b-windows-latest"),
    ]


def test_os_plan_names_every_cell_per_os_in_every_format() -> None:
    given = args(os=["ubuntu-latest", "windows-latest"])
    planned = ci_plan.os_plan(plan("a"), given)
    assert [(c.name, c.env, c.os) for c in planned.cells] == [
        ("a@ubuntu-latest", "a", "ubuntu-latest"),
        ("a@windows-latest", "a", "windows-latest"),
    ]
    formats = formatters(cli.plugin_manager(load_entry_points=False))
    cells = json.loads(formats["json"](planned, given))["cells"]
    assert [(c["name"], c["os"]) for c in cells] == [
        ("a@ubuntu-latest", "ubuntu-latest"),
        ("a@windows-latest", "windows-latest"),
    ]
    assert "a@windows-latest" in formats["text"](planned, given)
    azure = json.loads(formats["azure"](planned, given).split("]", 1)[1])
    assert [(e["cell"], e["vmImage"]) for e in azure.values()] == [
        ("a@ubuntu-latest", "ubuntu-latest"),
        ("a@windows-latest", "windows-latest"),
    ]
    assert 'CELL: "a@windows-latest"' in formats["gitlab"](planned, given)
    assert ci_plan.os_plan(plan("a"), args()) == plan("a")


def test_os_plan_gives_a_platform_bound_tox_env_only_its_platform_s_jobs() -> None:
    windows_only = Cell(name="w", tool="tox", env="w", stages=("unit",), config={"platform": "win32"})
    base = dataclasses.replace(plan("a"), cells=(*plan("a").cells, windows_only))
    planned = ci_plan.os_plan(base, args(os=["ubuntu-latest", "windows-latest"]))
    assert [c.name for c in planned.cells] == ["a@ubuntu-latest", "a@windows-latest", "w@windows-latest"]
    assert planned.off_platform == {"w@ubuntu-latest": "platform linux does not match win32"}
    text = formatters(cli.plugin_manager(load_entry_points=False))["text"](planned, args())
    assert "w@ubuntu-latest: platform linux does not match win32" in text
    with pytest.raises(PipelineError, match="no selected cell is for this platform"):
        ci_plan.os_plan(dataclasses.replace(base, cells=(windows_only,)), args(os=["ubuntu-latest"]))


@pytest.mark.parametrize(
    ("os", "message"),
    [(["ubuntu latest"], "must be a CI runner label"), (["a@b"], "must be a CI runner label")],
)
def test_os_labels_are_checked(os: list[str], message: str) -> None:
    with pytest.raises(PipelineError, match=message):
        ci_plan.os_plan(plan("a"), args(os=os))


def test_shard_durations_of_an_os_fan_out_weigh_each_cell(tmp_path: Path) -> None:
    record = tmp_path / "run.json"
    cells = [{"name": "a@ubuntu-latest", "duration": 5}, {"name": "a@windows-latest", "duration": 100}]
    cells += [{"name": "b@ubuntu-latest", "duration": 1}, {"name": "c@ubuntu-latest", "duration": 2}]
    record.write_text(json.dumps({"cells": cells}), "utf-8")
    first = ci_plan.shard_plan(plan("a", "b", "c"), args(shard="1/2", durations=str(record)))
    assert [c.name for c in first.cells] == ["a"]  # 100 s: alone on its shard


def test_shard_plan_keeps_this_shards_cells() -> None:
    full = plan("a", "b", "c", "d")
    assert [c.name for c in ci_plan.shard_plan(full, args(shard="2/2")).cells] == ["b", "d"]
    assert ci_plan.shard_plan(full, args()) is full


def test_shard_plan_by_recorded_durations(tmp_path: Path) -> None:
    record = tmp_path / "run.json"
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
