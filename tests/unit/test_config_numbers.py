"""Every number in [tool.pytest-pipeline] is a finite, non-negative number.

TOML's ``nan`` and ``inf`` are floats: as a duration, ``nan`` skipped the readiness wait
or waited forever depending on the path, and ``budget = nan`` was accepted. Each is a
usage error naming the file, the table and the key.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_pipeline.config import load, parse_duration
from pytest_pipeline.errors import ConfigError
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.matrix.settings import run_settings

# (table, key): every number the configuration has, durations and counts alike.
STAGE_NUMBERS = [
    ("tool.pytest-pipeline.stage.unit", "retries"),
    ("tool.pytest-pipeline.stage.unit", "retry-delay"),
    ("tool.pytest-pipeline.stage.unit", "ready-timeout"),
    ("tool.pytest-pipeline.stage.unit", "budget"),
]
RUN_NUMBERS = [
    ("tool.pytest-pipeline.run", "parallel"),
    ("tool.pytest-pipeline.run", "timeout"),
    ("tool.pytest-pipeline.run", "run-timeout"),
]
BAD_VALUES = ["nan", "inf", "-inf", "+nan", "-1", "-0.5"]


def write_config(tmp_path: Path, table: str, key: str, value: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(f'[tool.pytest-pipeline]\nstages = ["unit"]\n\n[{table}]\n{key} = {value}\n')
    return path


@pytest.mark.parametrize("value", BAD_VALUES)
@pytest.mark.parametrize(("table", "key"), STAGE_NUMBERS + RUN_NUMBERS)
def test_a_number_that_is_not_finite_and_non_negative_is_a_usage_error(
    tmp_path: Path, table: str, key: str, value: str
) -> None:
    path = write_config(tmp_path, table, key, value)
    with pytest.raises(ConfigError) as raised:
        run_settings(load(path))
    message = str(raised.value)
    assert message.startswith(f"{path}: [{table}] {key}: "), message
    assert "\n" not in message
    assert raised.value.code is ExitCode.USAGE_ERROR


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
@pytest.mark.parametrize("key", ["retry-delay", "ready-timeout", "budget"])
def test_a_duration_says_it_must_be_finite(tmp_path: Path, key: str, value: str) -> None:
    path = write_config(tmp_path, "tool.pytest-pipeline.stage.unit", key, value)
    with pytest.raises(ConfigError, match="must be a finite, non-negative number"):
        load(path)


@pytest.mark.parametrize("text", ["1" + "0" * 400, "1" + "0" * 400 + "s", "9" * 320 + "h"])
def test_a_duration_string_too_large_for_a_float_is_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="must be a finite, non-negative number"):
        parse_duration(text, "pyproject.toml: [tool.pytest-pipeline.stage.unit] budget")


@pytest.mark.parametrize(("value", "seconds"), [("0", 0.0), ("1.5", 1.5), ('"250ms"', 0.25), ('"2m"', 120.0)])
def test_finite_non_negative_durations_are_read(tmp_path: Path, value: str, seconds: float) -> None:
    path = write_config(tmp_path, "tool.pytest-pipeline.stage.unit", "ready-timeout", value)
    assert load(path).stage("unit").ready_timeout == seconds
