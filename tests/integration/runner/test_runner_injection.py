"""Our plugin inside a cell's environment without installing it: real pytest runs.

Checks the claims of :mod:`pytest_pipeline.runner.inject` for real: the ``.pth`` file
makes the injected folder's entry points load (also with plugin autoload disabled, and
whatever ``PYTHONPATH`` or ``--junitxml`` the project sets), the cell's settings arrive,
and an environment that *also* has pytest-pipeline-gate installed (our own project under
test) imports the installed, tested copy, with no "registered twice" error.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_pipeline.runner import envs, inject
from pytest_pipeline.runner.toxenv import site_packages

TEST_FILE = """
import json, os, pytest, pytest_pipeline

@pytest.mark.smoke
def test_smoke():
    pass

def test_unit(request):
    plugin = request.config.pluginmanager.get_plugin("pipeline")
    with open(os.environ["PROBE"], "w") as handle:
        json.dump({"version": pytest_pipeline.__version__, "file": pytest_pipeline.__file__,
                   "plugin": plugin.__file__}, handle)
"""


def venv(folder: Path) -> Path:
    """A virtualenv with pytest and nothing of ours (what a user's cell looks like)."""
    uv = envs.find_uv()
    if uv is None:
        pytest.skip("uv is needed to create the test environment quickly")
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(folder)], check=True)
    python = envs.bin_dir(folder) / "python"
    subprocess.run([uv, "pip", "install", "--quiet", "--python", str(python), "pytest>=8.2"], check=True)
    return python


@pytest.fixture
def bare_python(tmp_path: Path) -> Path:
    return venv(tmp_path / "venv")


@pytest.fixture
def marked_injection(tmp_path: Path) -> inject.Injection:
    """An injected copy whose version says it is the injected one."""
    source = tmp_path / "orchestrator" / "pytest_pipeline"
    shutil.copytree(inject.package_source(), source, ignore=shutil.ignore_patterns("__pycache__"))
    init = source / "__init__.py"
    init.write_text(init.read_text().replace('__version__ = "', '__version__ = "99.0+injected-'))
    return inject.prepare(tmp_path / "inject", source)


def run_pytest(
    python: Path, project: Path, injection: inject.Injection, *args: str, **extra: str
) -> tuple[int, str]:
    """pytest in the environment of ``python`` with the injection installed, as a cell runs it."""
    injection.install(site_packages(python.parent.parent))  # type: ignore[arg-type]
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON", "VIRTUAL_ENV"))}
    env = injection.environment(
        {**base, "PROBE": str(project / "probe.json"), **extra},
        cell="cell-a",
        stages=("unit",),
        junit_dir=project / "sessions",
        config=None,
    )
    done = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "test_it.py").write_text(TEST_FILE)
    return root


def check_ran(root: Path, copy: Path, version: str) -> None:
    import json

    probe = json.loads((root / "probe.json").read_text())
    assert probe["version"].startswith(version)
    assert Path(probe["file"]).is_relative_to(copy)
    assert Path(probe["plugin"]).is_relative_to(copy)
    (junit,) = (root / "sessions").glob("*.xml")
    suites = ET.parse(junit).getroot().findall("testsuite")
    stages = {p.get("value") for s in suites for p in s.iter("property") if p.get("name") == "stage"}
    assert stages == {"unit"}  # --stage=unit reached the plugin; smoke was deselected
    cells = {p.get("value") for s in suites for p in s.iter("property") if p.get("name") == "cell"}
    assert cells == {"cell-a"}


def check_ran_injected(root: Path, injection: inject.Injection) -> None:
    check_ran(root, injection.path, "99.0+injected-")


def test_plugin_loads_in_an_environment_without_it(
    bare_python: Path, tmp_path: Path, marked_injection: inject.Injection
) -> None:
    root = project(tmp_path)
    code, output = run_pytest(bare_python, root, marked_injection)
    assert code == 0, output
    check_ran_injected(root, marked_injection)
    probe = subprocess.run(
        [str(bare_python), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "pytest-pipeline" not in probe.stdout.lower().replace("_", "-").split("==")[0]


def test_plugin_loads_with_autoload_disabled(
    bare_python: Path, tmp_path: Path, marked_injection: inject.Injection
) -> None:
    root = project(tmp_path)
    code, output = run_pytest(bare_python, root, marked_injection, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert code == 0, output
    check_ran_injected(root, marked_injection)


def test_the_project_s_pythonpath_and_junitxml_lose_nothing(
    bare_python: Path, tmp_path: Path, marked_injection: inject.Injection
) -> None:
    """What set_env and the project's own command line commonly hold."""
    root = project(tmp_path)
    own = root / "own" / "junit.xml"
    code, output = run_pytest(
        bare_python, root, marked_injection, f"--junitxml={own}", PYTHONPATH=str(tmp_path / "elsewhere")
    )
    assert code == 0, output
    check_ran_injected(root, marked_injection)
    assert own.is_file()


def test_project_that_also_installs_us_tests_its_own_copy(
    tmp_path: Path, marked_injection: inject.Injection
) -> None:
    """Our own project under test: its wheel holds pytest_pipeline too. The installed,
    tested copy is imported (the injected folder comes after site-packages), and its
    `pipeline` entry point and ours are one plugin."""
    python = venv(tmp_path / "venv")
    site = site_packages(tmp_path / "venv")
    assert site is not None
    installed = site / "pytest_pipeline"
    shutil.copytree(inject.package_source(), installed, ignore=shutil.ignore_patterns("__pycache__"))
    init = installed / "__init__.py"
    init.write_text(init.read_text().replace('__version__ = "', '__version__ = "1.0+installed-'))
    dist_info = site / "pytest_pipeline_gate-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: pytest-pipeline-gate\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text("[pytest11]\npipeline = pytest_pipeline.plugin\n")
    root = project(tmp_path)
    code, output = run_pytest(python, root, marked_injection)
    assert code == 0, output
    assert "already registered" not in output
    check_ran(root, installed, "1.0+installed-")
