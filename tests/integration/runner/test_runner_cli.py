"""``pytest-pipeline run`` on a tiny real project: outputs, warm reuse, tox fallback, bad input."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from mini_project import write_project

from pipeline_testkit import pipeline_cli
from pytest_pipeline.runner import envs, outputs

TEST = """
import pytest
import mini

def test_answer():
    assert mini.ANSWER == 42

@pytest.mark.smoke
def test_smoke():
    assert mini.__file__.endswith("__init__.py")
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    if envs.find_uv() is None:
        pytest.skip("uv keeps this test fast")
    return write_project(tmp_path / "mini", stages=("unit", "smoke"), env_list=("py", "pypy3"), test=TEST)


def run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return pipeline_cli("run", *args, cwd=project)


def test_run_writes_outputs_then_reuses_everything(project: Path) -> None:
    first = run(project)
    assert first.returncode == 0, first.stdout + first.stderr
    reports = project / "pipeline-reports"
    record = json.loads((reports / "run.json").read_text())
    cells = {cell["name"]: cell for cell in record["cells"]}
    assert cells["py"]["status"] == "passed"
    assert cells["pypy3"]["status"] == "missing-interpreter"
    assert cells["py"]["junit"] == "cells/py/junit.xml"
    assert cells["py"]["log"] == "cells/py/log.txt"
    (wheel,) = (reports / "dist").glob("mini-1.0-*.whl")
    assert record["artifact"] == {
        "name": wheel.name,
        "sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
    }
    for name in ("junit.xml", "gate.json", "build.log", "cells/py/junit.xml", "cells/py/log.txt"):
        assert (reports / name).is_file(), name
    assert json.loads((reports / "gate.json").read_text())["code"] == 0
    assert "environment created" in cells["py"]["message"]
    assert "GATE OPEN (0)" in first.stdout
    assert "py" in first.stdout
    assert "pypy3: missing-interpreter" in first.stdout

    second = run(project)
    assert second.returncode == 0, second.stdout + second.stderr
    cells = {cell["name"]: cell for cell in json.loads((reports / "run.json").read_text())["cells"]}
    assert "environment reused" in cells["py"]["message"]
    assert "reused" in (reports / "build.log").read_text()

    # a changed package: rebuilt, and only the package is reinstalled
    (project / "src" / "mini" / "__init__.py").write_text("ANSWER = 42\nNEW = 1\n")
    third = run(project, "-e", "py")
    assert third.returncode == 0, third.stdout + third.stderr
    cells = {cell["name"]: cell for cell in json.loads((reports / "run.json").read_text())["cells"]}
    assert "environment package-reinstalled" in cells["py"]["message"]


def test_backend_tox_runs_the_cell_through_tox(project: Path) -> None:
    done = run(project, "--backend", "tox", "-e", "py", "--", "-o", "junit_suite_name=from-the-command-line")
    assert done.returncode == 0, done.stdout + done.stderr
    reports = project / "pipeline-reports"
    log = (reports / "cells" / "py" / "log.txt").read_text()
    assert "runs tox: backend = 'tox' is configured" in log
    assert "--installpkg" in log  # tox made the environment with the run's wheel
    assert "--skip-pkg-install" in log  # ... and ran the commands in it
    junit = (reports / "cells" / "py" / "junit.xml").read_text()
    assert "test_answer" in junit
    assert "from-the-command-line" in junit  # the pytest arguments after -- reached the cell
    record = json.loads((reports / "run.json").read_text())
    # what `rerun` needs to run the cells the same way again
    assert record["pytest_args"] == ["-o", "junit_suite_name=from-the-command-line"]
    assert (record["backend"], record["installer"]) == ("tox", "uv")


OLD_REPORTS = (
    "run.json",
    "gate.json",
    "junit.xml",
    "build.log",
    "cells/py/log.txt",
    "dist/mini-0.9-py3-none-any.whl",
)


def seed_old_reports(reports: Path) -> None:
    """What a previous run left in the reports folder (its lock file included)."""
    for name in (*OLD_REPORTS, outputs.LOCK_NAME):
        (reports / name).parent.mkdir(parents=True, exist_ok=True)
        (reports / name).write_text(f"old {name}\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-e", "nosuchcell"), "nosuchcell"),
        (("--installpkg", "README.md"), "--installpkg README.md: not a wheel file"),
        (("--installpkg", "broken.whl"), "--installpkg broken.whl: cannot be read as a wheel"),
        (("-p", "0"), "expected 'auto' or a number of cells"),
    ],
)
def test_bad_input_is_one_line_and_exit_4(project: Path, args: tuple[str, ...], message: str) -> None:
    (project / "README.md").write_text("hi\n")
    (project / "broken.whl").write_text("not a zip\n")
    reports = project / "pipeline-reports"
    seed_old_reports(reports)
    done = run(project, *args)
    assert done.returncode == 4, done.stdout + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    # a usage error costs nothing: the previous run's results are all still there
    for name in OLD_REPORTS:
        assert (reports / name).read_text() == f"old {name}\n", name


@pytest.mark.parametrize("table", ["gate", "hook"])
def test_a_wrong_key_in_any_table_is_refused_before_any_work(project: Path, table: str) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + f"\n[tool.pytest-pipeline.{table}]\nbogus = 1\n")
    done = run(project)
    assert done.returncode == 4, done.stdout + done.stderr
    assert f"[tool.pytest-pipeline.{table}] has unknown key 'bogus'" in done.stderr
    assert not (project / "pipeline-reports").exists()


@pytest.mark.parametrize(
    ("args", "setting", "option"),
    [
        (("--reports-dir", "."), None, "--reports-dir"),
        (("--reports-dir", ".."), None, "--reports-dir"),
        ((), 'reports-dir = ""', "[tool.pytest-pipeline] reports-dir"),
    ],
)
def test_a_reports_folder_that_holds_the_project_is_refused(
    project: Path, args: tuple[str, ...], setting: str | None, option: str
) -> None:
    if setting:
        pyproject = project / "pyproject.toml"
        table = "[tool.pytest-pipeline]\n"
        pyproject.write_text(pyproject.read_text().replace(table, f"{table}{setting}\n"))
    # the project's own files of the names a run writes
    theirs = {
        "dist/mypkg-0.1-py3-none-any.whl": "wheel",
        "cells/notes.txt": "notes",
        "junit.xml": "<testsuites/>",
    }
    for name, text in theirs.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    done = run(project, *args)
    assert done.returncode == 4, done.stdout + done.stderr
    (line,) = done.stderr.splitlines()
    assert f"{option} " in line
    assert "give the reports a folder of their own" in line
    for name, text in theirs.items():
        assert (project / name).read_text() == text, name
    assert not (project / outputs.LOCK_NAME).exists()


def test_a_tox_ini_that_does_not_load_leaves_the_project_as_it_was(project: Path) -> None:
    # the build starts while tox is asked for the matrix; tox's refusal must undo nothing
    (project / "tox.ini").write_text("[tox\nenv_list = py\n")
    before = sorted(project.rglob("*"))
    done = run(project)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "tox.ini: tox cannot load it" in done.stderr
    assert sorted(project.rglob("*")) == before
