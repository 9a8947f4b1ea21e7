"""Small steps of the run pipeline that need no tool."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pytest_pipeline.config import PipelineConfig, StageSettings
from pytest_pipeline.errors import PipelineError
from pytest_pipeline.matrix.model import Cell, Plan
from pytest_pipeline.runner import inject
from pytest_pipeline.runner.run import NO_TOX_MATRIX_ENV, check_plan, clean_environ, companions, needs_package


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


def test_check_plan() -> None:
    with pytest.raises(PipelineError, match="no cells to run"):
        check_plan(plan())
    with pytest.raises(PipelineError, match="cannot be a folder name"):
        check_plan(plan(Cell("../up", "tox", "x")))
    check_plan(plan(Cell("py312", "tox", "py312")))


def test_needs_package() -> None:
    assert needs_package(plan(Cell("a", "tox", "a")))
    assert not needs_package(plan(Cell("a", "tox", "a", config={"skip_install": True})))
    assert not needs_package(plan(Cell("a", "tox", "a", config={"package": "skip"})))
    assert not needs_package(plan(Cell("a", "nox", "a")))
    assert not needs_package(plan(Cell("a", "tox", "a", python="3.99", python_found=False)))


def test_companions_only_when_a_stage_retries() -> None:
    assert companions(PipelineConfig(source=None)) == ()
    retrying = PipelineConfig(source=None, stages=(StageSettings("unit"), StageSettings("smoke", retries=2)))
    assert companions(retrying) == (inject.RERUNFAILURES,)
