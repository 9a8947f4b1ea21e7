"""Rerun attempts -> one test: pytest-rerunfailures, Surefire, pytest's teardown split, xdist order."""

from __future__ import annotations

import pytest

from pytest_pipeline.junit.collapse import MAX_EARLIER, CollapsedTest, Collapser
from pytest_pipeline.junit.records import ResultEntry, TestCaseRecord
from pytest_pipeline.results import Outcome


def case(
    name: str = "test_a",
    *results: ResultEntry,
    reruns: tuple[ResultEntry, ...] = (),
    time: float = 1.0,
    cell: str = "py311",
    stage: str = "unit",
) -> TestCaseRecord:
    record = TestCaseRecord(cell, stage, "tests.test_mod", name, time)
    record.results = list(results)
    record.reruns = list(reruns)
    record.size = len(record.results) + len(record.reruns)
    return record


def failure(message: str = "AssertionError: boom", text: str = "trace") -> ResultEntry:
    return ResultEntry("failure", "", message, text)


def error(message: str = 'failed on setup with "RuntimeError"', type_: str = "") -> ResultEntry:
    return ResultEntry("error", type_, message, "trace")


def skipped(message: str = "later") -> ResultEntry:
    return ResultEntry("skipped", "pytest.skip", message, "")


def collapse(*records: TestCaseRecord, window: int = 128) -> list[CollapsedTest]:
    emitted: list[TestCaseRecord | CollapsedTest] = []
    collapser = Collapser(emitted.append, window=window)
    for record in records:
        collapser.push(record)
    collapser.flush()
    return [item if isinstance(item, CollapsedTest) else CollapsedTest(item) for item in emitted]


def test_a_single_passing_testcase_is_one_attempt() -> None:
    (test,) = collapse(case())
    assert (test.outcome, test.attempts, test.flaky, test.earlier) == (Outcome.PASSED, 1, False, [])


def test_rerunfailures_empty_earlier_attempts_then_pass_is_one_flaky_pass() -> None:
    # pytest --reruns 2 on a test that passes at its third attempt: three empty elements.
    (test,) = collapse(case(time=0.5), case(time=0.5), case(time=0.5))
    assert test.outcome is Outcome.PASSED
    assert test.attempts == 3
    assert test.flaky
    assert test.time == pytest.approx(1.5)
    assert [entry.kind for entry in test.earlier] == ["failure", "failure"]
    assert "attempt 1 did not pass" in test.earlier[0].message


def test_rerunfailures_that_fails_in_the_end_keeps_the_final_failure() -> None:
    (test,) = collapse(case(), case(), case("test_a", failure("AssertionError: last")))
    assert test.outcome is Outcome.FAILED
    assert test.attempts == 3
    assert not test.flaky
    assert test.record.primary() is not None
    assert test.record.primary().message == "AssertionError: last"  # type: ignore[union-attr]


def test_earlier_attempts_with_details_keep_them() -> None:
    (test,) = collapse(case("test_a", failure("first way")), case("test_a", error("second way")), case())
    assert test.flaky
    assert [(entry.kind, entry.message) for entry in test.earlier] == [
        ("failure", "first way"),
        ("error", "second way"),
    ]


def test_pytest_teardown_error_after_a_failure_is_the_same_attempt() -> None:
    # pytest 9 writes a failed call and its teardown error as two adjacent testcases.
    teardown = error('failed on teardown with "RuntimeError: teardown boom"')
    (test,) = collapse(case("test_a", failure()), case("test_a", teardown))
    assert test.outcome is Outcome.FAILED
    assert test.attempts == 1
    assert [entry.kind for entry in test.record.results] == ["failure", "error"]


def test_teardown_error_after_reruns_does_not_count_as_an_attempt() -> None:
    teardown = error('failed on teardown with "RuntimeError: teardown boom"')
    (test,) = collapse(case(), case(), case("test_a", failure()), case("test_a", teardown))
    assert (test.outcome, test.attempts) == (Outcome.FAILED, 3)


def test_a_teardown_error_after_an_empty_element_is_a_new_attempt() -> None:
    # rerunfailures: passing call + teardown error reruns; the last element holds the error.
    teardown = error('failed on teardown with "RuntimeError: teardown boom"')
    (test,) = collapse(case(), case(), case("test_a", teardown))
    assert (test.outcome, test.attempts) == (Outcome.ERROR, 3)


def test_surefire_flaky_elements_make_a_flaky_pass() -> None:
    record = case("test_a", reruns=(failure("first"), error("second")))
    (test,) = collapse(record)
    assert test.outcome is Outcome.PASSED
    assert test.attempts == 3
    assert test.flaky


def test_surefire_rerun_elements_with_a_final_failure() -> None:
    (test,) = collapse(case("test_a", failure("final"), reruns=(failure("first"),)))
    assert (test.outcome, test.attempts, test.flaky) == (Outcome.FAILED, 2, False)


def test_blocked_error_is_blocked_not_error() -> None:
    blocked = error("blocked by a failure in stage unit", type_="pytest_pipeline.blocked")
    (test,) = collapse(case("test_a", blocked))
    assert test.outcome is Outcome.BLOCKED
    untyped = error('failed on setup with "blocked by a failure in stage unit"')
    (test,) = collapse(case("test_a", untyped))
    assert test.outcome is Outcome.BLOCKED


def test_skip_with_teardown_error_is_an_error() -> None:
    (test,) = collapse(case("test_a", skipped(), error('failed on teardown with "x"')))
    assert test.outcome is Outcome.ERROR


def test_xdist_interleaved_attempts_are_collapsed() -> None:
    # -n 2 --reruns 2: one worker's attempts interleave with the other worker's tests.
    order = ["t0", "t2", "t0", "t2", "t0", "t2", "t1", "t3", "t1", "t3", "t1", "t3"]
    tests = collapse(*(case(name) for name in order))
    assert sorted(test.record.name for test in tests) == ["t0", "t1", "t2", "t3"]
    assert all(test.attempts == 3 and test.flaky for test in tests)


def test_attempts_farther_apart_than_the_window_are_separate_tests() -> None:
    records = [case("t0"), *(case(f"other{i}") for i in range(4)), case("t0")]
    tests = collapse(*records, window=3)
    assert [test.record.name for test in tests].count("t0") == 2
    assert all(test.attempts == 1 for test in tests)


def test_same_name_in_other_cell_or_stage_is_another_test() -> None:
    tests = collapse(case(cell="a"), case(cell="b"), case(stage="smoke", cell="a"))
    assert len(tests) == 3
    assert all(test.attempts == 1 for test in tests)


def test_earlier_attempt_details_are_capped_but_counted() -> None:
    records = [case("t", failure(f"attempt {i}")) for i in range(MAX_EARLIER + 5)] + [case("t")]
    (test,) = collapse(*records)
    assert test.attempts == MAX_EARLIER + 6
    assert len(test.earlier) == MAX_EARLIER
    assert test.omitted == 5
    assert test.flaky


def test_budget_of_noisy_tests_emits_early_and_keeps_order() -> None:
    emitted: list[TestCaseRecord | CollapsedTest] = []
    collapser = Collapser(emitted.append, window=100, budget=3)
    for index in range(5):
        collapser.push(case(f"t{index}", failure()))
    assert [item.record.name if isinstance(item, CollapsedTest) else item.name for item in emitted] == [
        "t0",
        "t1",
    ]
    collapser.flush()
    assert len(emitted) == 5


def test_discard_forgets_pending_tests() -> None:
    emitted: list[TestCaseRecord | CollapsedTest] = []
    collapser = Collapser(emitted.append)
    collapser.push(case())
    collapser.discard()
    collapser.flush()
    assert emitted == []


def test_plugin_decorated_rerun_elements_count_each_attempt_once() -> None:
    # Our plugin adds the failed attempts as children to every element of the test:
    # the elements are the attempts, the children only describe them.
    described = (
        ResultEntry("failure", "pytest_pipeline.rerun", "first"),
        ResultEntry("failure", "pytest_pipeline.rerun", "second"),
    )
    (test,) = collapse(*(case("t", reruns=described) for _ in range(3)))
    assert (test.outcome, test.attempts, test.flaky) == (Outcome.PASSED, 3, True)
    assert [entry.message for entry in test.earlier] == ["first", "second"]
    assert test.omitted == 0


def test_plugin_decorated_teardown_error_still_folds() -> None:
    described = (ResultEntry("failure", "pytest_pipeline.rerun", "call"),)
    teardown = error('failed on teardown with "RuntimeError: teardown boom"')
    (test,) = collapse(
        case("t", reruns=described),
        case("t", failure(), reruns=described),
        case("t", teardown, reruns=described),
    )
    assert (test.outcome, test.attempts) == (Outcome.FAILED, 2)


def test_details_from_elements_win_over_placeholder_children() -> None:
    described = (ResultEntry("failure", "pytest_pipeline.rerun", "from child"),)
    (test,) = collapse(case("t", failure("from element")), case("t", reruns=described))
    assert [entry.message for entry in test.earlier] == ["from element"]


def test_push_all_emits_the_same_tests_in_the_same_order_as_push() -> None:
    import random

    from pytest_pipeline.junit.records import EmptySuite

    rng = random.Random(7)
    items: list[TestCaseRecord | EmptySuite] = []
    for index in range(768):
        roll = rng.random()
        name = f"t{rng.randrange(index + 1)}" if roll < 0.05 else f"t{index}"  # some reruns
        results = (failure(),) if roll > 0.93 else ()
        items.append(case(name, *results, cell="py311" if index < 400 else "py312"))
        if index % 300 == 299:
            items.append(EmptySuite("py311", f"stage{index}"))

    def describe(item: object) -> str:
        if isinstance(item, EmptySuite):
            return f"empty {item.stage}"
        test = item if isinstance(item, CollapsedTest) else CollapsedTest(item)  # type: ignore[arg-type]
        return f"{test.record.cell} {test.record.name} {test.attempts} {test.outcome.value}"

    one_by_one: list[str] = []
    plain = Collapser(lambda test: one_by_one.append(describe(test)), window=16, budget=8)
    for item in items:
        if isinstance(item, EmptySuite):
            one_by_one.append(describe(item))
        else:
            plain.push(item)
    plain.flush()

    # The merge's way: everything into one list, other items at their place.
    emitted: list[object] = []
    collapser = Collapser(emitted.append, window=16, budget=8)
    collapser.push_all(items[: len(items) // 2], emitted.append)
    for item in items[len(items) // 2 :]:  # push() and push_all() mix
        if isinstance(item, EmptySuite):
            emitted.append(item)
        else:
            collapser.push(item)
    collapser.flush()
    assert [describe(item) for item in emitted] == one_by_one
