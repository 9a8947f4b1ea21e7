"""A tox cell's environment: made once, reused while its inputs stay, remade when not."""

from __future__ import annotations

import dataclasses
import io
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pipeline_testkit import make_wheel
from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.run_record import Artifact
from pytest_pipeline.runner import envs, tox_setup
from pytest_pipeline.runner.process import CommandResult
from pytest_pipeline.runner.tox_route import Route

UV = "/tools/bin/uv"
NATIVE = Route("native", "test")
TOX_ENV = Route("tox-env", "test")


def tox_cell(tmp_path: Path, **changes: object) -> Cell:
    config = {
        "commands": ["pytest"],
        "runner": "uv-venv-runner",
        "install_command": f"{UV} pip install '{{packages}}'",
        "deps": ["pytest>=8"],
        "env_dir": str(tmp_path / ".tox" / ".pipeline" / "py312"),
        **changes,
    }
    return Cell("py312", "tox", "py312", config=config)


class Commands:
    """Every command the cell would run; a ``venv`` step makes the interpreter file."""

    def __init__(self) -> None:
        self.argvs: list[list[str]] = []

    def __call__(self, argv: Sequence[str], **kwargs: Any) -> CommandResult:
        self.argvs.append(list(argv))
        if "venv" in argv:
            python = envs.python_in(Path(argv[-1]))
            python.parent.mkdir(parents=True, exist_ok=True)
            python.write_text("")
        return CommandResult(tuple(argv), 0)

    def labels(self) -> list[str]:
        return [argv[1] if argv[0] == UV else "tox" for argv in self.argvs]


def fake_commands(monkeypatch: pytest.MonkeyPatch) -> Commands:
    """tox_setup's commands recorded, not run (also for other modules' fixtures)."""
    fake = Commands()
    monkeypatch.setattr(tox_setup, "run_command", fake)
    # installers are found on the environment's PATH, like tox's: pretend uv is there
    monkeypatch.setattr(tox_setup.tox_commands, "resolve", lambda argv, *a: list(argv))
    return fake


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch) -> Commands:
    return fake_commands(monkeypatch)


def run_of(tmp_path: Path, wheel: Any, **changes: object) -> tox_setup.ToxCell:
    values: dict[str, object] = {
        "project": tmp_path,
        "tool_config": tmp_path / "tox.ini",
        "wheel": wheel,
        "environ": {"PATH": "/usr/bin"},
        "seed": "1",
        "installer": envs.Installer(UV),
    }
    values.update(changes)
    return tox_setup.ToxCell(**values)  # type: ignore[arg-type]


def prepare(run: tox_setup.ToxCell, cell: Cell, route: Route = NATIVE) -> str:
    return tox_setup.prepare(
        run, cell, route, interpreter="/py/python3.12", interpreter_version="3.12.1", log=io.BytesIO(),
        cancel=threading.Event(),
    )  # fmt: skip


def test_made_once_then_reused_then_only_the_package(tmp_path: Path, commands: Commands) -> None:
    wheel = make_wheel(tmp_path, ("attrs>=23",))
    cell = tox_cell(tmp_path)
    assert prepare(run_of(tmp_path, wheel), cell) == "created"
    assert commands.labels() == ["venv", "pip", "pip", "pip"]  # venv, deps, package deps, package
    commands.argvs.clear()
    assert prepare(run_of(tmp_path, wheel), cell) == "reused"
    assert commands.argvs == []
    rebuilt = dataclasses.replace(wheel, artifact=Artifact(wheel.path.name, "b" * 64))
    assert prepare(run_of(tmp_path, rebuilt), cell) == "package-reinstalled"
    assert commands.argvs[-1][-3:] == ["--reinstall", "--no-deps", f"greeter@{rebuilt.path}"]
    commands.argvs.clear()
    assert prepare(run_of(tmp_path, rebuilt), tox_cell(tmp_path, deps=["pytest>=9"])) == "created"
    assert commands.labels()[0] == "venv"


def test_a_requirements_file_edit_remakes_the_environment(tmp_path: Path, commands: Commands) -> None:
    (tmp_path / "requirements.txt").write_text("pytest\n")
    cell = tox_cell(tmp_path, deps=["-r requirements.txt"], skip_install=True)
    assert prepare(run_of(tmp_path, None), cell) == "created"
    assert prepare(run_of(tmp_path, None), cell) == "reused"
    (tmp_path / "requirements.txt").write_text("pytest<9\n")
    assert prepare(run_of(tmp_path, None), cell) == "created"


def test_recreate_and_a_broken_environment_start_over(tmp_path: Path, commands: Commands) -> None:
    cell = tox_cell(tmp_path, skip_install=True)
    assert prepare(run_of(tmp_path, None), cell) == "created"
    assert prepare(run_of(tmp_path, None, recreate=True), cell) == "created"
    envs.python_in(tmp_path / ".tox" / ".pipeline" / "py312").unlink()
    assert prepare(run_of(tmp_path, None), cell) == "created"


def test_tox_makes_the_tox_env_route(tmp_path: Path, commands: Commands) -> None:
    wheel = make_wheel(tmp_path, ())
    cell = tox_cell(tmp_path, runner="uv-venv-lock-runner")
    (tmp_path / "uv.lock").write_text("v1")
    assert prepare(run_of(tmp_path, wheel), cell, TOX_ENV) == "created"
    (argv,) = commands.argvs
    assert argv[argv.index("run") :][:3] == ["run", "-e", "py312"]
    assert argv[argv.index("--workdir") + 1] == str(tmp_path / ".tox" / ".pipeline")
    assert argv[argv.index("--hashseed") + 1] == "1"
    assert argv[argv.index("--installpkg") + 1] == str(wheel.path.resolve())
    assert "--notest" in argv
    envs.python_in(tmp_path / ".tox" / ".pipeline" / "py312").parent.mkdir(parents=True, exist_ok=True)
    envs.python_in(tmp_path / ".tox" / ".pipeline" / "py312").write_text("")
    commands.argvs.clear()
    assert prepare(run_of(tmp_path, wheel), cell, TOX_ENV) == "reused"
    assert commands.argvs == []
    (tmp_path / "uv.lock").write_text("v2")  # tox reads it: its setup runs again
    assert prepare(run_of(tmp_path, wheel), cell, TOX_ENV) == "created"


def test_no_wheel_for_a_cell_that_installs_the_package(tmp_path: Path, commands: Commands) -> None:
    with pytest.raises(tox_setup.EnvError, match="no package was built"):
        prepare(run_of(tmp_path, None), tox_cell(tmp_path))


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("tox.ini", "[tox]\n", "testenv:py312.env_dir=/x"),
        ("setup.cfg", "[tox:tox]\n", "testenv:py312.env_dir=/x"),
        ("tox.toml", "env_list = []\n", "env.py312.env_dir=/x"),
        ("pyproject.toml", "[tool.tox]\nenv_list = []\n", "env.py312.env_dir=/x"),
        ("pyproject.toml", '[tool.tox]\nlegacy_tox_ini = """\n[tox]\n"""\n', "testenv:py312.env_dir=/x"),
    ],
)
def test_overrides_are_written_as_the_configuration_is(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    (tmp_path / name).write_text(text)
    assert tox_setup.override(tmp_path / name, "py312", "env_dir", "/x") == expected


def test_a_resolution_axis_is_tox_uv_s_uv_resolution(tmp_path: Path) -> None:
    cell = tox_cell(tmp_path)
    lowest = Cell("py312+lowest-direct", "tox", "py312", resolution="lowest-direct", config=cell.config)
    assert tox_setup.env_of(lowest, tmp_path).install_command == (
        UV, "pip", "install", "--resolution", "lowest-direct", "{packages}",
    )  # fmt: skip
    run = run_of(tmp_path, None)
    argv = tox_setup.tox_argv(run, lowest, tox_setup.env_of(lowest, tmp_path))
    assert "testenv:py312.uv_resolution=lowest-direct" in argv


def test_a_matrix_axis_cell_runs_tox_in_its_own_folder(tmp_path: Path) -> None:
    folder = tmp_path / ".tox" / ".pipeline" / "py312+attrs23"
    cell = Cell("py312+attrs23", "tox", "py312", pins=("attrs==23.*",), config={"env_dir": str(folder)})
    argv = tox_setup.tox_argv(run_of(tmp_path, None), cell, tox_setup.env_of(cell, tmp_path))
    assert f"testenv:py312.env_dir={folder}" in argv
