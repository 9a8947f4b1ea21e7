"""The sample project's real matrix: tox + uv (and virtualenv + pip, and nox) on 3.10 and 3.12.

What the sample is built to show (examples/sample-project/README.md): staged tests in
unit/integration/smoke, an attrs axis with two versions, ``stamp()`` failing only on
3.12 (utcnow is deprecated there and warnings are errors), and a smoke test that passes
on its second attempt (``retries = 2``). Each run works on a copy in a temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from pipeline_testkit import copy_sample, pipeline_cli
from pytest_pipeline.junit import summarize
from pytest_pipeline.runner import envs

TOX_CELLS = ("py310-attrs23", "py310-attrs24", "py312-attrs23", "py312-attrs24")
TIMEOUT = 900


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_sample(tmp_path_factory.mktemp("e2e") / "sample")


def pipeline(project: Path, environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return pipeline_cli("run", *args, cwd=project, env=environ, timeout=TIMEOUT)


def load(reports: Path) -> tuple[dict[str, dict[str, object]], dict[str, object]]:
    record = json.loads((reports / "run.json").read_text())
    run_schema = json.loads((resources.files("pytest_pipeline") / "run.schema.json").read_text())
    jsonschema.Draft202012Validator(run_schema).validate(record)  # what the docs promise
    return {cell["name"]: cell for cell in record["cells"]}, record


def env_python(project: Path, cell: str) -> Path:
    return envs.python_in(project / ".tox" / ".pipeline" / cell)


def ask(python: Path, code: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=clean, check=False)


def check_sample_results(reports: Path, cells: tuple[str, ...]) -> None:
    summary = summarize([reports / "junit.xml"])
    for cell in cells:
        unit, integration, smoke = (
            summary.groups[(cell, stage)] for stage in ("unit", "integration", "smoke")
        )
        if cell.startswith("py310") or "3.10" in cell:
            assert (unit.passed, unit.bad) == (7, 0), cell
            assert (integration.passed, integration.bad) == (2, 0), cell
            assert (smoke.passed, smoke.flaky, smoke.bad) == (1, 1, 0), cell  # the flaky pass, counted
        else:
            assert (unit.passed, unit.failed) == (6, 1), cell
            assert (integration.blocked, smoke.blocked) == (2, 1), cell  # blocked by the unit failure
            assert integration.passed == smoke.passed == 0
    failing = {(ref.cell, ref.name) for ref in summary.failures if ref.outcome.value == "failed"}
    assert failing == {(cell, "test_stamp_is_utc") for cell in cells if "312" in cell or "3.12" in cell}


def test_tox_matrix_cold_then_warm(project: Path, environ: dict[str, str]) -> None:
    cold = pipeline(project, environ)
    assert cold.returncode == 1, cold.stdout + cold.stderr  # the gate: tests failed
    reports = project / "pipeline-reports"
    cells, record = load(reports)
    assert set(cells) == set(TOX_CELLS)
    for name in TOX_CELLS:
        assert cells[name]["status"] == ("passed" if name.startswith("py310") else "failed"), cells[name]
        assert cells[name]["stages"] == ["unit", "integration", "smoke"]
    check_sample_results(reports, TOX_CELLS)
    gate = json.loads((reports / "gate.json").read_text())
    assert gate["code"] == 1
    assert "GATE CLOSED (1)" in cold.stdout

    # one wheel, built once, installed in every cell; its sha256 went to the gate
    (wheel,) = (reports / "dist").glob("greeter-1.0.0-*.whl")
    artifact = record["artifact"]
    assert isinstance(artifact, dict)
    assert artifact["name"] == wheel.name
    for name in TOX_CELLS:
        python = env_python(project, name)
        installed_from = ask(
            python,
            "import json, importlib.metadata as m; "
            "print(json.loads(m.distribution('greeter').read_text('direct_url.json'))['url'])",
        )
        assert installed_from.stdout.strip().endswith(f"pipeline-reports/dist/{wheel.name}"), installed_from
        attrs = ask(python, "import attrs; print(attrs.__version__)").stdout.strip()
        assert attrs.startswith("23.2." if name.endswith("attrs23") else "24.2."), (name, attrs)
        # nothing of the orchestrator was installed into the user's environment (the
        # plugin's folder joins sys.path only in the cell's own processes)
        for module in ("pytest_pipeline", "tox", "virtualenv", "rich"):
            assert ask(python, f"import {module}").returncode != 0, (name, module)
        frozen = subprocess.run(
            [sys.executable, "-m", "uv", "pip", "freeze", "--python", str(python)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "pytest-pipeline" not in frozen.replace("_", "-"), frozen

    warm = pipeline(project, environ)
    assert warm.returncode == 1, warm.stdout + warm.stderr
    cells, _ = load(reports)
    for name in TOX_CELLS:
        assert "environment reused" in str(cells[name]["message"]), cells[name]
    assert "reused" in (reports / "build.log").read_text()
    check_sample_results(reports, TOX_CELLS)


def test_tox_e_matrix(project: Path, environ: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tox", "-e", "matrix", "--", "-p", "2"],
        cwd=project,
        env=environ,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr  # tox exits with the gate code
    cells, _ = load(project / "pipeline-reports")
    assert set(cells) == set(TOX_CELLS)
    check_sample_results(project / "pipeline-reports", TOX_CELLS)


def test_virtualenv_and_pip_without_uv(project: Path, environ: dict[str, str]) -> None:
    """tox's own virtualenv runner (TOX_DEFAULT_RUNNER, which tox reads): the cell's
    environment is made as tox makes it then, with virtualenv and pip."""
    reports = project / "reports-pip"
    done = pipeline(
        project,
        {**environ, "TOX_DEFAULT_RUNNER": "virtualenv"},
        "--installer",
        "pip",
        "-e",
        "py310-attrs23",
        "--reports-dir",
        str(reports),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    cells, _ = load(reports)
    assert cells["py310-attrs23"]["status"] == "passed"
    log = (reports / "cells" / "py310-attrs23" / "log.txt").read_text()
    assert "-m virtualenv" in log
    assert "-m pip install" in log
    check_sample_results(reports, ("py310-attrs23",))


def test_nox_sessions(tmp_path: Path, environ: dict[str, str]) -> None:
    if shutil.which("nox", path=os.path.dirname(sys.executable)) is None:
        pytest.skip("nox is not installed beside pytest-pipeline")
    project = copy_sample(tmp_path / "sample")
    chosen = ("tests-3.10(attrs='23.2')", "tests-3.12(attrs='24.2')")
    done = pipeline(project, environ, "--tool", "nox", *(arg for cell in chosen for arg in ("-e", cell)))
    assert done.returncode == 1, done.stdout + done.stderr
    cells, _ = load(project / "pipeline-reports")
    assert {name: cell["status"] for name, cell in cells.items()} == {
        chosen[0]: "passed",
        chosen[1]: "failed",
    }
    check_sample_results(project / "pipeline-reports", chosen)


PLAIN_SESSION = """

@nox.session(python="3.12", venv_backend="uv|virtualenv")
def plain(session: nox.Session) -> None:
    session.install("pytest>=8", ".")
    session.run("pytest", *session.posargs)
"""

ATTRS_PROBE = """
import attrs
import pytest


def test_attrs_version():
    pytest.skip(f"attrs {attrs.__version__}")  # the skip message shows in the cell's JUnit file
"""


def test_an_axis_value_is_in_effect_in_tox_and_nox_cells(tmp_path: Path, environ: dict[str, str]) -> None:
    """``attrs = ["23.2", "24.2"]`` in [tool.pytest-pipeline.matrix] on an environment
    without an attrs factor: each axis cell's tests import the attrs version it pins."""
    if shutil.which("nox", path=os.path.dirname(sys.executable)) is None:
        pytest.skip("nox is not installed beside pytest-pipeline")
    project = copy_sample(tmp_path / "sample")
    pyproject = project / "pyproject.toml"
    axis = '\n[tool.pytest-pipeline.matrix]\nattrs = ["23.2", "24.2"]\n'
    pyproject.write_text(pyproject.read_text() + axis)
    tox_ini = project / "tox.ini"
    tox_ini.write_text(tox_ini.read_text().replace("attrs{23,24}, lint", "attrs{23,24}, py312, lint"))
    (project / "noxfile.py").write_text((project / "noxfile.py").read_text() + PLAIN_SESSION)
    (project / "tests" / "unit" / "test_attrs_probe.py").write_text(ATTRS_PROBE)
    for tool, base in (("tox", "py312"), ("nox", "plain")):
        reports = project / f"reports-{tool}"
        done = pipeline(project, environ, "--tool", tool, "-e", base, "--reports-dir", str(reports))
        assert done.returncode == 1, done.stdout + done.stderr  # stamp() fails on 3.12
        cells, record = load(reports)
        assert set(cells) == {f"{base}+attrs23.2", f"{base}+attrs24.2"}
        for version in ("23.2", "24.2"):
            junit = (reports / "cells" / f"{base}+attrs{version}" / "junit.xml").read_text()
            assert f'message="attrs {version}.' in junit, (tool, version)
        # tox cells test the one built wheel, whose sha256 goes to the gate; nox cells
        # test what their session installed itself, and say so
        if tool == "tox":
            assert record["artifact"]["name"].startswith("greeter-"), tool
            assert {cell["tested"] for cell in record["cells"]} == {"wheel"}
        else:
            assert record["artifact"] is None
            assert {cell["tested"] for cell in record["cells"]} == {"source"}
