"""Real pytest runs (xunit1/xunit2, pytest-rerunfailures, pytest-xdist, our plugin) -> merge.

Whatever the way pytest writes the file, the merge must see the same nine tests with
the same final outcomes: attempts and pytest's separate teardown-error element never
count as extra tests.
"""

from __future__ import annotations

import pytest
from junit_checks import assert_valid, junitparser_counts

from pytest_pipeline.junit import merge, summarize
from pytest_pipeline.results import Outcome

TESTS = """
import pathlib
import pytest

def attempt(name):
    counter = pathlib.Path(__file__).with_name(f"count-{name}")
    value = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(value))
    return value

@pytest.fixture
def bad_teardown():
    yield
    raise RuntimeError("teardown boom")

@pytest.fixture
def bad_setup():
    raise RuntimeError("setup boom")

def test_pass():
    pass

def test_fail_and_teardown(bad_teardown):
    assert 0, "call boom"

def test_pass_and_teardown(bad_teardown):
    pass

def test_skip_and_teardown(bad_teardown):
    pytest.skip("not here")

def test_setup_err(bad_setup):
    pass

def test_flaky():
    assert attempt("flaky") >= 3, "flaky boom"

def test_always_fails():
    assert 0, "always"

@pytest.mark.xfail(strict=True)
def test_xpass():
    pass

@pytest.mark.xfail
def test_xfail():
    assert 0
"""

FINAL = {
    "test_pass": Outcome.PASSED,
    "test_fail_and_teardown": Outcome.FAILED,
    "test_pass_and_teardown": Outcome.ERROR,
    "test_skip_and_teardown": Outcome.ERROR,
    "test_setup_err": Outcome.ERROR,
    "test_always_fails": Outcome.FAILED,
    "test_xpass": Outcome.FAILED,
    "test_xfail": Outcome.SKIPPED,
}


@pytest.mark.parametrize(
    "options",
    [
        pytest.param(["-o", "junit_family=xunit2"], id="xunit2"),
        pytest.param(["-o", "junit_family=xunit1", "--reruns", "2"], id="xunit1-reruns"),
        pytest.param(["-o", "junit_family=xunit2", "--reruns", "2", "-n", "2"], id="xdist-reruns"),
    ],
)
@pytest.mark.parametrize("plugin", [False, True], ids=["plain-pytest", "our-plugin"])
def test_real_pytest_output_merges_to_the_logical_outcomes(
    pytester: pytest.Pytester, options: list[str], plugin: bool
) -> None:
    _check_real_run(pytester, options, plugin)


def _check_real_run(pytester: pytest.Pytester, options: list[str], plugin: bool) -> None:
    pytester.makepyfile(test_sample=TESTS)
    report = pytester.path / "py311.xml"
    args = ["-p", "no:cacheprovider", f"--junitxml={report}", *options]
    if not plugin:
        args += ["-p", "no:pipeline"]
    pytester.runpytest_subprocess(*args)
    assert report.exists()
    reruns = "--reruns" in options

    output = pytester.path / "merged.xml"
    summary = merge([report], output)
    assert summary.problems == []
    final = {ref.name: ref.outcome for ref in summary.failures}
    flaky = {ref.name: ref.attempts for ref in summary.flaky}
    expected = dict(FINAL)
    if reruns:
        assert flaky == {"test_flaky": 3}
        expected["test_flaky"] = Outcome.PASSED
    else:
        assert flaky == {}
        expected["test_flaky"] = Outcome.FAILED
    assert final == {name: outcome for name, outcome in expected.items() if outcome.is_bad}
    total = summary.total()
    assert total.tests == 9
    assert total.passed == sum(outcome is Outcome.PASSED for outcome in expected.values())
    assert total.skipped == 1
    if reruns:
        assert {ref.name: ref.attempts for ref in summary.failures} == dict.fromkeys(final, 3)
    assert_valid(output)
    _, read = junitparser_counts(output)
    assert (read.tests, read.failures, read.errors, read.skipped) == (
        total.tests,
        total.failed,
        total.errors + total.blocked,
        total.skipped,
    )
    assert summarize([report]).to_dict() == summary.to_dict()
