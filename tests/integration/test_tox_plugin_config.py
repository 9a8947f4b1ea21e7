"""The ``matrix`` environment as tox itself sees it (``tox config``/``tox list``, no runs)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline_testkit import clean_environ
from pytest_pipeline.tox_plugin import INTERRUPT_TIMEOUT, NO_TOX_MATRIX_ENV, TERMINATE_TIMEOUT

TOX_INI = """
[tox]
env_list = py

[testenv]
deps = pytest
commands = pytest {posargs}
"""


def tox(project: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tox", *args],
        cwd=project,
        env=clean_environ(**extra),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def matrix_config(project: Path, *posargs: str) -> dict[str, object]:
    keys = [
        "commands",
        "skip_install",
        "pass_env",
        "deps",
        "description",
        "interrupt_timeout",
        "terminate_timeout",
    ]
    done = tox(project, "config", "-e", "matrix", "--format", "json", "-k", *keys, "--", *posargs)
    assert done.returncode == 0, done.stderr
    config: dict[str, object] = json.loads(done.stdout)["env"]["matrix"]
    return config


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "tox.ini").write_text(TOX_INI)
    return tmp_path


def test_matrix_env_exists_without_a_section(project: Path) -> None:
    listed = tox(project, "list")
    assert "matrix" in listed.stdout
    config = matrix_config(project, "-p", "2")
    assert config["commands"] == [f"{sys.executable} -m pytest_pipeline run -p 2"]
    assert config["skip_install"] is True
    assert "*" in config["pass_env"]  # type: ignore[operator]
    assert config["deps"] == []
    # long enough for the run to stop its cells and write its reports (tox's: 0.3 s, 0.2 s)
    assert config["interrupt_timeout"] == INTERRUPT_TIMEOUT
    assert config["terminate_timeout"] == TERMINATE_TIMEOUT


def test_not_declared_for_our_own_tox_processes(project: Path) -> None:
    listed = tox(project, "list", **{NO_TOX_MATRIX_ENV: "1"})
    assert listed.returncode == 0
    assert "matrix" not in listed.stdout


def test_a_user_section_wins(project: Path) -> None:
    (project / "tox.ini").write_text(TOX_INI + "\n[testenv:matrix]\ncommands = python -c 'print(1)'\n")
    config = matrix_config(project)
    assert config["commands"] == ["python -c 'print(1)'"]
    assert config["skip_install"] is False
    assert config["deps"] == ["pytest"]  # inherited from [testenv], as the user wrote it


def test_an_empty_user_section_is_filled_in(project: Path) -> None:
    # what older tox 4 (no tox_extend_envs) needs to know the name
    (project / "tox.ini").write_text(TOX_INI + "\n[testenv:matrix]\n")
    config = matrix_config(project)
    assert config["commands"] == [f"{sys.executable} -m pytest_pipeline run"]
