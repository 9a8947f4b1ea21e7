"""A cold run's second environment of one interpreter takes the bytecode the first one's
pytest compiled (runner/bytecode.py), and Python runs on it rather than compiling again."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from mini_project import write_project

from pipeline_testkit import clean_environ, pipeline_cli, pyenv_path

LINKED = "compiled modules linked from environments of this interpreter"
# _pytest/python.py: every pytest run imports it
SOURCE = Path("lib/python3.12/site-packages/_pytest/python.py")
PYC = SOURCE.parent / "__pycache__" / "python.cpython-312.pyc"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX environment layout")
def test_the_later_cell_of_an_interpreter_runs_on_the_earlier_ones_bytecode(tmp_path: Path) -> None:
    try:
        path = pyenv_path("3.12")
    except LookupError as missing:
        pytest.skip(str(missing))
    root = write_project(tmp_path / "project", env_list=("py312-a", "py312-b"))
    environ = clean_environ(PATH=path, NO_COLOR="1")
    environ.pop("PYTHONDONTWRITEBYTECODE", None)  # as on a user's machine: pytest writes its bytecode
    reports = tmp_path / "reports"

    # one slot: the cells run one after the other, whichever is ready first
    result = pipeline_cli("run", "-p", "1", "--reports-dir", str(reports), cwd=root, env=environ)
    cells = {cell["name"]: cell for cell in json.loads((reports / "run.json").read_text())["cells"]}
    assert [cell["status"] for cell in cells.values()] == ["passed", "passed"], result.stdout[-3000:]
    envs = {name: root / ".tox" / ".pipeline" / name for name in cells}
    if not os.path.samefile(envs["py312-a"] / SOURCE, envs["py312-b"] / SOURCE):
        pytest.skip("uv copied pytest's files into the environments here instead of linking them")

    logs = {name: (reports / cell["log"]).read_text() for name, cell in cells.items()}
    later = [name for name, log in logs.items() if LINKED in log]
    assert len(later) == 1, logs  # the first has nothing to take; the second takes its bytecode
    (first,) = set(cells) - set(later)
    # still the first one's file after the second's pytest ran: Python took it as valid
    # (a stale .pyc is replaced by a new file, never rewritten in place)
    assert os.path.samefile(envs[first] / PYC, envs[later[0]] / PYC)

    # a warm run links nothing: its environments are not new
    pipeline_cli("run", "--fresh", "-p", "1", "--reports-dir", str(reports), cwd=root, env=environ)
    cells = json.loads((reports / "run.json").read_text())["cells"]
    assert all(LINKED not in (reports / cell["log"]).read_text() for cell in cells)
