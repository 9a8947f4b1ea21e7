"""Which build frontend runs, and where its output goes, on a real setuptools project built
the way ``tox -e matrix`` and ``python -m pytest_pipeline run`` start us: with the project
folder first on ``sys.path``. setuptools writes ``build/`` and ``*.egg-info`` beside the
sources it builds; an earlier in-place build left that ``build/`` folder in the project, the
next run took it for pypa/build, ran ``python -m build`` and failed (exit 3).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline_testkit import clean_environ, git
from pytest_pipeline.runner import build, envs

PYPROJECT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"
"""

SETUP_CFG = """
[metadata]
name = tiny
version = 1.0

[options]
package_dir =
    = src
packages = find:

[options.packages.find]
where = src
"""

# A build as the run starts it, in a process whose sys.path starts with the project ('' for -c).
DRIVER = """
import sys
from pathlib import Path
from pytest_pipeline.runner import build

reports = Path(sys.argv[1])
build.EarlyBuild(Path.cwd(), uv=None, rebuild=True).start().wheel(reports / "dist", reports / "build.log")
"""


def setuptools_project(root: Path) -> Path:
    (root / "src" / "tiny").mkdir(parents=True)
    (root / "src" / "tiny" / "__init__.py").write_text("VALUE = 1\n")
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "setup.cfg").write_text(SETUP_CFG)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    return root


def project_status(root: Path) -> list[str]:
    """``git status --porcelain --ignored`` without our own cache folder (git-ignored by its
    own .gitignore, and the one thing a run keeps in the project)."""
    lines = git(root, "status", "--porcelain", "--ignored").splitlines()
    return [line for line in lines if line != f"!! {build.OWN_DIR}/"]


def build_in_project(root: Path, reports: Path, *, pythonpath: Path | None = None) -> str:
    """Build ``root`` in a child process started in it; the frontend's command line."""
    before = project_status(root)
    extra = {"PYTHONPATH": str(pythonpath)} if pythonpath else {}
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(reports)],
        cwd=root,
        env=clean_environ(**extra),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
        check=False,
    )
    log = (reports / "build.log").read_text() if (reports / "build.log").is_file() else "(no build log)"
    assert done.returncode == 0, done.stdout + done.stderr + log
    assert [wheel.name for wheel in (reports / "dist").iterdir()] == ["tiny-1.0-py3-none-any.whl"]
    assert project_status(root) == before
    return next(line for line in log.splitlines() if line.startswith("$ "))


def test_setuptools_builds_leave_nothing_in_the_project_and_a_build_folder_never_picks_the_frontend(
    tmp_path: Path,
) -> None:
    uv = envs.find_uv()
    if shutil.which("git") is None or uv is None:
        pytest.skip("needs git, and uv to install pypa/build for the second half")
    root = setuptools_project(tmp_path / "proj")
    # pip's fallback (the dev venv has no pypa/build), twice: the second run of a setuptools
    # project is the one that failed
    assert " -m pip wheel " in build_in_project(root, tmp_path / "r1")
    assert " -m pip wheel " in build_in_project(root, tmp_path / "r2")
    # a build/ folder in the project, as an in-place build leaves it, is not pypa/build
    (root / "build" / "lib").mkdir(parents=True)
    assert " -m pip wheel " in build_in_project(root, tmp_path / "r3")

    # with pypa/build installed, it is the frontend, build/ folder or not
    site = tmp_path / "site"
    subprocess.run([uv, "pip", "install", "--quiet", "--target", str(site), "build"], check=True, timeout=300)
    assert " -m build " in build_in_project(root, tmp_path / "r4", pythonpath=site)
    shutil.rmtree(root / "build")
    assert " -m build " in build_in_project(root, tmp_path / "r5", pythonpath=site)
