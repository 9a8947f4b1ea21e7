"""Reading a cell's xdist workers from its commands, the project's addopts and
PYTEST_ADDOPTS, in pytest's order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.runner import xdist_workers
from pytest_pipeline.runner.xdist_workers import Workers, addopts, cell_workers, parse_options

NO_ADDOPTS: tuple[list[str], str] = ([], "")


def tox_cell(*commands: str, **config: Any) -> Cell:
    return Cell("py", "tox", "py", config={"commands": list(commands), **config})


@pytest.mark.parametrize(
    ("args", "numprocesses"),
    [
        (["-n", "auto"], "auto"),
        (["-nauto"], "auto"),
        (["-n=4"], "4"),
        (["-n4", "tests"], "4"),
        (["--numprocesses", "logical"], "logical"),
        (["--numprocesses=3"], "3"),
        (["-n", "2", "-x", "-n", "5"], "5"),  # the last one wins, as in argparse
        (["tests", "--", "-n", "4"], None),  # after --, a file name
        (["-x", "tests"], None),
        (["-n"], None),
    ],
)
def test_n_in_every_spelling(args: list[str], numprocesses: str | None) -> None:
    assert parse_options(args).numprocesses == numprocesses


def test_maxprocesses_and_no_xdist() -> None:
    options = parse_options(["--maxprocesses", "3", "-p", "no:xdist"])
    assert (options.maxprocesses, options.disabled) == (3, True)
    assert parse_options(["-pno:xdist"]).disabled
    assert parse_options(["--maxprocesses=2"]).maxprocesses == 2
    assert not parse_options(["-p", "pytester"]).disabled


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("pytest -n auto tests", Workers(None, "commands")),
        ("python -m pytest -n 4", Workers(4, "commands")),
        ("/x/.tox/py/bin/python -I -m pytest --numprocesses=3", Workers(3, "commands")),
        ("coverage run -m pytest -n auto", Workers(None, "commands")),
        ("uv run pytest -n 2", Workers(2, "commands")),
        ("sh -c 'pytest -n 6 tests'", Workers(6, "commands")),
        ("pytest -n 8 --maxprocesses 2", Workers(2, "commands", cap=2)),
        ("pytest -n auto --maxprocesses=2", Workers(None, "commands", cap=2)),
        ("pytest -n 0", None),
        ("pytest -p no:xdist", None),
        ("pytest -n auto -p no:xdist", None),
        ("pytest tests", None),
        ("python -c 'print(-n)'", None),
        ("ruff check -n 4", None),  # not pytest
    ],
)
def test_workers_from_commands(command: str, expected: Workers | None) -> None:
    assert cell_workers(tox_cell(command), NO_ADDOPTS, {}) == expected


def test_the_most_of_several_pytest_commands() -> None:
    cell = tox_cell("pytest tests/unit -n 2", "pytest tests/slow -n 4", "pytest tests/e2e")
    assert cell_workers(cell, NO_ADDOPTS, {}) == Workers(4, "commands")
    cell = tox_cell("pytest tests/unit -n 2", "pytest tests/slow -n auto")
    assert cell_workers(cell, NO_ADDOPTS, {}) == Workers(None, "commands")


def test_commands_win_over_addopts_and_pytest_addopts() -> None:
    ini = (["-n", "auto"], "pytest.ini")
    cell = tox_cell("pytest -n 3", set_env={"PYTEST_ADDOPTS": "-n 5"})
    assert cell_workers(cell, ini, {}) == Workers(3, "commands")
    # without -n on the command line, PYTEST_ADDOPTS (set_env) wins over the ini file
    assert cell_workers(tox_cell("pytest", set_env={"PYTEST_ADDOPTS": "-n 5"}), ini, {}) == Workers(
        5, "PYTEST_ADDOPTS in set_env"
    )
    assert cell_workers(tox_cell("pytest"), ini, {}) == Workers(None, "addopts in pytest.ini")
    # -n 0 on the command line turns the ini's -n auto off
    assert cell_workers(tox_cell("pytest -n 0"), ini, {}) is None


def test_the_callers_pytest_addopts_only_through_pass_env() -> None:
    environ = {"PYTEST_ADDOPTS": "-n 4"}
    assert cell_workers(tox_cell("pytest"), NO_ADDOPTS, environ) is None
    passing = tox_cell("pytest", pass_env=["PYTEST_*"])
    assert cell_workers(passing, NO_ADDOPTS, environ) == Workers(4, "PYTEST_ADDOPTS")
    # a nox session gets the caller's variables and shows no commands
    nox = Cell("tests-3.12", "nox", "tests-3.12")
    assert cell_workers(nox, NO_ADDOPTS, environ) == Workers(4, "PYTEST_ADDOPTS")
    assert cell_workers(nox, (["-n", "auto"], "pyproject.toml"), {}) == Workers(
        None, "addopts in pyproject.toml"
    )


def test_options_after_double_dash_on_our_command_line() -> None:
    assert cell_workers(tox_cell("pytest"), NO_ADDOPTS, {}, ("-n", "2")) == Workers(2, "options after --")
    assert cell_workers(tox_cell("pytest -n 1"), NO_ADDOPTS, {}, ("-n", "2")) == Workers(1, "commands")


def test_a_count_the_project_pins_in_set_env_is_kept() -> None:
    cell = tox_cell("pytest -n auto", set_env={xdist_workers.AUTO_VARIABLE: "3"})
    found = cell_workers(cell, NO_ADDOPTS, {})
    assert found is not None
    assert found.count == 3
    assert "PYTEST_XDIST_AUTO_NUM_WORKERS=3 in set_env" in found.source


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text)


def test_addopts_from_each_file_pytest_reads(tmp_path: Path) -> None:
    assert addopts(tmp_path) == ([], "")
    write(tmp_path, "setup.cfg", "[tool:pytest]\naddopts = -n auto\n    --strict-markers\n")
    assert addopts(tmp_path) == (["-n", "auto", "--strict-markers"], "setup.cfg")
    write(tmp_path, "tox.ini", "[tox]\nenv_list = py\n")  # no [pytest]: not pytest's file
    assert addopts(tmp_path)[1] == "setup.cfg"
    write(tmp_path, "tox.ini", "[pytest]\naddopts = -n 2\n")
    assert addopts(tmp_path) == (["-n", "2"], "tox.ini")
    write(tmp_path, "pyproject.toml", "[project]\nname = 'x'\n")  # no pytest table
    assert addopts(tmp_path)[1] == "tox.ini"
    write(tmp_path, "pyproject.toml", "[tool.pytest.ini_options]\naddopts = '-n 3 -ra'\n")
    assert addopts(tmp_path) == (["-n", "3", "-ra"], "pyproject.toml")
    write(tmp_path, "pyproject.toml", "[tool.pytest]\naddopts = ['-n', 'logical']\n")  # pytest 9
    assert addopts(tmp_path) == (["-n", "logical"], "pyproject.toml")
    write(tmp_path, "pytest.ini", "[pytest]\n")  # pytest.ini wins even without addopts
    assert addopts(tmp_path) == ([], "pytest.ini")


def test_unreadable_configuration_is_no_addopts(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", "this is = = not toml")
    write(tmp_path, "tox.ini", "[pytest\naddopts = -n 2")
    assert addopts(tmp_path) == ([], "")
