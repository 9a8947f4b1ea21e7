from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_pipeline.config import from_table
from pytest_pipeline.errors import ConfigError
from pytest_pipeline.matrix.settings import RunSettings, matrix_settings, run_settings


def config(**sections: Any) -> Any:
    return from_table(sections, Path("pyproject.toml"))


def test_run_defaults() -> None:
    assert run_settings(config()) == RunSettings()


def test_run_keys() -> None:
    settings = run_settings(
        config(
            run={
                "tool": "nox",
                "cells": ["py31*"],
                "labels": "fast",
                "include": ["docs"],
                "exclude": ["py310"],
                "parallel": 3,
                "fail-fast": True,
            }
        )
    )
    assert settings == RunSettings("nox", ("py31*",), ("fast",), ("docs",), ("py310",), 3, True)


@pytest.mark.parametrize(
    ("run", "message"),
    [
        (
            {"tol": "tox"},
            "[tool.pytest-pipeline.run] has unknown key 'tol'; known keys: backend, cells, exclude,",
        ),
        ({"tool": "make"}, "[tool.pytest-pipeline.run] tool: 'make' is not one of auto, tox, nox"),
        ({"parallel": 0}, "parallel: must be at least 1 (or 'auto'), got 0"),
        ({"parallel": "many"}, "parallel: expected 'auto' or a number of cells, got 'many'"),
        ({"parallel": True}, "parallel: expected an integer or a string, got true or false True"),
        ({"fail-fast": "yes"}, "fail-fast: expected true or false, got a string 'yes'"),
        ({"cells": [1]}, "cells: expected a list of strings, found 1"),
        ({"include": [""]}, "include: an empty name; remove it"),
    ],
)
def test_run_errors_name_the_key_and_the_fix(run: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        run_settings(config(run=run))
    assert message in caught.value.message
    assert caught.value.message.startswith("pyproject.toml: [tool.pytest-pipeline.run]")


def test_matrix_axes_pins_and_labels() -> None:
    settings = matrix_settings(
        config(matrix={"attrs": ["23.2", ">=24,<25", "24.2.*"], "resolution": ["lowest-direct"]})
    )
    (axis,) = settings.axes
    assert [(v.requirement, v.label) for v in axis.values] == [
        ("attrs==23.2.*", "attrs23.2"),
        ("attrs>=24,<25", "attrs-ge24-lt25"),
        ("attrs==24.2.*", "attrs24.2.x"),
    ]
    assert settings.resolution == ("lowest-direct",)


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ({"attrs": [23.2]}, "attrs: 23.2 is not a version string; quote versions"),
        ({"attrs": "23.2"}, "attrs: expected a list, got a string '23.2'"),
        ({"attrs": []}, 'attrs: give at least one version, e.g. attrs = ["1.0", "2.0"]'),
        ({"attrs": ["23.2", "23.2"]}, "attrs: '23.2' is listed twice; keep one"),
        ({"attrs": ["=>1"]}, "attrs: '=>1' is neither a version nor a specifier with an operator"),
        ({"not a name!": ["1"]}, "'not a name!' is not a package name"),
        (
            {"resolution": ["lowest-indirect"]},
            "'lowest-indirect' is not a uv resolution; use highest, lowest",
        ),
        ({"cells": "py3*", "resolution": 1}, "resolution: expected a list or a string, got an integer 1"),
    ],
)
def test_matrix_errors(matrix: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        matrix_settings(config(matrix=matrix))
    assert message in caught.value.message
    assert "\n" not in caught.value.message
