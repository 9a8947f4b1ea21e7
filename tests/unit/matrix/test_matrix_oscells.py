"""Cells per OS: ``-e CELL@OS`` selects CELL and names it for that OS (fake tox)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from matrix_fakes import FakeTox, recorded

from pytest_pipeline.config import load
from pytest_pipeline.errors import PipelineError
from pytest_pipeline.matrix import oscells
from pytest_pipeline.matrix.discover import Request, discover
from pytest_pipeline.matrix.model import Cell


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "tox.ini").write_text("[tox]\nenvlist = py{310,312}-attrs{23,24}, lint\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'sample'\n", encoding="utf-8")
    return tmp_path


def names(project: Path, *select: str, **kwargs: Any) -> list[tuple[str, str, str | None]]:
    request = Request(
        runner=FakeTox(json_text=recorded("tox-config-sample.json")),
        environ={},
        check_interpreters=False,
        select=select,
        use_cache=False,
        **kwargs,
    )
    plan = discover(project, load(project / "pyproject.toml"), request)
    return [(cell.name, cell.env, cell.os) for cell in plan.cells]


def test_a_qualified_name_runs_its_cell_under_its_own_name(project: Path) -> None:
    assert names(project, "py312-attrs24@windows-latest") == [
        ("py312-attrs24@windows-latest", "py312-attrs24", "windows-latest")
    ]


def test_globs_several_systems_and_plain_names_together(project: Path) -> None:
    assert names(project, "py31*-attrs24@ubuntu-latest", "py310-attrs24@macos-14", "py310-attrs24") == [
        ("py310-attrs24", "py310-attrs24", None),
        ("py310-attrs24@ubuntu-latest", "py310-attrs24", "ubuntu-latest"),
        ("py310-attrs24@macos-14", "py310-attrs24", "macos-14"),
        ("py312-attrs24@ubuntu-latest", "py312-attrs24", "ubuntu-latest"),
    ]


def test_a_lint_cell_named_exactly_is_included_per_os(project: Path) -> None:
    assert names(project, "lint@ubuntu-latest") == [("lint@ubuntu-latest", "lint", "ubuntu-latest")]


def test_stages_come_from_the_cell_itself(project: Path) -> None:
    request = Request(
        runner=FakeTox(json_text=recorded("tox-config-sample.json")),
        environ={},
        check_interpreters=False,
        select=("py310-attrs23@windows-latest",),
    )
    (cell,) = discover(project, load(project / "pyproject.toml"), request).cells
    assert cell.stages == ("unit", "integration", "smoke")


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("nosuch@ubuntu-latest", "'nosuch@ubuntu-latest': no cell"),  # named as typed
        ("py312-attrs24@ubuntu latest", "must be a CI runner label"),
    ],
)
def test_bad_qualified_patterns(project: Path, pattern: str, message: str) -> None:
    with pytest.raises(PipelineError, match=message):
        names(project, pattern)


def test_a_cell_with_at_in_its_own_name_wins() -> None:
    cells = [Cell("tests@v2", "nox", "tests@v2"), Cell("tests", "nox", "tests")]
    patterns = oscells.split_patterns(["tests@v2", "tests@windows-latest"], cells)
    assert patterns.plain == ("tests@v2",)
    assert patterns.on_os == (("tests", "windows-latest"),)
    assert [c.name for c in oscells.apply(cells, patterns)] == ["tests@v2", "tests@windows-latest"]


def test_two_systems_differing_only_in_case_would_share_a_folder() -> None:
    cells = [Cell("py", "tox", "py")]
    patterns = oscells.split_patterns(["py@Windows-latest", "py@windows-latest"], cells)
    message = "tox.ini: cells 'py@Windows-latest' and 'py@windows-latest' differ only in case"
    with pytest.raises(PipelineError, match=message):
        oscells.apply(cells, patterns, source="tox.ini")


def test_per_os_refuses_a_second_os() -> None:
    (cell,) = oscells.per_os([Cell("a", "tox", "a")], ["ubuntu-latest"])
    with pytest.raises(PipelineError, match="already planned for ubuntu-latest"):
        oscells.per_os([cell], ["windows-latest"])


def test_labels() -> None:
    assert oscells.labels(["ubuntu-latest, windows-latest", "ubuntu-latest", ""]) == (
        "ubuntu-latest",
        "windows-latest",
    )


def test_ci_jobs_use_the_same_separator() -> None:
    from pytest_pipeline.ci import matrix

    assert matrix.SEPARATOR == oscells.SEPARATOR
