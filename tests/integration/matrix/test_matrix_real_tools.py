"""Discovery against the real tox and nox, on the shipped sample project and a
pluggy-like tox.ini (each real tool call takes about a second)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline_testkit import copy_sample, pipeline_cli, pyenv_bin_dir
from pytest_pipeline.config import load
from pytest_pipeline.matrix import from_tox
from pytest_pipeline.matrix.discover import Request, discover
from pytest_pipeline.matrix.toolrun import tool_environment

# pluggy's tox.ini, as far as discovery is concerned: it knows nothing about us.
PLUGGY_LIKE_TOX_INI = """\
[tox]
envlist = py{310,311,312,313,314,py3}
labels =
    fast = py311, py312

[testenv]
deps =
    pytest
    hypothesis
commands = {envpython} -m pytest {posargs}

[testenv:docs]
deps = sphinx
commands = sphinx-build -W -b html docs docs/_build
"""


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A copy of the sample project, so the discovery cache lands in tmp_path."""
    return copy_sample(tmp_path / "sample")


def interpreters_dir(tmp_path: Path) -> tuple[Path, set[str]]:
    """A PATH folder holding this machine's CPython 3.10-3.13 (as symlinks), nothing else."""
    folder = tmp_path / "pythons"
    folder.mkdir()
    have: set[str] = set()
    for minor in ("3.10", "3.11", "3.12", "3.13"):
        bin_dir = pyenv_bin_dir(minor)
        if bin_dir is not None:
            (folder / f"python{minor}").symlink_to(bin_dir / f"python{minor}")
            have.add(minor)
    own = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if own not in have:
        (folder / f"python{own}").symlink_to(sys.executable)
        have.add(own)
    return folder, have


def test_tox_sample_project(sample: Path) -> None:
    plan = discover(sample, load(sample / "pyproject.toml"), Request(tool="tox"))
    assert plan.tool == "tox"
    assert re.match(r"^4\.\d+", plan.tool_version)
    assert [(c.name, c.python, dict(c.factors)) for c in plan.cells] == [
        ("py310-attrs23", "3.10", {"attrs": "23.2"}),
        ("py310-attrs24", "3.10", {"attrs": "24.2"}),
        ("py312-attrs23", "3.12", {"attrs": "23.2"}),
        ("py312-attrs24", "3.12", {"attrs": "24.2"}),
    ]
    assert all(c.stages == ("unit", "integration", "smoke") for c in plan.cells)
    assert plan.left_out == ("lint",)
    for cell in plan.cells:
        assert cell.config["deps"][0] == "pytest>=8"
        assert isinstance(cell.python_found, bool)
        if cell.python_found:
            assert cell.python_version is not None
            assert cell.python_version.startswith(f"{cell.python}.")
            assert Path(cell.python_path or "").is_file()


def test_tox_json_and_ini_output_agree(sample: Path) -> None:
    env = tool_environment()
    as_json = from_tox.query(sample, env, source_format="json")
    as_ini = from_tox.query(sample, env, source_format="ini")
    assert as_json.envs == as_ini.envs
    assert as_json.settings == as_ini.settings


def test_nox_sample_project(sample: Path) -> None:
    pytest.importorskip("nox")
    plan = discover(sample, load(sample / "pyproject.toml"), Request(tool="nox", check_interpreters=False))
    assert plan.tool == "nox"
    assert [(c.name, c.python, dict(c.factors), c.labels) for c in plan.cells] == [
        ("tests-3.10(attrs='23.2')", "3.10", {"attrs": "23.2"}, ("tests",)),
        ("tests-3.10(attrs='24.2')", "3.10", {"attrs": "24.2"}, ("tests",)),
        ("tests-3.12(attrs='23.2')", "3.12", {"attrs": "23.2"}, ("tests",)),
        ("tests-3.12(attrs='24.2')", "3.12", {"attrs": "24.2"}, ("tests",)),
    ]
    assert plan.left_out == ("lint",)


def test_pluggy_like_tox_ini_as_it_is_with_314_and_pypy3_missing(tmp_path: Path) -> None:
    project = tmp_path / "pluggy"
    project.mkdir()
    (project / "tox.ini").write_text(PLUGGY_LIKE_TOX_INI, encoding="utf-8")
    folder, have = interpreters_dir(tmp_path)
    environ = {**os.environ, "PATH": str(folder)}
    environ.pop("PYENV_VERSION", None)
    plan = discover(project, load(project / "pyproject.toml"), Request(environ=environ))
    assert [c.name for c in plan.cells] == ["py310", "py311", "py312", "py313", "py314", "pypy3"]
    assert all(c.runs_pytest for c in plan.cells)  # {envpython} -m pytest
    assert plan.left_out == ()  # docs is not in envlist: not even a candidate by default
    by_name = {c.name: c for c in plan.cells}
    assert by_name["py314"].missing
    assert by_name["pypy3"].missing
    assert plan.missing_reasons["pypy3"] == "no pypy3 on PATH; install Python pypy3 or put it on PATH"
    for minor in ("3.10", "3.11", "3.12", "3.13"):
        cell = by_name[f"py{minor.replace('.', '')}"]
        assert cell.python_found is (minor in have)
    assert by_name["py311"].labels == ("fast",)

    # the same variables (PATH decides which uv tox-uv names, for one): tox's answer is cached
    fast = discover(
        project,
        load(project / "pyproject.toml"),
        Request(labels=["fast"], check_interpreters=False, environ=environ),
    )
    assert [c.name for c in fast.cells] == ["py311", "py312"]
    assert fast.from_cache
    docs = discover(
        project,
        load(project / "pyproject.toml"),
        Request(select=["docs"], check_interpreters=False, environ=environ),
    )
    assert [(c.name, c.runs_pytest, c.stages) for c in docs.cells] == [("docs", False, ())]


def test_with_virtualenv_s_runner_a_missing_interpreter_is_a_missing_cell_not_a_broken_one(
    tmp_path: Path,
) -> None:
    # tox's own runner (no tox-uv, as `pip install pytest-pipeline-gate` gives) cannot
    # resolve install_command and env_site_packages_dir without the interpreter
    project = tmp_path / "pluggy"
    project.mkdir()
    (project / "tox.ini").write_text(PLUGGY_LIKE_TOX_INI, encoding="utf-8")
    folder, _ = interpreters_dir(tmp_path)
    environ = {**os.environ, "PATH": str(folder), "TOX_DEFAULT_RUNNER": "virtualenv"}
    environ.pop("PYENV_VERSION", None)
    plan = discover(project, load(project / "pyproject.toml"), Request(environ=environ))
    by_name = {c.name: c for c in plan.cells}
    assert by_name["py314"].missing
    assert by_name["pypy3"].missing
    assert by_name["py314"].runs_pytest


def test_cache_is_used_and_invalidated_by_a_tox_ini_change(sample: Path) -> None:
    config = load(sample / "pyproject.toml")
    request = Request(tool="tox", check_interpreters=False)
    assert not discover(sample, config, request).from_cache
    assert discover(sample, config, request).from_cache
    tox_ini = sample / "tox.ini"
    tox_ini.write_text(
        tox_ini.read_text(encoding="utf-8").replace("py{310,312}", "py{310,312,313}"), encoding="utf-8"
    )
    changed = discover(sample, config, request)
    assert not changed.from_cache
    assert "py313-attrs24" in [c.name for c in changed.cells]


def plan_cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return pipeline_cli("plan", "--project", str(project), *args, timeout=120)


def test_plan_command_json_on_the_sample(sample: Path) -> None:
    done = plan_cli(sample, "--format", "json", "-e", "py312*")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["version"] == 1
    assert data["tool"] == "tox"
    assert [c["name"] for c in data["cells"]] == ["py312-attrs23", "py312-attrs24"]
    assert data["cells"][0]["factors"] == {"attrs": "23.2"}


def test_a_tox_ini_that_fails_to_load_exits_4_with_toxs_error_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "tox.ini").write_text("[tox\nenvlist = py310\n", encoding="utf-8")
    done = plan_cli(tmp_path)
    assert done.returncode == 4
    lines = done.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"pytest-pipeline: error: {tmp_path / 'tox.ini'}: tox cannot load it: ")
    assert "File contains no section headers" in lines[0]
    assert done.stdout == ""
    assert not (tmp_path / ".pytest-pipeline").exists()


def test_a_noxfile_that_fails_to_load_exits_4_with_its_exception(tmp_path: Path) -> None:
    pytest.importorskip("nox")
    (tmp_path / "noxfile.py").write_text(
        "import nox\n\n@nox.session(python=['3.12'])\ndef tests(session):\n    pass\n\n"
        "raise RuntimeError('boom in noxfile')\n",
        encoding="utf-8",
    )
    done = plan_cli(tmp_path, "--tool", "nox")
    assert done.returncode == 4
    (line,) = done.stderr.splitlines()
    assert "nox cannot load it: RuntimeError: boom in noxfile (noxfile.py, line 7)" in line
    assert not (tmp_path / ".pytest-pipeline").exists()


def test_env_names_that_would_escape_the_reports_folder(tmp_path: Path) -> None:
    (tmp_path / "tox.ini").write_text(
        "[tox]\nenv_list = py312, .hidden, odd?name\n[testenv]\ncommands = pytest\n", encoding="utf-8"
    )
    done = plan_cli(tmp_path)
    assert done.returncode == 4
    assert "cell name '.hidden' starts with '.'" in done.stderr
    assert len(done.stderr.splitlines()) == 1
    assert plan_cli(tmp_path, "-e", "py312", "--format", "json").returncode == 0


def test_an_unknown_config_key_exits_4_before_tox_runs(sample: Path) -> None:
    pyproject = sample / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8") + "\n[tool.pytest-pipeline.run]\ntools = 'tox'\n"
    pyproject.write_text(text, encoding="utf-8")
    done = plan_cli(sample)
    assert done.returncode == 4
    (line,) = done.stderr.splitlines()
    assert "[tool.pytest-pipeline.run] has unknown key 'tools'; known keys: " in line
    assert ", tool" in line
    assert not (sample / ".pytest-pipeline").exists()


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[Path]:
    """``folder`` as a read-only folder: a read-only bind mount as root (root writes past
    permissions), its write bits removed otherwise."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
        return
    view = folder.with_name(folder.name + "-read-only")
    view.mkdir()
    mounted = subprocess.run(["mount", "--bind", str(folder), str(view)], capture_output=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot bind-mount a read-only view here: {mounted.stderr.decode().strip()}")
    try:
        remounted = subprocess.run(
            ["mount", "-o", "remount,ro,bind", str(view)], capture_output=True, check=False
        )
        if remounted.returncode != 0:
            pytest.skip(f"cannot make the bind mount read-only: {remounted.stderr.decode().strip()}")
        yield view
    finally:
        subprocess.run(["umount", str(view)], check=True)


@pytest.mark.skipif(sys.platform != "linux", reason="a read-only bind mount or permissions (Linux)")
def test_a_read_only_project_is_named_as_not_writable(sample: Path) -> None:
    """tox writes .tox even to list environments: the project is not writable, and
    saying "tox cannot load it" sends the user to a tox.ini that is fine."""
    with read_only(sample) as project:
        done = plan_cli(project)
    assert done.returncode == 4, done.stdout + done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"pytest-pipeline: error: {project}: cannot be written (")
    assert "tox writes its work folder .tox there" in line
    assert "cannot load it" not in line
