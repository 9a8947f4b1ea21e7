"""The stage plugin under pytest 8.x, installed the way a user gets it.

The package declares ``pytest>=8.0,<10`` and the dev venv resolves to pytest 9, so this
builds a wheel from the source tree, installs it with ``pytest>=8,<9`` into a throwaway
venv (uv, on the oldest supported interpreter) and runs a tiny staged project there:
selection, blocking and the JUnit stage property. ``tox -e py310-pytest8`` runs the whole
plugin suite on pytest 8; this test keeps the plain ``pytest`` (and so ``.ci/run``) honest.
"""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import NamedTuple

import pytest

from pipeline_testkit import ROOT
from pytest_pipeline.runner import envs

TIMEOUT = 300
PROJECT = {
    "pyproject.toml": '[tool.pytest-pipeline]\nstages = ["unit", "integration", "smoke"]\n',
    "tests/test_core.py": """
import os
import pytest

def test_adds():
    assert 1 + 1 == 2

def test_breakable():
    assert not os.environ.get("BREAK_UNIT"), "broken on purpose"

@pytest.mark.integration
def test_wiring():
    pass
""",
    "tests/smoke/test_health.py": "def test_health():\n    pass\n",
}


class Venv(NamedTuple):
    python: Path
    env: dict[str, str]


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=TIMEOUT,
        check=False,
    )


def checked(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = run(argv, cwd, env)
    assert done.returncode == 0, f"{argv}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def pytest8(tmp_path_factory: pytest.TempPathFactory, environ: dict[str, str]) -> Venv:
    """A venv's python with our wheel and pytest 8.x, and the environment to run it in."""
    uv = envs.find_uv()
    if uv is None:
        pytest.skip("uv makes the throwaway venv")
    interpreter = shutil.which("python3.10", path=environ["PATH"])
    if interpreter is None:
        pytest.skip("python3.10 is not on PATH")
    # Our venv's PYTHONPATH or VIRTUAL_ENV would decide what the child imports.
    env = {k: v for k, v in environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    work = tmp_path_factory.mktemp("pytest8")
    # A fresh wheel each time: uv would reuse a cached build of the source tree as long as
    # pyproject.toml is unchanged, and test yesterday's plugin.
    build = [uv, "build", "--wheel", "--python", interpreter, "--out-dir", str(work / "dist"), str(ROOT)]
    checked(build, work, env)
    (wheel,) = (work / "dist").glob("pytest_pipeline_gate-*.whl")
    venv = work / "venv"
    checked([uv, "venv", "--python", interpreter, str(venv)], work, env)
    python = envs.python_in(venv)
    checked([uv, "pip", "install", "--python", str(python), str(wheel), "pytest>=8,<9"], work, env)
    return Venv(python, env)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name, text in PROJECT.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_venv_has_pytest_8_and_our_installed_plugin(pytest8: Venv) -> None:
    python, env = pytest8
    code = "import pytest, pytest_pipeline; print(pytest.__version__); print(pytest_pipeline.__file__)"
    version, location = checked([str(python), "-c", code], ROOT, env).stdout.split()
    assert version.startswith("8."), version
    assert Path(location).is_relative_to(python.parent.parent), location  # not the source tree


def test_stage_selection_deselects(pytest8: Venv, project: Path) -> None:
    python, env = pytest8
    done = run([str(python), "-m", "pytest", "--stage=unit"], project, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pytest-8." in done.stdout  # pytest's own header: the run really is on pytest 8
    assert "2 passed, 2 deselected" in done.stdout, done.stdout
    assert "2 deselected by --stage" in done.stdout, done.stdout


def test_a_unit_failure_blocks_later_stages_and_junit_has_stages(pytest8: Venv, project: Path) -> None:
    python, env = pytest8
    done = run([str(python), "-m", "pytest", "--junitxml=junit.xml"], project, {**env, "BREAK_UNIT": "1"})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed, 1 passed, 2 blocked" in done.stdout, done.stdout
    assert "blocked by a failure in stage unit" in done.stdout, done.stdout
    root = ET.parse(project / "junit.xml").getroot()
    stages = [
        (suite.get("name"), [p.get("value") for p in suite.iter("property") if p.get("name") == "stage"])
        for suite in root.findall("testsuite")
    ]
    expected = [
        ("pytest: unit", ["unit"]),
        ("pytest: integration", ["integration"]),
        ("pytest: smoke", ["smoke"]),
    ]
    assert stages == expected
    blocked = [e.get("message") for e in root.iter("error") if e.get("type") == "pytest_pipeline.blocked"]
    assert blocked == ["blocked by a failure in stage unit"] * 2
