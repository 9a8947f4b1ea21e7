"""A cell is the tox environment it stands for: real tox and ``pytest-pipeline run`` side by side.

One small project, written as tox.ini (tox-uv's runner and plain virtualenv), tox.toml and
``[tool.tox]`` in pyproject.toml, with the settings that used to part us from tox:
``{envpython}`` in commands, ``deps`` that the package's own requirements upgrade, a
``set_env`` PYTHONPATH, a project's own ``--junitxml``, ``commands_pre``, a ``set_env`` file,
``{posargs}`` defaults, ``change_dir`` (the virtualenv and tox.toml forms run their
commands in ``tests``), two pytest runs in one environment. A test in it records what its
process sees (variables, folder, interpreter, a file read by a relative path). For each
form, tox runs the environment and so does the pipeline, and the test compares: the
verdict, pytest's counts, the installed distributions, and what the test saw, apart from
what the cell adds (the plugin's variables, the wheel in place of tox's sdist, the
environment folder's name, the hash seed tox draws per run).

And where a plain ``tox run`` already made ``.tox/ENV`` (tox's install of its sdist), a
cell still tests the run's wheel, whose sha256 ``run.json`` records, in its own
environment, and leaves tox's as it was.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest
from mini_project import write_project

from pipeline_testkit import clean_environ, frozen, pipeline_cli, pyenv_path
from pytest_pipeline.fileio import sha256_file

PYPROJECT = """
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "fid"
version = "1.0"
requires-python = ">=3.10"
dependencies = ["iniconfig>=2"]

[tool.hatch.build.targets.wheel]
packages = ["src/fid"]
"""

TESTS = """
import json, os, sys
from pathlib import Path

import iniconfig
import fid


def test_package_and_its_upgraded_requirement():
    assert fid.VALUE == 1
    # deps pinned iniconfig 1.1.1; the package's own requirement (>=2) upgrades it, as tox does
    from importlib.metadata import version
    assert version("iniconfig").startswith("2.")


def test_pythonpath_from_set_env():
    import helper  # tests/helpers is on the PYTHONPATH that set_env gives
    assert helper.OK


def test_commands_pre_ran():
    assert Path(os.environ["MARK"]).read_text() == "pre"


def test_record_what_the_process_sees():
    seen = {
        "environ": dict(os.environ),
        "cwd": os.getcwd(),
        "executable": sys.executable,
        "prefix": sys.prefix,
        "relative_read": Path("where.txt").read_text(),  # which folder change_dir made current
    }
    Path(os.environ["DUMP"]).write_text(json.dumps(seen))


def test_skipped():
    import pytest
    pytest.skip("on purpose")


def test_xfail():
    import pytest
    pytest.xfail("on purpose")
"""

INI = """
[tox]
env_list = py312
[testenv]
{runner}
{change_dir}
deps =
    pytest>=8
    iniconfig==1.1.1
set_env =
    PYTHONPATH = {{tox_root}}{{/}}tests{{/}}helpers
    DUMP = {{env_tmp_dir}}{{/}}seen.json
    MARK = {{env_tmp_dir}}{{/}}mark
    file|.env
pass_env = FIDELITY_*
commands_pre =
    {{envpython}} -c "import os, pathlib; pathlib.Path(os.environ['MARK']).write_text('pre')"
commands =
    {{envpython}} -m pytest {{posargs:{{tox_root}}{{/}}tests}} -p no:cacheprovider \\
        --junitxml {{env_tmp_dir}}{{/}}own.xml
    python -m pytest {{tox_root}}{{/}}tests{{/}}test_more.py -p no:cacheprovider
"""

TOML = """
env_list = ["py312"]
[env_run_base]
change_dir = "tests"
deps = ["pytest>=8", "iniconfig==1.1.1"]
pass_env = ["FIDELITY_*"]
commands_pre = [
  ["{envpython}", "-c", "import os, pathlib; pathlib.Path(os.environ['MARK']).write_text('pre')"],
]
commands = [
  ["{envpython}", "-m", "pytest", { replace = "posargs", default = ["{tox_root}{/}tests"], extend = true },
   "-p", "no:cacheprovider", "--junitxml", "{env_tmp_dir}{/}own.xml"],
  ["python", "-m", "pytest", "{tox_root}{/}tests{/}test_more.py", "-p", "no:cacheprovider"],
]
[env_run_base.set_env]
PYTHONPATH = "{tox_root}{/}tests{/}helpers"
DUMP = "{env_tmp_dir}{/}seen.json"
MARK = "{env_tmp_dir}{/}mark"
"""

FORMS = {
    "tox.ini-uv": ("tox.ini", INI.format(runner="", change_dir="")),
    "tox.ini-virtualenv": (
        "tox.ini",
        INI.format(runner="runner = virtualenv", change_dir="change_dir = tests"),
    ),
    "tox.toml": ("tox.toml", TOML),
    "pyproject-tool.tox": (
        "pyproject.toml",
        PYPROJECT
        + "\n[tool.tox]\n"
        + TOML.replace("[env", "[tool.tox.env").replace('change_dir = "tests"\n', ""),
    ),
}
CHANGE_DIR = {"tox.ini-virtualenv", "tox.toml"}
"""The forms whose commands run in ``tests`` (``change_dir``); the others in the project."""


def make_project(root: Path, form: str) -> Path:
    name, text = FORMS[form]
    project = root / form
    (project / "src" / "fid").mkdir(parents=True)
    (project / "src" / "fid" / "__init__.py").write_text("VALUE = 1\n")
    (project / "tests" / "helpers").mkdir(parents=True)
    (project / "tests" / "helpers" / "helper.py").write_text("OK = True\n")
    (project / "tests" / "test_fid.py").write_text(textwrap.dedent(TESTS))
    (project / "tests" / "test_more.py").write_text("def test_more():\n    pass\n")
    (project / ".env").write_text("FROM_FILE=yes\n")
    (project / "where.txt").write_text("project\n")
    (project / "tests" / "where.txt").write_text("tests\n")
    if name != "pyproject.toml":
        (project / "pyproject.toml").write_text(PYPROJECT)
    (project / name).write_text(text if name == "pyproject.toml" else textwrap.dedent(text))
    return project


COUNTS = re.compile(r"=+ (?P<body>(?:\d+ \w+(?:, )?)+) in [\d.]+s")


def pytest_counts(output: str) -> dict[str, int]:
    """Every pytest summary line of a tox run's output, added up."""
    total: dict[str, int] = {}
    for match in COUNTS.finditer(output):
        for part in match.group("body").split(", "):
            number, word = part.split(" ", 1)
            total[word] = total.get(word, 0) + int(number)
    return total


def junit_counts(path: Path) -> dict[str, int]:
    import xml.etree.ElementTree as ET

    counts: dict[str, int] = {}

    def add(word: str) -> None:
        counts[word] = counts.get(word, 0) + 1

    for case in ET.parse(path).getroot().iter("testcase"):
        skipped = case.find("skipped")
        if case.find("failure") is not None:
            add("failed")
        elif case.find("error") is not None:
            add("errors")
        elif skipped is not None:
            add("xfailed" if skipped.get("type") == "pytest.xfail" else "skipped")
        else:
            add("passed")
    return counts


def freeze(python: Path) -> set[str]:
    return {line for line in frozen(python) if not line.startswith("fid")}


OURS = ("PYTEST_ADDOPTS", "PYTEST_PIPELINE_")
"""What the cell adds to the environment: the plugin's options and settings."""


def normalised(seen: dict[str, Any], env_dir: Path, root: Path) -> dict[str, Any]:
    """What the test saw, with the folders (environment, tox's work folder, project)
    named alike on both sides."""
    text = json.dumps(seen)
    for folder, name in ((env_dir, "<env>"), (env_dir.parent, "<work>"), (root, "<root>")):
        text = text.replace(str(folder), name)
    data = json.loads(text)
    environ = data["environ"]
    for name in list(environ):
        if name.startswith(OURS) or name in ("PYTEST_CURRENT_TEST", "PYTHONHASHSEED", "TOX_PACKAGE"):
            del environ[name]
    return data


@pytest.fixture(scope="module")
def environ() -> dict[str, str]:
    try:
        path = pyenv_path("3.12")
    except LookupError as missing:
        pytest.skip(str(missing))
    return clean_environ(PATH=path, NO_COLOR="1", FIDELITY_PASSED="through pass_env")


@pytest.mark.parametrize("form", sorted(FORMS))
def test_a_cell_is_what_tox_makes_and_runs(tmp_path: Path, environ: dict[str, str], form: str) -> None:
    # tox first, as a user would; then our run in a copy (no .tox there: nothing to lean on)
    ours = make_project(tmp_path / "ours", form)
    theirs = make_project(tmp_path / "theirs", form)
    tox = subprocess.run(
        [sys.executable, "-m", "tox", "run", "-e", "py312"],
        cwd=theirs,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tox.returncode == 0, tox.stdout[-3000:]
    result = pipeline_cli(
        "run", "-e", "py312", "--reports-dir", str(tmp_path / "reports"), cwd=ours, env=environ
    )
    record = json.loads((tmp_path / "reports" / "run.json").read_text())
    (cell,) = record["cells"]
    assert cell["status"] == "passed", (result.stdout[-3000:], cell)
    assert "runs native" in (tmp_path / "reports" / cell["log"]).read_text()

    # pytest's counts: both pytest runs of the environment, as tox ran them
    expected = pytest_counts(tox.stdout)
    assert expected == {"passed": 6, "skipped": 1, "xfailed": 1}
    assert junit_counts(tmp_path / "reports" / cell["junit"]) == expected

    # the same distributions at the same versions (the package itself: tox's sdist, our wheel)
    their_env, our_env = theirs / ".tox" / "py312", ours / ".tox" / ".pipeline" / "py312"
    assert freeze(our_env / "bin" / "python") == freeze(their_env / "bin" / "python")

    # what the test process saw: variables, folder, interpreter
    seen_by_tox = normalised(json.loads((their_env / "tmp" / "seen.json").read_text()), their_env, theirs)
    seen_by_us = normalised(json.loads((our_env / "tmp" / "seen.json").read_text()), our_env, ours)
    differ = {
        key: (seen_by_tox["environ"].get(key), seen_by_us["environ"].get(key))
        for key in {*seen_by_tox["environ"], *seen_by_us["environ"]}
        if seen_by_tox["environ"].get(key) != seen_by_us["environ"].get(key)
    }
    assert differ == {}, "variables (tox's, ours) that differ"
    assert seen_by_us == seen_by_tox
    in_tests = form in CHANGE_DIR
    assert seen_by_us["cwd"] == ("<root>/tests" if in_tests else "<root>")
    assert seen_by_us["relative_read"] == ("tests\n" if in_tests else "project\n")
    assert seen_by_us["environ"]["FIDELITY_PASSED"] == "through pass_env"
    if form.startswith("tox.ini"):
        assert seen_by_us["environ"]["FROM_FILE"] == "yes"  # set_env file| reference
    # the project's own --junitxml was written where it asked
    assert (our_env / "tmp" / "own.xml").is_file()


RECORDS_WHAT_IT_TESTS = """
import hashlib, json, sys
from pathlib import Path

import mini


def test_record_what_is_tested():
    seen = {
        "prefix": sys.prefix,
        "module_sha256": hashlib.sha256(Path(mini.__file__).read_bytes()).hexdigest(),
    }
    (Path(__file__).parents[1] / "seen.json").write_text(json.dumps(seen))
"""


def test_a_cell_tests_the_runs_wheel_in_its_own_environment_beside_toxs(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    # a plain `tox run` first: .tox/py312 holds tox's install of its sdist of the package
    project = write_project(tmp_path / "proj", env_list=("py312",), test=RECORDS_WHAT_IT_TESTS)
    tox = subprocess.run(
        [sys.executable, "-m", "tox", "run", "-e", "py312"],
        cwd=project,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tox.returncode == 0, tox.stdout[-3000:]
    tox_env = project / ".tox" / "py312"
    assert Path(json.loads((project / "seen.json").read_text())["prefix"]).resolve() == tox_env.resolve()
    # an edit after it: only the run's wheel has it, tox's environment does not
    module = project / "src" / "mini" / "__init__.py"
    module.write_text(module.read_text() + "EDITED = True\n")

    reports = tmp_path / "reports"
    result = pipeline_cli("run", "-e", "py312", "--reports-dir", str(reports), cwd=project, env=environ)
    record = json.loads((reports / "run.json").read_text())
    (cell,) = record["cells"]
    assert cell["status"] == "passed", (result.stdout[-3000:], cell)

    seen = json.loads((project / "seen.json").read_text())
    assert Path(seen["prefix"]).resolve() == (project / ".tox" / ".pipeline" / "py312").resolve()
    wheel = reports / "dist" / record["artifact"]["name"]
    assert sha256_file(wheel) == record["artifact"]["sha256"]
    with zipfile.ZipFile(wheel) as archive:
        in_wheel = archive.read("mini/__init__.py")
    assert b"EDITED" in in_wheel
    assert seen["module_sha256"] == hashlib.sha256(in_wheel).hexdigest()
    # tox's own environment is tox's, untouched
    (toxs_copy,) = tox_env.glob("lib/python3.12/site-packages/mini/__init__.py")
    assert b"EDITED" not in toxs_copy.read_bytes()
