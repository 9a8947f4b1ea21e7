"""Axes, selection and stages per cell, on cells built by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_pipeline.config import from_table
from pytest_pipeline.errors import PipelineError
from pytest_pipeline.matrix.axes import expand
from pytest_pipeline.matrix.cell_stages import assign_stages
from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.matrix.select import check_cell_name, select, split_patterns
from pytest_pipeline.matrix.settings import matrix_settings


def cell(
    name: str, python: str | None = None, *, tests: bool = True, labels: tuple[str, ...] = (), **factors: str
) -> Cell:
    return Cell(
        name=name, tool="tox", env=name, python=python, factors=factors, labels=labels, runs_pytest=tests
    )


def config(**sections: Any) -> Any:
    return from_table(sections, Path("pyproject.toml"))


CELLS = [
    cell("py310", "3.10"),
    cell("py312", "3.12", labels=("fast",)),
    cell("py313", "3.13", labels=("fast",)),
    cell("lint", tests=False),
    cell("docs", tests=False),
]
DEFAULT = ["py310", "py312", "py313", "lint"]


def names(cells: Any) -> list[str]:
    return [c.name for c in cells]


# --------------------------------------------------------------------------- selection


def test_default_is_the_tools_default_minus_non_test_envs() -> None:
    chosen = select(CELLS, default=DEFAULT)
    assert names(chosen.cells) == ["py310", "py312", "py313"]
    assert chosen.left_out == ("lint",)


def test_names_globs_and_comma_lists() -> None:
    assert names(select(CELLS, default=DEFAULT, patterns=split_patterns(["py310,py313"])).cells) == [
        "py310",
        "py313",
    ]
    assert names(select(CELLS, default=DEFAULT, patterns=["py31[23]"]).cells) == ["py312", "py313"]


def test_a_glob_leaves_non_test_envs_out_but_an_exact_name_takes_them() -> None:
    by_glob = select(CELLS, default=DEFAULT, patterns=["*"])
    assert names(by_glob.cells) == ["py310", "py312", "py313"]
    assert by_glob.left_out == ("lint", "docs")
    assert names(select(CELLS, default=DEFAULT, patterns=["docs", "py310"]).cells) == ["py310", "docs"]


def test_labels_select_cells() -> None:
    assert names(select(CELLS, default=DEFAULT, labels=["fast"]).cells) == ["py312", "py313"]


def test_include_forces_a_non_test_env_in_and_exclude_removes() -> None:
    chosen = select(CELLS, default=DEFAULT, include=["docs"], exclude=["py31[02]"])
    assert names(chosen.cells) == ["py313", "docs"]
    # -e narrows; include then only rescues what the pattern matched
    assert names(select(CELLS, default=DEFAULT, patterns=["py310"], include=["docs"]).cells) == ["py310"]
    assert names(select(CELLS, default=DEFAULT, patterns=["*"], include=["lint"]).cells) == [
        "py310",
        "py312",
        "py313",
        "lint",
    ]


def test_unknown_cell_lists_known_ones() -> None:
    with pytest.raises(PipelineError) as caught:
        select(CELLS, default=DEFAULT, patterns=["py39"], source="tox.ini")
    assert caught.value.message == (
        "-e 'py39': no cell of tox.ini matches it; "
        "use a known cell or a glob: py310, py312, py313, lint, docs"
    )


def test_glob_matching_nothing_and_glob_matching_only_non_test_envs() -> None:
    with pytest.raises(PipelineError, match="no cell of the project matches it"):
        select(CELLS, default=DEFAULT, patterns=["pypy*"])
    with pytest.raises(
        PipelineError, match=r"'do\*' matches only environments that don't run pytest \(docs\)"
    ):
        select(CELLS, default=DEFAULT, patterns=["do*"])


def test_unknown_label_lists_known_labels() -> None:
    with pytest.raises(
        PipelineError, match="-m 'slow': no environment of the project has this label/tag; use one of: fast"
    ):
        select(CELLS, default=DEFAULT, labels=["slow"])


def test_unknown_include_is_an_error_but_unknown_exclude_is_not() -> None:
    with pytest.raises(PipelineError, match="include: no environment matches 'doc'"):
        select(CELLS, default=DEFAULT, include=["doc"])
    assert names(select(CELLS, default=DEFAULT, exclude=["nothing*"]).cells) == ["py310", "py312", "py313"]


def test_nothing_left() -> None:
    with pytest.raises(PipelineError, match="none of them runs pytest"):
        select([cell("lint", tests=False)], default=["lint"])
    with pytest.raises(PipelineError, match="no cell selected"):
        select(CELLS, default=DEFAULT, exclude=["*"])


def test_nox_sessions_are_selected_by_function_name() -> None:
    sessions = [
        Cell(
            name=f"tests-{v}(attrs='23.2')",
            tool="nox",
            env=f"tests-{v}(attrs='23.2')",
            config={"name": "tests"},
        )
        for v in ("3.10", "3.12")
    ]
    assert len(select(sessions, default=[], patterns=["tests"]).cells) == 2
    assert split_patterns(["tests-3.10(attrs='23.2', b='1'),lint"]) == (
        "tests-3.10(attrs='23.2', b='1')",
        "lint",
    )


@pytest.mark.parametrize(
    "name",
    [
        "..",
        ".hidden",
        "a/b",
        "a\\b",
        "x\0y",
        "tab\tname",
        "a:b",
        "what?",
        "star*",
        "pipe|",
        'q"',
        "trail.",
        "trail ",
        "NUL",
        "com1.txt",
        "",
        "x" * 121,
    ],
)
def test_names_that_would_escape_or_clash_as_folders_are_refused(name: str) -> None:
    with pytest.raises(PipelineError) as caught:
        check_cell_name(name, "tox.ini")
    assert "cell names become folder names under the reports folder" in caught.value.message
    assert "\n" not in caught.value.message


@pytest.mark.parametrize(
    "name",
    [
        "py312-django50",
        "py-weird.name",
        "tests-3.10(attrs='23.2', x=\"1\")".replace('"', "'"),
        "a+b=c,d @x",
        "py312+attrs-ge24-lt25",
    ],
)
def test_names_tox_and_nox_use_are_fine(name: str) -> None:
    check_cell_name(name)


def test_selected_unsafe_name_is_refused_but_unselected_one_is_ignored() -> None:
    cells = [cell("py312"), cell("a:b")]
    assert names(select(cells, default=["py312"]).cells) == ["py312"]
    with pytest.raises(PipelineError, match=r"cell name 'a:b' contains ':'"):
        select(cells, default=["py312", "a:b"])


def test_names_differing_only_in_case_are_refused() -> None:
    with pytest.raises(PipelineError, match="differ only in case"):
        select([cell("Py312"), cell("py312")], default=["Py312", "py312"])


# --------------------------------------------------------------------------- axes


def test_axes_multiply_test_cells_only() -> None:
    matrix = matrix_settings(
        config(matrix={"attrs": ["23.2", "24.2"], "resolution": ["highest", "lowest-direct"]})
    )
    out = expand([cell("py312", "3.12"), cell("lint", tests=False)], matrix)
    assert names(out) == [
        "py312+attrs23.2+highest",
        "py312+attrs23.2+lowest-direct",
        "py312+attrs24.2+highest",
        "py312+attrs24.2+lowest-direct",
        "lint",
    ]
    first = out[1]
    assert first.env == "py312"
    assert first.pins == ("attrs==23.2.*",)
    assert first.resolution == "lowest-direct"
    assert dict(first.factors) == {"attrs": "23.2", "resolution": "lowest-direct"}
    assert first.dependency_set == "attrs=23.2,resolution=lowest-direct"


def test_an_env_that_fixes_the_package_itself_is_not_multiplied_along_it() -> None:
    matrix = matrix_settings(config(matrix={"attrs": ["23.2", "24.2"]}))
    out = expand([cell("py310-attrs23", "3.10", attrs="23.2"), cell("py311", "3.11")], matrix)
    assert names(out) == ["py310-attrs23", "py311+attrs23.2", "py311+attrs24.2"]


def test_axes_limited_to_some_cells() -> None:
    matrix = matrix_settings(config(matrix={"attrs": ["23.2"], "cells": ["py313"]}))
    assert names(expand([cell("py312"), cell("py313")], matrix)) == ["py312", "py313+attrs23.2"]


def test_axis_cells_are_selected_by_their_env() -> None:
    matrix = matrix_settings(config(matrix={"attrs": ["23.2", "24.2"]}))
    every = expand([cell("py312"), cell("py313")], matrix)
    assert names(select(every, default=[], patterns=["py313"]).cells) == [
        "py313+attrs23.2",
        "py313+attrs24.2",
    ]
    assert names(select(every, default=[], patterns=["*+attrs24.2"]).cells) == [
        "py312+attrs24.2",
        "py313+attrs24.2",
    ]


# --------------------------------------------------------------------------- stages


def test_stages_per_cell_from_stage_cells_globs() -> None:
    settings = config(stages=["unit", "integration", "smoke"], stage={"smoke": {"cells": ["py313*"]}})
    staged = assign_stages([cell("py312"), cell("py313"), cell("lint", tests=False)], CELLS, settings)
    assert [(c.name, c.stages) for c in staged.cells] == [
        ("py312", ("unit", "integration")),
        ("py313", ("unit", "integration", "smoke")),
        ("lint", ()),
    ]
    assert staged.warnings == ()


def test_a_cell_with_no_stage_is_dropped_and_a_typo_warned() -> None:
    settings = config(stages=["unit"], stage={"unit": {"cells": ["py313", "py399"]}})
    staged = assign_stages([cell("py312"), cell("py313")], CELLS, settings)
    assert names(staged.cells) == ["py313"]
    assert staged.warnings == (
        "pyproject.toml: [tool.pytest-pipeline.stage.unit] cells: 'py399' matches no environment",
        "cell 'py312' runs no stage (every stage's `cells` leaves it out); it is not run",
    )
