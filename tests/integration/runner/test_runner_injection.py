"""Our plugin inside a cell's environment without installing it: real pytest runs.

Checks the two claims of :mod:`pytest_pipeline.runner.inject` for real: ``-p pipeline``
loads the entry point from the injected folder (also with plugin autoload disabled), and
an environment that *also* has pytest-pipeline-gate installed gets no "registered twice"
error, with the injected (orchestrator's) copy winning.
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


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with pytest and nothing of ours (what a user's cell looks like)."""
    uv = envs.find_uv()
    if uv is None:
        pytest.skip("uv is needed to create the test environment quickly")
    folder = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(folder)], check=True)
    python = envs.bin_dir(folder) / "python"
    subprocess.run([uv, "pip", "install", "--quiet", "--python", str(python), "pytest>=8.2"], check=True)
    return python


@pytest.fixture
def marked_injection(tmp_path: Path) -> inject.Injection:
    """An injected copy whose version says it is the injected one."""
    source = tmp_path / "orchestrator" / "pytest_pipeline"
    shutil.copytree(inject.package_source(), source, ignore=shutil.ignore_patterns("__pycache__"))
    init = source / "__init__.py"
    init.write_text(init.read_text().replace('__version__ = "', '__version__ = "99.0+injected-'))
    return inject.prepare(tmp_path / "inject", source)


def run_pytest(python: Path, project: Path, injection: inject.Injection, **extra: str) -> tuple[int, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON"))}
    env = injection.environment(
        {**base, "PROBE": str(project / "probe.json"), **extra},
        cell="cell-a",
        stages=("unit",),
        junit=project / "junit.xml",
        config=None,
    )
    done = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
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


def check_ran_injected(root: Path, injection: inject.Injection) -> None:
    import json

    probe = json.loads((root / "probe.json").read_text())
    assert probe["version"].startswith("99.0+injected-")
    assert Path(probe["file"]).is_relative_to(injection.path)
    assert Path(probe["plugin"]).is_relative_to(injection.path)
    suites = ET.parse(root / "junit.xml").getroot().findall("testsuite")
    stages = {p.get("value") for s in suites for p in s.iter("property") if p.get("name") == "stage"}
    assert stages == {"unit"}  # --stage=unit reached the plugin; smoke was deselected
    cells = {p.get("value") for s in suites for p in s.iter("property") if p.get("name") == "cell"}
    assert cells == {"cell-a"}


def test_plugin_loads_in_an_environment_without_it(
    bare_python: Path, tmp_path: Path, marked_injection: inject.Injection
) -> None:
    root = project(tmp_path)
    code, output = run_pytest(bare_python, root, marked_injection)
    assert code == 0, output
    check_ran_injected(root, marked_injection)
    probe = subprocess.run(
        [str(bare_python), "-c", "import importlib.util as u; print(u.find_spec('pytest_pipeline'))"],
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert probe.stdout.strip() == "None"  # nothing was installed into the environment


def test_plugin_loads_with_autoload_disabled(
    bare_python: Path, tmp_path: Path, marked_injection: inject.Injection
) -> None:
    root = project(tmp_path)
    code, output = run_pytest(bare_python, root, marked_injection, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert code == 0, output
    check_ran_injected(root, marked_injection)


def test_project_that_also_installs_us_gets_the_orchestrators_copy(
    tmp_path: Path, marked_injection: inject.Injection
) -> None:
    # The dev environment has pytest-pipeline-gate installed: a second `pipeline`
    # entry point for the same module name.
    root = project(tmp_path)
    code, output = run_pytest(Path(sys.executable), root, marked_injection)
    assert code == 0, output
    assert "already registered" not in output
    check_ran_injected(root, marked_injection)
