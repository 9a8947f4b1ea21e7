"""discover(): the pipeline end to end with a fake tox/nox, and its cache."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from matrix_fakes import FakeNox, FakeTox, no_tool, nox_session, recorded

from pytest_pipeline.config import load
from pytest_pipeline.errors import ConfigError, PipelineError
from pytest_pipeline.matrix import cache, interpreters
from pytest_pipeline.matrix.discover import Request, choose_tool, discover

SAMPLE_TOX_INI = "[tox]\nenvlist = py{310,312}-attrs{23,24}, lint\n"  # what the recording came from


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "tox.ini").write_text(SAMPLE_TOX_INI, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'sample'\n", encoding="utf-8")
    return tmp_path


def tox_fake() -> FakeTox:
    return FakeTox(json_text=recorded("tox-config-sample.json"))


def run(project: Path, fake: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("check_interpreters", False)
    return discover(project, load(project / "pyproject.toml"), Request(runner=fake, environ={}, **kwargs))


def test_plan_of_the_sample_project(project: Path) -> None:
    plan = run(project, tox_fake())
    assert plan.tool == "tox"
    assert plan.config_file == "tox.ini"
    assert [cell.name for cell in plan.cells] == [
        "py310-attrs23",
        "py310-attrs24",
        "py312-attrs23",
        "py312-attrs24",
    ]
    assert all(cell.stages == ("unit", "integration", "smoke") for cell in plan.cells)
    assert plan.left_out == ("lint",)
    assert not plan.from_cache


def test_second_discovery_comes_from_the_cache(project: Path) -> None:
    fake = tox_fake()
    first = run(project, fake)
    second = run(project, fake)
    assert len(fake.calls) == 1
    assert second.from_cache
    assert second.cells == first.cells
    assert (project / ".pytest-pipeline" / ".gitignore").read_text(encoding="utf-8").endswith("*\n")


@pytest.mark.parametrize("changed", ["tox.ini", "pyproject.toml", "setup.cfg", "tox.toml", "noxfile.py"])
def test_the_cache_follows_every_config_file(project: Path, changed: str) -> None:
    fake = tox_fake()
    run(project, fake)
    path = project / changed
    path.write_text(
        (path.read_text(encoding="utf-8") if path.exists() else "") + "\n# changed\n", encoding="utf-8"
    )
    assert not run(project, fake).from_cache
    assert len(fake.calls) == 2
    assert run(project, fake).from_cache


def test_the_cache_follows_variables_but_not_the_shell_s_own(project: Path) -> None:
    # any variable may feed a {env:X} substitution; PWD, SHLVL and the like never do
    fake = tox_fake()
    config = load(project / "pyproject.toml")

    def again(**environ: str) -> bool:
        return discover(
            project, config, Request(runner=fake, environ=environ, check_interpreters=False)
        ).from_cache

    again(HOME="/a", PWD="/x", SHLVL="1")
    assert again(HOME="/a", PWD="/y", SHLVL="2")
    assert not again(HOME="/b", PWD="/y", SHLVL="2")
    assert not again(HOME="/b", TOX_OVERRIDE="x")


def test_the_cache_follows_files_a_set_env_reads(project: Path) -> None:
    fake = tox_fake()
    with (project / "tox.ini").open("a", encoding="utf-8") as handle:
        handle.write("\n[testenv:extra]\nset_env = file|.env\n")
    (project / ".env").write_text("A=1\n")
    run(project, fake)
    assert run(project, fake).from_cache
    (project / ".env").write_text("A=2\n")
    assert not run(project, fake).from_cache


def test_the_cache_key_follows_the_tool_version_and_command(project: Path) -> None:
    base = cache.key("tox", project, ["tox"], "4.67", {})
    assert base == cache.key("tox", project, ["tox"], "4.67", {})
    assert base != cache.key("tox", project, ["tox"], "4.68", {})
    assert base != cache.key("tox", project, ["/other/python", "-m", "tox"], "4.67", {})
    assert base != cache.key("nox", project, ["tox"], "4.67", {})


def test_no_cache_asks_again_and_a_corrupt_cache_is_ignored(project: Path) -> None:
    fake = tox_fake()
    run(project, fake)
    run(project, fake, use_cache=False)
    assert len(fake.calls) == 2
    cache.cache_file(project, "tox").write_text("{not json", encoding="utf-8")
    assert not run(project, fake).from_cache
    assert (
        json.loads(cache.cache_file(project, "tox").read_text(encoding="utf-8"))["listing"]["tool"] == "tox"
    )


def test_a_failing_tool_writes_nothing(project: Path) -> None:
    fake = FakeTox(json_text="", returncode=254, error_output="ROOT: HandledError| broken\n")
    with pytest.raises(PipelineError, match="tox cannot load it: broken"):
        run(project, fake)
    assert not (project / ".pytest-pipeline").exists()


def test_our_own_config_errors_come_before_any_tool_runs(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.pytest-pipeline.run]\nparalel = 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="has unknown key 'paralel'"):
        run(project, no_tool)
    (project / "pyproject.toml").write_text("[tool.pytest-pipeline.matrix]\nattrs = 23\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="attrs: expected a list"):
        run(project, no_tool)


def test_run_settings_give_the_default_selection_and_axes(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        "[tool.pytest-pipeline.run]\ncells = ['py312*']\ninclude = ['lint']\n"
        "[tool.pytest-pipeline.matrix]\nresolution = ['highest', 'lowest-direct']\n",
        encoding="utf-8",
    )
    plan = run(project, tox_fake())
    assert [cell.name for cell in plan.cells] == [
        "py312-attrs23+highest",
        "py312-attrs23+lowest-direct",
        "py312-attrs24+highest",
        "py312-attrs24+lowest-direct",
    ]
    # the command line wins over run.cells, and include can bring lint in by exact name
    assert [c.name for c in run(project, tox_fake(), select=["lint"]).cells] == ["lint"]


def test_unknown_cell_in_run_cells_names_the_config_key(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        "[tool.pytest-pipeline.run]\ncells = ['py39']\n", encoding="utf-8"
    )
    with pytest.raises(PipelineError) as caught:
        run(project, tox_fake())
    assert caught.value.message.startswith(
        f"{project / 'pyproject.toml'}: [tool.pytest-pipeline.run] cells 'py39':"
    )


def test_a_selected_env_with_a_broken_setting_is_refused_an_unselected_one_is_not(project: Path) -> None:
    data = json.loads(recorded("tox-config-sample.json"))
    data["env"]["py310-attrs24"]["deps"] = {"error": "ValueError('bad deps')"}
    fake = FakeTox(json_text=json.dumps(data), returncode=255)
    plan = run(project, fake, select=["py312*"])
    assert len(plan.cells) == 2
    with pytest.raises(PipelineError) as caught:
        run(project, fake, select=["py310*"])
    assert caught.value.message == (
        "tox.ini: [testenv:py310-attrs24] deps could not be loaded: ValueError('bad deps'); "
        "fix it (`tox config -e py310-attrs24 -k deps` shows it)"
    )


def test_an_env_for_another_platform_is_left_out_as_tox_skips_it(project: Path) -> None:
    data = json.loads(recorded("tox-config-sample.json"))
    data["env"]["py310-attrs24"]["platform"] = "no-such-platform"
    fake = FakeTox(json_text=json.dumps(data))
    plan = run(project, fake)
    assert "py310-attrs24" not in [cell.name for cell in plan.cells]
    assert plan.off_platform == {"py310-attrs24": f"platform {sys.platform} does not match no-such-platform"}
    assert len(plan.cells) == 3
    with pytest.raises(PipelineError, match="no selected cell is for this platform: py310-attrs24"):
        run(project, fake, select=["py310-attrs24"])
    # plan --os judges each OS job by its runner instead (commands.ci_plan.os_plan).
    unfiltered = run(project, fake, this_platform=False)
    assert "py310-attrs24" in [cell.name for cell in unfiltered.cells]
    assert unfiltered.off_platform == {}


def test_interpreters_found_and_missing_are_part_of_the_plan(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    bin_dir = tmp_path_factory.mktemp("bin")
    exe = bin_dir / "python3.12"
    exe.write_text(f"#!/bin/sh\nprintf '%s\\n' CPython 3.12.7 {exe} 0\n", encoding="utf-8")
    exe.chmod(0o755)
    config = load(project / "pyproject.toml")
    plan = discover(project, config, Request(runner=tox_fake(), environ={"PATH": str(bin_dir)}))
    by_name = {cell.name: cell for cell in plan.cells}
    assert by_name["py312-attrs23"].python_found
    assert by_name["py312-attrs23"].python_path == str(exe)
    assert by_name["py312-attrs23"].python_version == "3.12.7"
    assert by_name["py310-attrs23"].missing
    assert plan.missing_reasons["3.10"].startswith("no python3.10 on PATH")


def test_a_second_discovery_probes_no_interpreter_unless_told_not_to_cache(
    project: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path_factory.mktemp("bin")
    for name in ("python3.10", "python3.12"):
        (bin_dir / name).write_bytes(b"\x7fELF")  # no script: its answer can be kept
        (bin_dir / name).chmod(0o755)
    probed: list[str] = []

    def probe(executable: str, env: object) -> interpreters.Probe:
        probed.append(executable)
        return interpreters.Probe("CPython", f"3.{executable[-2:]}.1", executable)

    monkeypatch.setattr(interpreters, "probe", probe)
    config = load(project / "pyproject.toml")
    for _ in range(2):
        plan = discover(project, config, Request(runner=tox_fake(), environ={"PATH": str(bin_dir)}))
        assert {cell.python_version for cell in plan.cells if cell.python} == {"3.10.1", "3.12.1"}
    assert sorted(probed) == [str(bin_dir / "python3.10"), str(bin_dir / "python3.12")]
    discover(project, config, Request(runner=tox_fake(), environ={"PATH": str(bin_dir)}, use_cache=False))
    assert len(probed) == 4


def test_nox_discovery(tmp_path: Path) -> None:
    (tmp_path / "noxfile.py").write_text("import nox\n", encoding="utf-8")
    sessions = [nox_session("tests", v, {"attrs": a}) for v in ("3.10", "3.12") for a in ("23.2", "24.2")]
    fake = FakeNox(every=[*sessions, nox_session("lint", False)])
    plan = run(tmp_path, fake)
    assert plan.tool == "nox"
    assert len(plan.cells) == 4
    assert plan.left_out == ("lint",)
    assert plan.cells[0].factors == {"attrs": "23.2"}


def test_choose_tool(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match=r"no tox configuration .* and no noxfile\.py"):
        choose_tool(tmp_path, "auto")
    (tmp_path / "noxfile.py").write_text("", encoding="utf-8")
    assert choose_tool(tmp_path, "auto") == "nox"
    (tmp_path / "tox.ini").write_text("[tox]\n", encoding="utf-8")
    assert choose_tool(tmp_path, "auto") == "tox"
    assert choose_tool(tmp_path, "nox") == "nox"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can write anywhere")
def test_a_read_only_project_just_gets_no_cache(project: Path) -> None:
    project.chmod(0o555)
    try:
        fake = tox_fake()
        run(project, fake)
        run(project, fake)
        assert len(fake.calls) == 2
    finally:
        project.chmod(0o755)
