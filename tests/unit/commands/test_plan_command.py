"""``pytest-pipeline plan`` formatting and options, with discovery replaced by a fixed plan."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pluggy
import pytest

from pytest_pipeline import cli
from pytest_pipeline.cli_hooks import hookimpl
from pytest_pipeline.matrix import discover as discover_module
from pytest_pipeline.matrix.model import Cell, Plan
from pytest_pipeline.matrix.render import plan_to_json, render_text

STAGES = ("unit", "integration", "smoke")


def sample_plan() -> Plan:
    def cell(name: str, python: str, attrs: str, found: bool, stages: tuple[str, ...] = STAGES) -> Cell:
        return Cell(
            name=name,
            tool="tox",
            env=name,
            python=python,
            factors={"attrs": attrs},
            stages=stages,
            python_found=found,
            python_path=f"/py/{python}/bin/python{python}" if found else None,
            python_version=f"{python}.1" if found else None,
        )

    return Plan(
        tool="tox",
        tool_version="4.67.15",
        project_dir="/project",
        config_file="tox.ini",
        stages=STAGES,
        cells=(
            cell("py310-attrs23", "3.10", "23.2", True, ("unit", "integration")),
            cell("py310-attrs24", "3.10", "24.2", True, ("unit", "integration")),
            cell("py313-attrs23", "3.13", "23.2", False),
            cell("py313-attrs24", "3.13", "24.2", False),
        ),
        left_out=("lint",),
        missing_reasons={"3.13": "no python3.13 on PATH; install Python 3.13 or put it on PATH"},
    )


def test_text_shows_cells_by_stages_interpreters_grid_missing_and_left_out() -> None:
    text = render_text(sample_plan())
    lines = text.splitlines()
    assert lines[0] == "tox 4.67.15 (tox.ini): 4 cells; stages unit -> integration -> smoke"
    header = next(line for line in lines if line.startswith("cell"))
    assert header.split() == ["cell", "python", "dependencies", "unit", "integration", "smoke", "interpreter"]
    row = next(line for line in lines if line.startswith("py310-attrs23"))
    assert row.split() == [
        "py310-attrs23",
        "3.10",
        "attrs=23.2",
        "x",
        "x",
        "-",
        "/py/3.10/bin/python3.10",
        "(3.10.1)",
    ]
    assert next(line for line in lines if line.startswith("py313-attrs24")).split()[-1] == "MISSING"
    assert "grid (python x dependencies):" in lines
    grid_row = next(line for line in lines if line.strip().startswith("3.13 "))
    assert grid_row.split() == ["3.13", "py313-attrs23", "py313-attrs24"]
    assert "  3.13 (2 cells): no python3.13 on PATH; install Python 3.13 or put it on PATH" in lines
    assert "left out (they don't run pytest): lint" in lines
    text.encode("ascii")  # plain ASCII for any console


def test_json_has_the_documented_shape() -> None:
    data = plan_to_json(sample_plan())
    assert data["version"] == 1
    assert data["tool"] == "tox"
    assert data["stages"] == list(STAGES)
    assert data["left_out"] == ["lint"]
    assert data["off_platform"] == {}
    first, _, missing, _ = data["cells"]
    assert {
        "name",
        "tool",
        "env",
        "python",
        "python_found",
        "python_path",
        "factors",
        "stages",
        "labels",
        "pins",
        "resolution",
    } <= set(first)
    assert first["stages"] == ["unit", "integration"]
    assert first["python_found"] is True
    assert missing["python_found"] is False
    assert missing["python_path"] is None
    assert missing["missing_reason"].startswith("no python3.13")
    json.dumps(data)


def test_plan_says_how_each_cell_runs_and_why() -> None:
    routes = {
        "py310-attrs23": ("native", "made as tox makes it (uv)"),
        "py310-attrs24": ("native", "made as tox makes it (uv)"),
        "py313-attrs23": ("tox-env", "runner = uv-venv-lock-runner: tox makes the environment"),
    }
    lines = render_text(sample_plan(), routes=routes).splitlines()
    at = lines.index("how the cells run:")
    assert lines[at + 1 : at + 3] == [
        "  native: py310-attrs23, py310-attrs24 - made as tox makes it (uv)",
        "  tox-env: py313-attrs23 - runner = uv-venv-lock-runner: tox makes the environment",
    ]
    cells = plan_to_json(sample_plan(), routes=routes)["cells"]
    assert (cells[2]["runs"], cells[2]["runs_why"]) == routes["py313-attrs23"]
    assert cells[3]["runs"] is None  # no answer for it: nothing claimed


def test_the_plan_command_shows_the_routes(
    fixed_plan: list[Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert cli.main(["plan", "--project", str(tmp_path), "--format", "json"]) == 0
    cells = json.loads(capsys.readouterr().out)["cells"]
    # the fixed plan's cells carry no tox settings: tox itself would run them, and says why
    assert {cell["runs"] for cell in cells} == {"tox"}
    assert all(cell["runs_why"] for cell in cells)


@pytest.fixture
def fixed_plan(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    requests: list[Any] = []

    def fake_discover(project: Path, config: Any, request: Any) -> Plan:
        requests.append(request)
        return sample_plan()

    monkeypatch.setattr(discover_module, "discover", fake_discover)
    return requests


def test_plan_command_json(fixed_plan: list[Any], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = cli.main(
        ["plan", "--project", str(tmp_path), "--format", "json", "-e", "py310*,py313-attrs23", "-m", "a"]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out)["cells"][0]["name"] == "py310-attrs23"
    (request,) = fixed_plan
    assert tuple(request.select) == ("py310*", "py313-attrs23")
    assert tuple(request.labels) == ("a",)
    assert request.use_cache


def test_plan_command_unknown_format_and_missing_folder(
    fixed_plan: list[Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert cli.main(["plan", "--project", str(tmp_path), "--format", "yaml"]) == 4
    err = capsys.readouterr().err
    assert err.startswith("pytest-pipeline: error: --format 'yaml' is unknown; choose one of ")
    assert {"json", "text"} <= set(err.rstrip("\n").split("choose one of ")[1].split(", "))
    assert cli.main(["plan", "--project", str(tmp_path / "nope")]) == 4
    assert "no such folder" in capsys.readouterr().err
    assert fixed_plan == []


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("gate", "[tool.pytest-pipeline.gate] has unknown key 'bogus'"),
        ("hook", "[tool.pytest-pipeline.hook] has unknown key 'bogus'; known keys: command"),
    ],
)
def test_plan_refuses_what_run_refuses_in_every_table(
    fixed_plan: list[Any], capsys: pytest.CaptureFixture[str], tmp_path: Path, table: str, message: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.pytest-pipeline.{table}]\nbogus = 1\n", encoding="utf-8")
    assert cli.main(["plan", "--project", str(tmp_path)]) == 4
    assert message in capsys.readouterr().err
    assert fixed_plan == [], "refused before the tool is asked"


class NamesFormat:
    @hookimpl
    def pytest_pipeline_plan_formats(self) -> dict[str, Any]:
        def names(plan: Plan, args: argparse.Namespace) -> str:
            return " ".join(cell.name for cell in plan.cells) + "\n"

        return {"names": names}


def test_a_plugin_adds_a_format(
    fixed_plan: list[Any], capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = cli.plugin_manager

    def with_plugin(*, load_entry_points: bool = True) -> pluggy.PluginManager:
        pm = original(load_entry_points=False)
        pm.register(NamesFormat())
        return pm

    monkeypatch.setattr(cli, "plugin_manager", with_plugin)
    assert cli.main(["plan", "--project", str(tmp_path), "--format", "names"]) == 0
    assert capsys.readouterr().out == "py310-attrs23 py310-attrs24 py313-attrs23 py313-attrs24\n"


def xdist_plan() -> Plan:
    def cell(name: str, command: str, found: bool = True) -> Cell:
        return Cell(
            name=name,
            tool="tox",
            env=name,
            python="3.12",
            stages=STAGES,
            config={"commands": [command]},
            python_found=found,
            python_path="/py/3.12/bin/python3.12" if found else None,
            python_version="3.12.1" if found else None,
        )

    return Plan(
        tool="tox",
        tool_version="4.67.15",
        project_dir="/project",
        config_file="tox.ini",
        stages=STAGES,
        cells=(
            cell("quick", "pytest -n auto"),
            cell("slow", "pytest -n auto"),
            cell("fixed", "pytest -n 8"),
            cell("plain", "pytest"),
            cell("gone", "pytest", found=False),
        ),
    )


def test_plan_shows_the_slots_and_the_order(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``plan -p 4`` says what ``run -p 4`` does: the slots each cell holds (its xdist
    workers; the budget it gets for -n auto), and the order: the previous run's longest
    first (its run.json), else the configuration's."""
    monkeypatch.setattr(discover_module, "discover", lambda project, config, request: xdist_plan())
    assert cli.main(["plan", "--project", str(tmp_path), "-p", "4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    at = lines.index("test slots: 4 (-p 4)")
    assert lines[at + 1].split() == ["quick", "1", "slot", "-n", "auto", "(commands):", "1", "worker"]
    assert lines[at + 3].split()[:3] == ["fixed", "4", "slots"]
    assert "-n 8 (commands)" in lines[at + 3]
    assert lines[at + 4].split() == ["plain", "1", "slot"]
    order = "order (no earlier run.json: the configuration's, interpreters taking turns)"
    assert f"{order}: quick, slow, fixed, plain" in lines

    reports = tmp_path / "pipeline-reports"
    reports.mkdir()
    durations = {"quick": 2.0, "slow": 60.0, "fixed": 30.0, "plain": 1.0}
    (reports / "run.json").write_text(
        json.dumps({"cells": [{"name": name, "duration": s} for name, s in durations.items()]})
    )
    assert cli.main(["plan", "--project", str(tmp_path), "-p", "4", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["order"] == ["slow", "fixed", "quick", "plain"]
    assert data["order_from"] == str(reports / "run.json")
    assert data["test_slots"] == 4
    by_name = {cell["name"]: cell for cell in data["cells"]}
    assert by_name["slow"]["slots"] == 1
    assert by_name["slow"]["xdist_workers"] == "auto"
    assert by_name["slow"]["xdist_budget"] == 1
    assert (by_name["fixed"]["slots"], by_name["fixed"]["xdist_workers"]) == (4, 8)
    assert by_name["fixed"]["xdist_budget"] is None
    assert (by_name["plain"]["slots"], by_name["plain"]["xdist_workers"]) == (1, None)
    assert by_name["gone"]["slots"] is None  # missing: runs nothing
    assert by_name["slow"]["expected_start"] == 0.0
    assert cli.main(["plan", "--project", str(tmp_path), "-p", "4"]) == 0
    text = capsys.readouterr().out
    assert f"order (longest first, from {reports / 'run.json'}): slow 60.0s, fixed 30.0s" in text


def test_plan_counts_auto_as_the_usable_cores(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from pytest_pipeline.runner import cores

    monkeypatch.setattr(discover_module, "discover", lambda project, config, request: xdist_plan())
    monkeypatch.setattr(cores, "count", lambda: cores.Cores(usable=3, granted=8, quota=2.5))
    assert cli.main(["plan", "--project", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "test slots: 3 (-p auto: usable cores 3 (affinity 8, cgroup quota 2.5))" in out
