"""Final outcome per test from a stream of reports (reruns, blocked, crashes)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from pytest_pipeline.plugin.ledger import Ledger, short_message
from pytest_pipeline.results import Outcome


def rep(nodeid: str, when: str, outcome: str, stage: str | None = "unit", **extra: Any) -> SimpleNamespace:
    data: dict[str, Any] = {"nodeid": nodeid, "when": when, "outcome": outcome, "duration": 0.5, **extra}
    if stage is not None:
        data["pipeline_stage"] = stage
    data.setdefault("longrepr", None)
    return SimpleNamespace(**data)


def run(ledger: Ledger, nodeid: str, *phases: str, **extra: Any) -> None:
    """``phases`` like "setup:passed", "call:failed"; a bare outcome list means setup, call, teardown."""
    pairs = [
        p.split(":") if ":" in p else (w, p)
        for w, p in zip(("setup", "call", "teardown"), phases, strict=False)
    ]
    for when, outcome in pairs:
        ledger.add(rep(nodeid, when, outcome, **extra))


def test_outcomes_per_phase() -> None:
    ledger = Ledger()
    run(ledger, "a", "passed", "passed", "passed")
    run(ledger, "b", "passed", "failed", "passed")
    run(ledger, "c", "setup:failed", "teardown:passed")  # setup error: no call report
    run(ledger, "d", "setup:skipped", "teardown:passed")
    run(ledger, "e", "passed", "passed", "failed")  # teardown error after a pass
    outcomes = {nodeid: entry.outcome for nodeid, entry in ledger.entries.items()}
    assert outcomes == {
        "a": Outcome.PASSED,
        "b": Outcome.FAILED,
        "c": Outcome.ERROR,
        "d": Outcome.SKIPPED,
        "e": Outcome.ERROR,
    }
    assert all(entry.finished for entry in ledger.entries.values())
    counts = ledger.counts(["unit", "smoke"])
    assert list(counts) == ["unit", "smoke"]
    assert (counts["unit"].tests, counts["unit"].passed, counts["unit"].errors) == (5, 1, 2)
    assert counts["smoke"].tests == 0
    assert counts["unit"].time == 0.5 * 13


def test_rerun_then_pass_is_flaky_and_not_finished_until_the_last_attempt() -> None:
    ledger = Ledger()
    ledger.add(rep("t", "setup", "passed"))
    ledger.add(rep("t", "call", "rerun", longrepr="AssertionError: warming up\nmore"))
    entry = ledger.add(rep("t", "teardown", "passed"))
    assert entry is not None
    assert entry.finished is False
    run(ledger, "t", "passed", "passed", "passed")
    assert entry.finished is True
    assert entry.outcome is Outcome.PASSED
    assert entry.flaky
    assert entry.failed_attempts == ["AssertionError: warming up"]
    assert ledger.counts(["unit"])["unit"].flaky == 1


def test_an_attempt_whose_call_and_teardown_failed_is_one_attempt() -> None:
    ledger = Ledger()
    for _ in range(2):
        run(ledger, "t", "passed", "rerun", "rerun")
    run(ledger, "t", "passed", "failed", "failed")
    entry = ledger.entries["t"]
    assert len(entry.failed_attempts) == 2
    assert entry.outcome is Outcome.FAILED
    assert entry.finished


def test_rerun_then_fail_is_not_flaky() -> None:
    ledger = Ledger()
    run(ledger, "t", "passed", "rerun", "passed")
    run(ledger, "t", "passed", "failed", "passed")
    entry = ledger.entries["t"]
    assert entry.outcome is Outcome.FAILED
    assert not entry.flaky


def test_blocked_and_not_ready_are_remembered() -> None:
    ledger = Ledger()
    run(ledger, "b", "failed", "passed", stage="smoke", pipeline_blocked="blocked by a failure in stage unit")
    ledger.add(rep("n", "setup", "failed", stage="smoke", pipeline_not_ready="stage smoke not ready: x"))
    assert ledger.entries["b"].outcome is Outcome.BLOCKED
    assert ledger.entries["b"].blocked == "blocked by a failure in stage unit"
    assert ledger.entries["n"].outcome is Outcome.ERROR
    assert ledger.entries["n"].not_ready == "stage smoke not ready: x"
    assert [entry.nodeid for entry in ledger.blocked()] == ["b"]


def test_over_budget_is_recorded_from_the_call() -> None:
    ledger = Ledger()
    run(ledger, "slow", "passed", "passed", "passed", pipeline_over_budget=0.25)
    assert ledger.entries["slow"].over_budget == (0.5, 0.25)
    assert [entry.nodeid for entry in ledger.over_budget()] == ["slow"]


def test_crash_report_without_stage_uses_the_fallback() -> None:
    ledger = Ledger(stage_of={"crashy": "integration"}.get)
    entry = ledger.add(rep("crashy", "???", "failed", stage=None))
    assert entry is not None
    assert (entry.stage, entry.outcome, entry.finished) == ("integration", Outcome.FAILED, True)
    assert ledger.add(rep("unknown", "???", "failed", stage=None)) is None


def test_short_message_prefers_the_crash_line() -> None:
    crash = SimpleNamespace(reprcrash=SimpleNamespace(message="E boom"))
    assert short_message(SimpleNamespace(longrepr=crash, outcome="failed")) == "E boom"
    assert (
        short_message(SimpleNamespace(longrepr=("f.py", 3, "Skipped: no"), outcome="skipped"))
        == "Skipped: no"
    )
    assert short_message(SimpleNamespace(longrepr=None, outcome="rerun")) == "rerun"


def test_a_stage_s_time_is_its_wall_time() -> None:
    """Under xdist a stage's tests overlap: three tests of 2 s each, side by side, took 2 s
    of the stage, not 6 (the ledger sees each report's start and stop)."""
    ledger = Ledger()
    for index, nodeid in enumerate(("a", "b", "c")):
        start = 100.0 + index * 0.1
        for when in ("setup", "call", "teardown"):
            ledger.add(rep(nodeid, when, "passed", start=start, stop=start + 2.0, duration=2.0 / 3))
    ledger.add(rep("s", "setup", "passed", stage="smoke", start=103.0, stop=103.5))
    counts = ledger.counts(["unit", "smoke", "e2e"])
    assert round(counts["unit"].time, 6) == 2.2  # 100.0 .. 102.2
    assert counts["smoke"].time == 0.5
    assert counts["e2e"].time == 0.0
    assert ledger.wall_time("e2e") is None


def test_without_start_and_stop_the_durations_add_up() -> None:
    ledger = Ledger()
    run(ledger, "a", "passed", "passed", "passed")
    assert ledger.counts(["unit"])["unit"].time == 1.5
