from __future__ import annotations

from pathlib import Path

import pytest
from matrix_fakes import FakeNox, nox_session

from pytest_pipeline.errors import PipelineError
from pytest_pipeline.matrix import from_nox
from pytest_pipeline.matrix.cells import base_cells
from pytest_pipeline.matrix.toolrun import Completed


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "noxfile.py").write_text("import nox\n", encoding="utf-8")
    return tmp_path


def test_all_sessions_are_listed_and_defaults_marked(project: Path) -> None:
    tests = [
        nox_session("tests", python, {"attrs": v}, tags=["tests"])
        for python in ("3.10", "3.12")
        for v in ("23.2", "24.2")
    ]
    docs = nox_session("docs", None)
    fake = FakeNox(every=[*tests, docs], default=tests)
    listing = from_nox.query(project, {}, runner=fake, command=["nox"], version="2026.10.20")
    assert [env.name for env in listing.envs] == [
        "tests-3.10(attrs='23.2')",
        "tests-3.10(attrs='24.2')",
        "tests-3.12(attrs='23.2')",
        "tests-3.12(attrs='24.2')",
        "docs",
    ]
    assert [env.default for env in listing.envs] == [True, True, True, True, False]
    assert sorted(call[-1] for call in fake.calls) == [str(project / "noxfile.py"), "True"]
    cells = {cell.name: cell for cell in base_cells(listing).cells}
    cell = cells["tests-3.12(attrs='24.2')"]
    assert (cell.python, dict(cell.factors), cell.labels, cell.tool) == (
        "3.12",
        {"attrs": "24.2"},
        ("tests",),
        "nox",
    )
    assert cell.runs_pytest
    assert not cells["docs"].runs_pytest


def test_a_session_without_a_venv_is_not_a_test_session(project: Path) -> None:
    fake = FakeNox(every=[nox_session("lint", False)])
    listing = from_nox.query(project, {}, runner=fake, command=["nox"], version="1")
    (cell,) = base_cells(listing).cells
    assert not cell.runs_pytest
    assert cell.python is None


def test_a_noxfile_that_fails_to_load_is_one_line_naming_it(project: Path) -> None:
    failure = Completed(
        1,
        "",
        "Traceback (most recent call last):\n"
        '  File "/venv/site-packages/nox/tasks.py", line 98, in _load\n'
        "    loader.exec_module(module)\n"
        f'  File "{project / "noxfile.py"}", line 7, in <module>\n'
        '    raise RuntimeError("boom in noxfile")\n'
        "RuntimeError: boom in noxfile\n",
    )
    with pytest.raises(PipelineError) as caught:
        from_nox.query(project, {}, runner=FakeNox(failure=failure), command=["nox"], version="1")
    message = caught.value.message
    assert message.startswith(f"{project / 'noxfile.py'}: nox cannot load it: RuntimeError: boom in noxfile")
    assert "(noxfile.py, line 7)" in message
    assert "\n" not in message


def test_a_nox_log_line_loses_its_prefix(project: Path) -> None:
    failure = Completed(3, "", "nox > Error while collecting sessions.\nnox > Sessions not found: x\n")
    with pytest.raises(PipelineError, match=r"nox cannot load it: Error while collecting sessions\.;"):
        from_nox.query(project, {}, runner=FakeNox(failure=failure), command=["nox"], version="1")


def test_no_noxfile(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match=r"noxfile\.py: no such file; write a noxfile\.py or use --tool"):
        from_nox.query(tmp_path, {}, runner=FakeNox(), command=["nox"], version="1")


def test_a_numeric_python_is_read_as_a_version(project: Path) -> None:
    fake = FakeNox(every=[nox_session("tests", None) | {"python": 3.12, "session": "tests"}])
    (cell,) = base_cells(from_nox.query(project, {}, runner=fake, command=["nox"], version="1")).cells
    assert cell.python == "3.12"
