"""Small steps of the run pipeline that need no tool."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_pipeline.config import PipelineConfig, StageSettings
from pytest_pipeline.errors import PipelineError
from pytest_pipeline.matrix.model import Cell, Plan
from pytest_pipeline.runner import build, inject, outputs
from pytest_pipeline.runner import run as run_mod
from pytest_pipeline.runner.run import (
    NO_TOX_MATRIX_ENV,
    build_early,
    check_plan,
    clean_environ,
    companions,
    needs_package,
    prepare_wheel,
)


def plan(*cells: Cell) -> Plan:
    return Plan(
        tool="tox",
        tool_version="4",
        project_dir="/p",
        config_file="tox.ini",
        stages=("unit",),
        cells=cells,
    )


def test_clean_environ_drops_an_outer_tox_run(tmp_path: Path) -> None:
    venv = tmp_path / "matrix"
    environ = {
        "PATH": os.pathsep.join([str(venv / "bin"), "/usr/bin"]),
        "VIRTUAL_ENV": str(venv),
        "TOX_ENV_NAME": "matrix",
        "TOX_ENV_DIR": str(venv),
        "PYTEST_PIPELINE_CELL": "x",
        "HOME": "/h",
    }
    env = clean_environ(environ)
    assert env["PATH"] == "/usr/bin"
    assert "VIRTUAL_ENV" not in env
    assert "TOX_ENV_NAME" not in env
    assert "PYTEST_PIPELINE_CELL" not in env
    assert env["HOME"] == "/h"
    assert env[NO_TOX_MATRIX_ENV] == "1"


def test_clean_environ_keeps_a_venv_the_user_activated(tmp_path: Path) -> None:
    # `tox run` from a shell with an activated venv keeps it on PATH: so does a cell
    path = os.pathsep.join([str(tmp_path / "venv" / "bin"), "/usr/bin"])
    assert clean_environ({"PATH": path, "VIRTUAL_ENV": str(tmp_path / "venv")})["PATH"] == path


def test_check_plan() -> None:
    with pytest.raises(PipelineError, match="no cells to run"):
        check_plan(plan())
    with pytest.raises(PipelineError, match="cell names become folder names"):
        check_plan(plan(Cell("../up", "tox", "x")))
    check_plan(plan(Cell("py312", "tox", "py312")))


def test_needs_package() -> None:
    assert needs_package(plan(Cell("a", "tox", "a")))
    assert not needs_package(plan(Cell("a", "tox", "a", config={"skip_install": True})))
    assert not needs_package(plan(Cell("a", "tox", "a", config={"package": "skip"})))
    # a nox session installs what it installs itself (it runs as nox runs it)
    assert not needs_package(plan(Cell("a", "nox", "a", config={"python": "3.12"})))
    assert not needs_package(plan(Cell("a", "tox", "a", python="3.99", python_found=False)))


def test_companions_only_when_a_stage_retries() -> None:
    assert companions(PipelineConfig(source=None)) == ()
    retrying = PipelineConfig(source=None, stages=(StageSettings("unit"), StageSettings("smoke", retries=2)))
    assert companions(retrying) == (inject.RERUNFAILURES,)


class FakeEarly:
    """Stands in for ``build.EarlyBuild``: records what the run asked of it."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def cancel(self) -> None:
        self.calls.append("cancel")

    def wheel(self, dist: Path, log: Path) -> build.Wheel:
        self.calls.append("wheel")
        raise AssertionError("not needed")


def test_an_early_build_is_stopped_when_no_cell_installs_the_package(tmp_path: Path) -> None:
    early = FakeEarly()
    reports = outputs.Reports(tmp_path / "reports")
    skipping = plan(Cell("lint", "tox", "lint", config={"skip_install": True}))
    wheel = prepare_wheel(skipping, reports, project=tmp_path, rebuild=False, early=early, uv=None)  # type: ignore[arg-type]
    assert wheel is None
    assert early.calls == ["cancel"]


@pytest.mark.parametrize(
    ("files", "starts"),
    [
        ({"tox.ini": "[tox]\n", "pyproject.toml": "[project]\nname='p'\n"}, True),
        ({"tox.ini": "[tox]\n", "setup.py": ""}, True),
        ({"tox.ini": "[tox]\n"}, False),  # nothing to build: the envs skip_install
        ({"noxfile.py": "", "pyproject.toml": ""}, True),  # a nox-only plan then stops it
        ({"pyproject.toml": ""}, False),  # no tool at all: discovery says so
    ],
)
def test_when_the_build_starts_before_discovery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str], starts: bool
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    started: list[Path] = []

    def fake_start(project: Path, **_: Any) -> FakeEarly:
        started.append(project)
        return FakeEarly()

    monkeypatch.setattr(run_mod, "start_build", fake_start)
    early = build_early(tmp_path, tool="auto", uv=None, reports_root=tmp_path / "r", rebuild=False)
    assert started == ([tmp_path] if starts else [])
    assert (early is not None) == starts


def test_preload_imports_what_the_end_of_a_run_needs() -> None:
    for name in run_mod.AFTER_CELLS:
        importlib.import_module(name)  # a typo in the list fails here, not silently there
    sys.modules.pop("tabnanny", None)
    run_mod.preload(["no_such_module_for_pytest_pipeline", "tabnanny"]).join(30)
    assert "tabnanny" in sys.modules  # a module that fails to import stops nothing


def test_no_early_build_where_it_cannot_stage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tox.ini").write_text("[tox]\n")
    (tmp_path / "pyproject.toml").write_text("")

    def read_only(project: Path, **_: Any) -> FakeEarly:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(run_mod, "start_build", read_only)
    assert build_early(tmp_path, tool="auto", uv=None, reports_root=tmp_path / "r", rebuild=False) is None
