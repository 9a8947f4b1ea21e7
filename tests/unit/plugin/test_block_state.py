"""Which later stages a failure blocks."""

from __future__ import annotations

from pytest_pipeline.plugin.blocking import BlockState, blocked_message
from pytest_pipeline.results import BLOCKED_MESSAGE_PREFIX

ORDER = {"unit": 0, "integration": 1, "smoke": 2}


def test_nothing_blocked_without_failures() -> None:
    state = BlockState(ORDER)
    assert [state.blocker_for(stage) for stage in ORDER] == [None, None, None]


def test_failure_blocks_only_later_stages() -> None:
    state = BlockState(ORDER)
    assert state.record_failure("integration") is True
    assert state.record_failure("integration") is False
    assert state.blocker_for("unit") is None
    assert state.blocker_for("integration") is None
    assert state.blocker_for("smoke") == "integration"


def test_the_earliest_failed_stage_is_named() -> None:
    state = BlockState(ORDER)
    state.merge(["integration", "unit"])
    assert state.blocker_for("smoke") == "unit"


def test_blocked_message_uses_the_shared_prefix() -> None:
    assert blocked_message("unit") == f"{BLOCKED_MESSAGE_PREFIX}unit" == "blocked by a failure in stage unit"
