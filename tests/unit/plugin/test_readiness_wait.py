"""Backoff and the final message of the readiness wait (fake clock: no real waiting)."""

from __future__ import annotations

import pytest

from pytest_pipeline.config import parse_ready_target
from pytest_pipeline.plugin.readiness import FIRST_DELAY, MAX_DELAY, wait_ready


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


HTTP = parse_ready_target("http://127.0.0.1:8000/health", "test")
TCP = parse_ready_target("db.local:5432", "test")


def test_ready_at_once_does_not_sleep() -> None:
    fake = FakeTime()
    result = wait_ready(
        "smoke", [HTTP, TCP], 30, check=lambda t, timeout: None, clock=fake.clock, sleep=fake.sleep
    )
    assert result is None
    assert fake.sleeps == []


def test_backoff_doubles_up_to_a_cap_until_the_target_answers() -> None:
    fake = FakeTime()
    answers = iter(["refused"] * 8 + [None])
    result = wait_ready(
        "smoke", [TCP], 60, check=lambda t, timeout: next(answers), clock=fake.clock, sleep=fake.sleep
    )
    assert result is None
    assert fake.sleeps[0] == FIRST_DELAY
    assert all(b == min(a * 2, MAX_DELAY) for a, b in zip(fake.sleeps, fake.sleeps[1:], strict=False))
    assert max(fake.sleeps) == MAX_DELAY


def test_timeout_gives_one_line_naming_stage_target_and_last_error() -> None:
    fake = FakeTime()
    seen_timeouts: list[float] = []

    def check(target: object, timeout: float) -> str:
        seen_timeouts.append(timeout)
        return "HTTP 503"

    result = wait_ready("smoke", [HTTP], 5, check=check, clock=fake.clock, sleep=fake.sleep)
    assert result == (
        "stage smoke not ready: http://127.0.0.1:8000/health did not answer 2xx/3xx within 5s "
        "(last error: HTTP 503)"
    )
    assert sum(fake.sleeps) == pytest.approx(5)
    assert max(seen_timeouts) <= 2.0  # no single attempt may eat the whole timeout


def test_waiting_is_announced_once_at_the_first_failure() -> None:
    fake = FakeTime()
    answers = iter(["refused", "refused", None])
    said: list[tuple[object, str]] = []
    result = wait_ready(
        "smoke",
        [TCP],
        60,
        check=lambda t, timeout: next(answers),
        clock=fake.clock,
        sleep=fake.sleep,
        waiting=lambda target, error: said.append((target, error)),
    )
    assert result is None
    assert said == [(TCP, "refused")]


def test_tcp_message_says_connection() -> None:
    fake = FakeTime()
    result = wait_ready(
        "db", [TCP], 0.1, check=lambda t, timeout: "refused", clock=fake.clock, sleep=fake.sleep
    )
    assert (
        result
        == "stage db not ready: db.local:5432 did not accept a connection within 0.1s (last error: refused)"
    )
