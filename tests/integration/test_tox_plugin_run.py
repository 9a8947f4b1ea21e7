"""``tox -e matrix`` run for real: it installs nothing into its own environment, whatever
``[testenv]`` says (``dependency_groups``, ``runner = uv-venv-lock-runner``), works twice in
a row (a setuptools project's second run used to take the ``build/`` folder an earlier
build left for pypa/build and exit 3), and exits as ``tox run`` of the cells does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline_testkit import clean_environ, frozen
from pytest_pipeline.runner import envs

TEST = "def test_passes():\n    import pytest\n"

HATCH = """
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "mx"
version = "1.0"
requires-python = ">=3.10"

[dependency-groups]
test = ["pytest>=8.2", "iniconfig"]

[tool.hatch.build.targets.wheel]
packages = ["src/mx"]
"""

SETUPTOOLS = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "mx"
version = "1.0"

[tool.setuptools.packages.find]
where = ["src"]
"""

TOX_INI = """
[tox]
env_list = py

[testenv]
{testenv}
commands = pytest {{posargs}}
"""

PROJECTS = {
    "dependency_groups": (HATCH, "dependency_groups = test", ()),
    "uv-venv-lock-runner": (HATCH, "runner = uv-venv-lock-runner\ndependency_groups = test", ()),
    # without uv, the build frontend is looked up: pypa/build, else pip (the failing case)
    "setuptools": (SETUPTOOLS, "deps =\n    pytest>=8.2\n    iniconfig", ("--", "--installer", "pip")),
}


def tox(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tox", *args],
        cwd=project,
        env=clean_environ(NO_COLOR="1"),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
        check=False,
    )


def lock(project: Path) -> None:
    """``uv lock`` for the lock runner; a skip naming why when it cannot resolve here."""
    uv = envs.find_uv()
    if uv is None:
        pytest.skip("uv-venv-lock-runner needs uv to write uv.lock")
    done = subprocess.run([uv, "lock"], cwd=project, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        pytest.skip(f"uv lock could not resolve from the package index here: {done.stderr.strip()[-300:]}")


def installed(env: Path) -> set[str]:
    return frozen(env / "bin" / "python")


@pytest.mark.parametrize("kind", sorted(PROJECTS))
def test_tox_matrix_installs_nothing_and_works_twice(tmp_path: Path, kind: str) -> None:
    pyproject, testenv, options = PROJECTS[kind]
    project = tmp_path / "proj"
    (project / "src" / "mx").mkdir(parents=True)
    (project / "src" / "mx" / "__init__.py").write_text("VALUE = 1\n")
    (project / "tests").mkdir()
    (project / "tests" / "test_mx.py").write_text(TEST)
    (project / "pyproject.toml").write_text(pyproject)
    (project / "tox.ini").write_text(TOX_INI.format(testenv=testenv))
    if kind == "uv-venv-lock-runner":
        lock(project)

    first = tox(project, "-e", "matrix", *options)
    # no build leaves files in the project; a build/ folder an in-place setuptools build
    # left there (as our pip fallback once did) is not pypa/build for the second run
    assert not [path.name for path in project.rglob("*.egg-info")]
    assert not (project / "build").exists()
    (project / "build" / "lib").mkdir(parents=True)
    runs = [first, tox(project, "-e", "matrix", *options)]
    # what tox itself says of the cells, after ours (its own leftovers cannot help us)
    cells = tox(project, "run")
    assert cells.returncode == 0, cells.stdout[-3000:]
    for done in runs:
        assert done.returncode == cells.returncode, done.stdout[-3000:] + done.stderr[-2000:]
        assert "GATE OPEN (0)" in done.stdout, done.stdout[-3000:]
    assert installed(project / ".tox" / "matrix") == set()
    assert any(line.startswith("pytest==") for line in installed(project / ".tox" / "py"))
