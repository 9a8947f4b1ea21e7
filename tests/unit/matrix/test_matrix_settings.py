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
    ("value", "seconds"), [("10m", 600.0), (90, 90.0), (1.5, 1.5), ("2h", 7200.0), (0, None), ("0s", None)]
)
def test_time_limits_are_durations_and_zero_is_none(value: object, seconds: float | None) -> None:
    settings = run_settings(config(run={"timeout": value, "run-timeout": value}))
    assert settings.timeout == settings.run_timeout == seconds


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
        ({"timeout": "soon"}, "timeout: 'soon' is not a duration; write seconds (1.5) or a string like"),
        ({"timeout": -1}, "timeout: must be a finite, non-negative number, got -1"),
        ({"run-timeout": float("nan")}, "run-timeout: must be a finite, non-negative number, got nan"),
        ({"run-timeout": float("inf")}, "run-timeout: must be a finite, non-negative number, got inf"),
        ({"timeout": True}, "timeout: expected a number or a string, got true or false True"),
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


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.05, "0.05s"), (15, "15s"), (59.6, "1m"), (300, "5m"), (312, "5m12s"), (3600, "1h"), (5400, "1h30m")],
)
def test_time_limits_are_shown_as_they_are_written(seconds: float, text: str) -> None:
    from pytest_pipeline.config import format_duration, parse_duration

    assert format_duration(seconds) == text
    assert abs(parse_duration(text.replace("1h30m", "90m").replace("5m12s", "312s"), "x") - seconds) < 1
