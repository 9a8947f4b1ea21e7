"""``run`` in a CI job: each cell's log folded into the job log, after the progress lines."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from mini_project import write_project

from pipeline_testkit import clean_environ, pipeline_argv, pipeline_cli
from pytest_pipeline.runner import envs

FAILING = """
import mini

def test_answer():
    print("what the test printed")
    assert mini.ANSWER == 41
"""

# pipeline_cli reads text with universal newlines, which would turn the CR in GitLab's
# section markers into a line break: that test reads bytes.
GITLAB_SECTION = re.compile(
    rb"\x1b\[0Ksection_start:\d+:(?P<id>log_of_py_failed_\d+)\[collapsed=true\]"
    rb"\r\x1b\[0Klog of py \(failed\)\n"
    rb"(?P<log>.*?)"
    rb"\x1b\[0Ksection_end:\d+:(?P=id)\r\x1b\[0K\n",
    re.DOTALL,
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if envs.find_uv() is None:
        pytest.skip("uv keeps this test fast")
    return write_project(tmp_path_factory.mktemp("ci-logs") / "mini", test=FAILING)


def run_in(project: Path, **environ: str) -> list[str]:
    result = pipeline_cli("run", cwd=project, env=clean_environ(**environ))
    assert result.returncode == 1, result.stdout + result.stderr
    return result.stdout.splitlines()


def cell_log(project: Path) -> list[str]:
    return (project / "pipeline-reports" / "cells" / "py" / "log.txt").read_text().splitlines()


@pytest.mark.parametrize(
    ("environ", "start", "end"),
    [
        ({"GITHUB_ACTIONS": "true"}, "::group::log of py (failed)", "::endgroup::"),
        ({"TF_BUILD": "True"}, "##[group]log of py (failed)", "##[endgroup]"),
    ],
)
def test_the_cells_log_is_folded_after_the_progress_lines(
    project: Path, environ: dict[str, str], start: str, end: str
) -> None:
    lines = run_in(project, **environ)
    opened = lines.index(start)
    closed = lines.index(end, opened)
    log = cell_log(project)
    assert lines[opened + 1 : closed] == log
    assert any("what the test printed" in line for line in log)
    progress = lines[:opened]
    assert any(re.match(r"\[ *[\d.]+s\] py +failed \[1 failed\]", line) for line in progress), progress
    assert any("GATE CLOSED (1)" in line for line in lines[closed:]), "the verdict comes last"
    assert lines.count(start) == 1


def test_gitlab_gets_a_collapsed_section(project: Path) -> None:
    result = subprocess.run(
        pipeline_argv("run"),
        cwd=project,
        env=clean_environ(GITLAB_CI="true"),
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    [section] = GITLAB_SECTION.finditer(result.stdout)
    assert section["log"] == (project / "pipeline-reports" / "cells" / "py" / "log.txt").read_bytes()


def test_outside_ci_the_log_stays_in_its_file(project: Path) -> None:
    lines = run_in(project)
    assert not [line for line in lines if "log of py" in line or "group" in line]
