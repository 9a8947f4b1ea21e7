"""Checks of the tests: failures, errors, blocked stages and flaky passes, through the
policy's scope, its baseline (``regressions-only``) and its quarantine file."""

from __future__ import annotations

from collections import Counter

from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.gate import quarantine
from pytest_pipeline.gate.decision import Decision
from pytest_pipeline.gate.findings import NoteKind, Quarantined, ReasonKind
from pytest_pipeline.results import COLLECTION_FAILURE, Outcome, TestRef


def _where(ref: TestRef) -> dict[str, str | None]:
    return {"cell": ref.cell, "stage": ref.stage, "test": ref.test_id}


def failures(decision: Decision) -> list[TestRef]:
    """Judge every bad test; return them all (the next gate's baseline lists them all)."""
    all_bad = list(decision.results.summary.failures)
    blocked: Counter[tuple[str, str]] = Counter()
    blocked_example: dict[tuple[str, str], TestRef] = {}
    for ref in all_bad:
        if ref.outcome is Outcome.BLOCKED and _judged_elsewhere(decision, ref) is None:
            # One line per (cell, stage): a blocked stage is one event, not 500.
            blocked[(ref.cell, ref.stage)] += 1
            blocked_example.setdefault((ref.cell, ref.stage), ref)
            continue
        _failure(decision, ref)
    omitted = decision.results.summary.failures_omitted
    if omitted:
        # Not listed, so neither scope nor quarantine can be checked: they count.
        decision.reason(
            ExitCode.TESTS_FAILED,
            ReasonKind.FAILED,
            f"{omitted} more failed, errored or blocked tests (too many to list; see the JUnit files)",
        )
    for (cell, stage), count in blocked.items():
        example = blocked_example[(cell, stage)]
        detail = _first_line(example.message) or ": blocked by a failure in an earlier stage"
        tests = "test" if count == 1 else "tests"
        decision.reason(
            ExitCode.TESTS_FAILED,
            ReasonKind.BLOCKED,
            f"{count} {tests} blocked{detail}",
            cell=cell,
            stage=stage,
        )
    return all_bad


def _judged_elsewhere(decision: Decision, ref: TestRef) -> NoteKind | None:
    """The note a bad test gets instead of a reason: outside the required cells and
    stages, or failing in the baseline too (``regressions-only``)."""
    if not decision.in_scope(ref):
        return NoteKind.NOT_REQUIRED
    baseline = decision.files.baseline if decision.policy.mode == "regressions-only" else None
    if baseline is not None and baseline.has(ref):
        return NoteKind.BASELINE
    return None


def _failure(decision: Decision, ref: TestRef) -> None:
    where = _where(ref)
    elsewhere = _judged_elsewhere(decision, ref)
    if elsewhere is NoteKind.NOT_REQUIRED:
        decision.note(elsewhere, f"{ref.outcome.value} outside the required cells/stages", **where)
        return
    if elsewhere is NoteKind.BASELINE:
        decision.note(elsewhere, f"still {ref.outcome.value} (also failing in the baseline)", **where)
        return
    match = quarantine.find(decision.files.quarantine, ref, decision.today)
    if match.active is not None:
        decision.quarantined.append(Quarantined(ref, match.active))
        decision.note(
            NoteKind.QUARANTINED,
            f"{ref.outcome.value}, quarantined until {match.active.expires}: {match.active.reason}",
            **where,
        )
        return
    summary = _first_line(ref.message)
    if match.expired is not None:
        decision.reason(
            ExitCode.TESTS_FAILED,
            ReasonKind.QUARANTINE_EXPIRED,
            f"{ref.outcome.value}; its quarantine entry {match.expired.id!r} expired on "
            f"{match.expired.expires} and no longer applies{summary}",
            **where,
        )
        return
    kind = ReasonKind.ERROR if ref.outcome is Outcome.ERROR else ReasonKind.FAILED
    decision.reason(ExitCode.TESTS_FAILED, kind, f"{ref.outcome.value}{summary}", **where)
    if ref.outcome is Outcome.ERROR and ref.message == COLLECTION_FAILURE:
        decision.stopped_at_collection.add(ref.cell)


def flaky_tests(decision: Decision) -> list[TestRef]:
    flaky = list(decision.results.summary.flaky)
    policy = decision.policy
    for ref in flaky:
        where = _where(ref)
        attempts = f" after {ref.attempts} attempts" if ref.attempts > 1 else " after a failed attempt"
        if not decision.in_scope(ref):
            decision.note(ReasonKind.FLAKY, f"passed{attempts} (not required)", **where)
        elif policy.flaky == "allow":
            decision.note(ReasonKind.FLAKY, f"passed{attempts} (allowed by flaky = 'allow')", **where)
        else:
            match = quarantine.find(decision.files.quarantine, ref, decision.today)
            if match.active is not None:
                decision.quarantined.append(Quarantined(ref, match.active))
                decision.note(
                    NoteKind.QUARANTINED, f"flaky but quarantined until {match.active.expires}", **where
                )
            else:
                decision.reason(
                    ExitCode.TESTS_FAILED,
                    ReasonKind.FLAKY,
                    f"passed only{attempts} (flaky = 'fail')",
                    **where,
                )
    omitted = decision.results.summary.flaky_omitted
    if omitted and policy.flaky == "fail":
        decision.reason(
            ExitCode.TESTS_FAILED, ReasonKind.FLAKY, f"{omitted} more flaky passes (too many to list)"
        )
    return flaky


def unused_expired_entries(
    decision: Decision, failures: list[TestRef], flaky: list[TestRef]
) -> tuple[quarantine.QuarantineEntry, ...]:
    expired = tuple(entry for entry in decision.files.quarantine if entry.expired(decision.today))
    for entry in expired:
        if any(entry.matches(ref) for ref in (*failures, *flaky)):
            continue  # already a reason of its own
        decision.note(
            ReasonKind.QUARANTINE_EXPIRED,
            f"quarantine entry {entry.id!r} expired on {entry.expires}; remove it or extend it",
            test=entry.id,
        )
    return expired


def _first_line(message: str, limit: int = 200) -> str:
    line = message.strip().splitlines()[0] if message.strip() else ""
    if len(line) > limit:
        line = line[: limit - 1] + "…"
    return f": {line}" if line else ""
