"""The generated workflows' one OS knob (PIPELINE_OS) reaches both plan commands alike.

The plan job writes plan.json (what the gate expects) and the CI's matrix (what runs)
with two commands; with --os on only one of them, the gate would expect names no job
records. The GitHub plan step's own script runs here for real on a tiny tox project.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from pipeline_testkit import clean_environ
from pytest_pipeline import cli

KNOB = '${PIPELINE_OS:+--os "$PIPELINE_OS"}'
TOX_INI = "[tox]\nenv_list = py310, py312\n\n[testenv]\ndeps = pytest\ncommands = pytest {posargs}\n"


def generated(provider: str, tmp_path: Path) -> str:
    target = tmp_path / f"{provider}.yml"
    assert cli.main(["init-ci", provider, "--output", str(target)]) == 0
    return target.read_text(encoding="utf-8")


@pytest.mark.parametrize("provider", ["github", "azure", "gitlab"])
def test_every_plan_command_takes_the_same_os_knob(
    provider: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = generated(provider, tmp_path)
    capsys.readouterr()
    commands = re.findall(r"^\s*(?:- )?(pytest-pipeline plan .*)$", text, re.MULTILINE)
    assert len(commands) == 2, commands
    assert all(command.startswith(f"pytest-pipeline plan {KNOB} --format ") for command in commands)
    assert re.search(r'^\s+PIPELINE_OS: ""$', text, re.MULTILINE), "declared, empty by default"


@pytest.mark.parametrize(
    ("systems", "names"),
    [
        ("", ["py310", "py312"]),
        (
            "ubuntu-latest,windows-latest",
            ["py310@ubuntu-latest", "py310@windows-latest", "py312@ubuntu-latest", "py312@windows-latest"],
        ),
    ],
)
def test_the_github_plan_step_agrees_with_itself(
    systems: str, names: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("needs bash")
    workflow = YAML(typ="safe").load(generated("github", tmp_path))
    capsys.readouterr()
    [step] = [s for s in workflow["jobs"]["plan"]["steps"] if s.get("id") == "plan"]
    project = tmp_path / "project"
    project.mkdir()
    (project / "tox.ini").write_text(TOX_INI, encoding="utf-8")
    output = tmp_path / "github-output"
    env = clean_environ(PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    env.update({**step["env"], "PIPELINE_OS": systems, "GITHUB_OUTPUT": str(output)})
    done = subprocess.run(
        [bash, "-e", "-c", step["run"]],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    planned = [cell["name"] for cell in json.loads((project / "plan.json").read_text())["cells"]]
    matrix = json.loads(output.read_text().removeprefix("matrix="))["include"]
    assert planned == names
    assert [job["cell"] for job in matrix] == names
