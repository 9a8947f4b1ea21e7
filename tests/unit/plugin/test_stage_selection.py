"""Selection, ordering, path rules and the strict-mode message (no pytest session needed)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pytest_pipeline.config import from_table
from pytest_pipeline.plugin.selection import StageAssigner, select_and_order, strict_error

ORDER = {"unit": 0, "integration": 1, "smoke": 2}


def test_order_is_by_stage_and_stable_within_a_stage() -> None:
    items: list[Any] = ["s1", "u1", "i1", "u2", "s2", "i2"]
    stages = ["smoke", "unit", "integration", "unit", "smoke", "integration"]
    kept, deselected = select_and_order(items, stages, None, ORDER)
    assert kept == ["u1", "u2", "i1", "i2", "s1", "s2"]
    assert deselected == []


def test_selection_deselects_other_stages() -> None:
    items: list[Any] = ["s1", "u1", "i1", "u2"]
    stages = ["smoke", "unit", "integration", "unit"]
    kept, deselected = select_and_order(items, stages, ("unit", "smoke"), ORDER)
    assert kept == ["u1", "u2", "s1"]
    assert deselected == ["i1"]


def test_sorted_input_keeps_its_list_order() -> None:
    items: list[Any] = ["a", "b", "c"]
    kept, _ = select_and_order(items, ["unit", "unit", "smoke"], None, ORDER)
    assert kept == ["a", "b", "c"]


def assigner(tmp_path: Path, **table: Any) -> StageAssigner:
    settings = from_table({"stages": list(ORDER), **table}, tmp_path / "pyproject.toml")
    return StageAssigner(settings, SimpleNamespace(rootpath=tmp_path))  # type: ignore[arg-type]


def test_path_rules_come_before_directories_and_the_first_rule_wins(tmp_path: Path) -> None:
    a = assigner(tmp_path, paths={"tests/e2e/**": "smoke", "tests/e2e/fast_*.py": "unit"})
    assert a.stage_for_relpath("tests/e2e/fast_x.py") == ("smoke", "path")
    assert a.stage_for_relpath("tests/integration/test_x.py") == ("integration", "directory")
    assert a.stage_for_relpath("tests/test_x.py") is None
    assert a.stage_for_relpath(None) is None


def test_the_deepest_stage_directory_wins(tmp_path: Path) -> None:
    a = assigner(tmp_path)
    assert a.stage_for_relpath("unit/helpers/smoke/test_x.py") == ("smoke", "directory")
    # the file name itself is not a directory
    assert a.stage_for_relpath("tests/smoke.py") is None


def test_stage_directories_can_be_turned_off(tmp_path: Path) -> None:
    a = assigner(tmp_path, **{"stage-directories": False})
    assert a.stage_for_relpath("tests/integration/test_x.py") is None


def test_strict_error_lists_a_few_tests_and_the_fix() -> None:
    message = strict_error([f"t{i}" for i in range(7)], "unit", limit=3)
    assert message.startswith(
        "strict stages: 7 tests got stage 'unit' only from the default: t0, t1, t2 (and 4 more)"
    )
    assert "stage marker" in message
    assert "\n" not in message
