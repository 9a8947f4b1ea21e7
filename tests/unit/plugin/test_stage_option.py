"""--stage parsing: comma lists, repeats, all, unknown names."""

from __future__ import annotations

import pytest

from pytest_pipeline.errors import ConfigError
from pytest_pipeline.plugin.stages import describe_selection, parse_selection

KNOWN = ("unit", "integration", "smoke")


def test_no_option_selects_nothing_in_particular() -> None:
    assert parse_selection(None, KNOWN) is None
    assert parse_selection([], KNOWN) is None


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["unit"], ("unit",)),
        (["smoke,unit"], ("unit", "smoke")),
        (["smoke", "unit"], ("unit", "smoke")),
        (["smoke, integration", "smoke"], ("integration", "smoke")),
        (["all"], KNOWN),
        (["unit", "all"], KNOWN),
    ],
)
def test_selection_is_in_declared_order(values: list[str], expected: tuple[str, ...]) -> None:
    assert parse_selection(values, KNOWN) == expected


def test_unknown_stage_names_the_option_and_the_known_stages() -> None:
    with pytest.raises(ConfigError, match=r"--stage=unit,e2e: unknown stage 'e2e'; known stages: unit, "):
        parse_selection(["unit,e2e"], KNOWN)


def test_empty_name_is_refused() -> None:
    with pytest.raises(ConfigError, match="empty stage name"):
        parse_selection(["unit,"], KNOWN)


def test_describe_selection() -> None:
    assert describe_selection(None, KNOWN) == "all"
    assert describe_selection(KNOWN, KNOWN) == "all"
    assert describe_selection(("unit", "smoke"), KNOWN) == "unit, smoke"
