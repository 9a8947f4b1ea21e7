"""Which way a cell runs, and why: what plan shows and run follows."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.runner.tox_route import route

PLAIN = {
    "commands": ["pytest"],
    "runner": "uv-venv-runner",
    "package": "sdist",
    "dependency_groups": [],
    "install_command": "/somewhere/bin/uv pip install '{packages}'",
}


def tox_cell(**changes: object) -> Cell:
    return Cell("py312", "tox", "py312", config={**PLAIN, **changes})


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"runner": "virtualenv", "install_command": "python -I -m pip install '{packages}'"},
        {"package": "editable"},
        {"package": "wheel"},
        {"package": "skip"},
        {"skip_install": True},
        # tox runs the install command it resolved, whatever it is: so do we
        {"install_command": "python -m pip install --no-binary :all: {packages}"},
    ],
)
def test_native_when_we_reproduce_every_step(tmp_path: Path, changes: dict[str, object]) -> None:
    assert route(tox_cell(**changes), tmp_path).kind == "native"


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"runner": "uv-venv-lock-runner"}, "runner = uv-venv-lock-runner"),
        ({"package": "deps-only"}, "package = deps-only"),
        ({"dependency_groups": ["test"]}, "dependency_groups"),
        ({"pylock": "pylock.toml"}, "pylock"),
        ({"constrain_package_deps": True}, "constrain_package_deps"),
        ({"install_command": ""}, "tox did not report install_command"),
    ],
)
def test_tox_makes_what_we_do_not_reproduce(tmp_path: Path, changes: dict[str, object], why: str) -> None:
    got = route(tox_cell(**changes), tmp_path)
    assert got.kind == "tox-env"
    assert got.why.startswith(why)


def test_uv_workspace_sources_go_to_tox(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.uv.sources]\nlib = { workspace = true }\n")
    assert route(tox_cell(), tmp_path).kind == "tox-env"
    assert route(tox_cell(runner="virtualenv"), tmp_path).kind == "native"  # only tox-uv reads them


def test_tox_runs_everything_when_it_must(tmp_path: Path) -> None:
    assert route(tox_cell(), tmp_path, backend="tox").why == "backend = 'tox' is configured"
    plugin = route(tox_cell(), tmp_path, plugins=["tox-uv-bare", "tox-gh"])
    assert (plugin.kind, plugin.why) == ("tox", "tox plugin tox-gh may change how environments run")
    assert route(tox_cell(), tmp_path, plugins=["tox-uv", "pytest-pipeline-gate"]).kind == "native"
    assert route(Cell("a", "tox", "a", config={}), tmp_path).kind == "tox"
    assert route(tox_cell(extra_setup_commands=["x"]), tmp_path).kind == "tox"
    assert route(Cell("s", "nox", "s"), tmp_path).kind == "nox"
