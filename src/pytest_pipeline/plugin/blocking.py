"""Which stages failed, and so which later stages are blocked.

Only final outcomes count: pytest-rerunfailures reports a failed attempt that will be
retried with outcome ``"rerun"``, which is not a failure. Reports of tests that were
themselves blocked or not ready are marked by the plugin; a blocked report never counts
as a new failure (the message keeps naming the stage that really failed).

PYTEST_DONT_REWRITE: the pytest plugin imports this module in every test run; see plugin.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pytest_pipeline.results import BLOCKED_MESSAGE_PREFIX


class BlockState:
    """Failed stages of this session (or, under xdist, as known to this process)."""

    def __init__(self, order: Mapping[str, int]) -> None:
        self.order = order
        self.failed: dict[str, None] = {}

    def record_failure(self, stage: str) -> bool:
        """Remember a failure in ``stage``; True when it is the stage's first."""
        if stage in self.failed:
            return False
        self.failed[stage] = None
        return True

    def merge(self, stages: Iterable[str]) -> None:
        for stage in stages:
            self.record_failure(stage)

    def blocker_for(self, stage: str) -> str | None:
        """The earliest failed stage before ``stage``, or None when ``stage`` may run."""
        index = self.order[stage]
        earliest: str | None = None
        for failed in self.failed:
            failed_index = self.order.get(failed, index)
            if failed_index < index and (earliest is None or failed_index < self.order[earliest]):
                earliest = failed
        return earliest


def blocked_message(stage: str) -> str:
    return f"{BLOCKED_MESSAGE_PREFIX}{stage}"
