"""Per-test time budgets of a stage (call phase only: fixtures are the stage's business).

PYTEST_DONT_REWRITE: the pytest plugin imports this module in every test run; see plugin.py.
"""

from __future__ import annotations


def over_budget(duration: float, budget: float | None) -> bool:
    return budget is not None and duration > budget


def seconds(value: float) -> str:
    """``1.234s``, or ``0.042ms`` for calls too short to show in seconds.

    One call against a budget of milliseconds needs three decimals, where the tables'
    times (stages, cells) need two; the plugin may not import runner/ anyway."""
    return f"{value:.3f}s" if value >= 0.001 else f"{value * 1000:.3f}ms"


def budget_message(stage: str, duration: float, budget: float) -> str:
    return (
        f"over budget: the call took {seconds(duration)}, the budget of stage {stage} is {budget:g}s "
        "(this test belongs to a slower stage)"
    )
