"""Per-test budgets: listed as belonging to a slower stage; --enforce-budgets fails them."""

from __future__ import annotations

import pytest

SUITE = "import pytest\n\ndef test_quick(): pass\n\n@pytest.mark.integration\ndef test_other_stage(): pass\n"


@pytest.fixture
def tiny_budget(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyprojecttoml("[tool.pytest-pipeline.stage.unit]\nbudget = 0.0\n")
    pytester.makepyfile(test_b=SUITE)
    return pytester


def test_over_budget_is_listed_not_failed(tiny_budget: pytest.Pytester, dist: tuple[str, ...]) -> None:
    result = tiny_budget.runpytest(*dist)
    assert result.ret == 0
    assert result.parseoutcomes() == {"passed": 2}
    result.stdout.fnmatch_lines(
        [
            "pipeline: budgets: unit 0s",
            "unit *1*0*0*0*0*0*1*",  # the "over budget" column
            "over budget in unit: test_b.py::test_quick took * > 0s (belongs to a slower stage)",
        ]
    )
    result.stdout.no_fnmatch_line("over budget in integration*")


def test_enforce_budgets_fails_them(tiny_budget: pytest.Pytester, dist: tuple[str, ...]) -> None:
    result = tiny_budget.runpytest("--enforce-budgets", "--no-stage-block", *dist)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert result.parseoutcomes() == {"passed": 1, "failed": 1}
    result.stdout.fnmatch_lines(
        [
            "pipeline: budgets: unit 0s (enforced)",
            "*_ test_quick _*",
            "over budget: the call took *, the budget of stage unit is 0s (this test belongs to a slower*",
        ]
    )


def test_budget_leaves_failures_and_skips_alone(pytester: pytest.Pytester, dist: tuple[str, ...]) -> None:
    pytester.makepyprojecttoml("[tool.pytest-pipeline.stage.unit]\nbudget = 0.0\n")
    pytester.makepyfile(
        test_b="import pytest\n\ndef test_skip(): pytest.skip('no')\n\ndef test_fail(): assert 0\n"
    )
    result = pytester.runpytest("--enforce-budgets", *dist)
    assert result.parseoutcomes() == {"failed": 1, "skipped": 1}
