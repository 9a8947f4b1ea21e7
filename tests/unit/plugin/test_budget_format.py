"""Budget comparison and wording."""

from __future__ import annotations

from pytest_pipeline.plugin.budgets import budget_message, over_budget, seconds


def test_over_budget_needs_a_budget_and_a_longer_call() -> None:
    assert over_budget(0.5, None) is False
    assert over_budget(0.5, 1.0) is False
    assert over_budget(1.0, 1.0) is False
    assert over_budget(1.01, 1.0) is True
    assert over_budget(0.000001, 0.0) is True


def test_message_says_the_test_belongs_to_a_slower_stage() -> None:
    assert budget_message("unit", 1.5, 1) == (
        "over budget: the call took 1.500s, the budget of stage unit is 1s "
        "(this test belongs to a slower stage)"
    )
    assert seconds(0.0000412) == "0.041ms"
