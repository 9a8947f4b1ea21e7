"""Stage retries through pytest-rerunfailures: flaky passes counted, reruns never block."""

from __future__ import annotations

import pytest

FLAKY_UNIT = """
import pytest

attempts = {"count": 0}

def test_warms_up():
    attempts["count"] += 1
    assert attempts["count"] > 1, "still warming up"

@pytest.mark.integration
def test_later(): pass
"""

RETRIES = """
[tool.pytest-pipeline]
stages = ["unit", "integration"]
[tool.pytest-pipeline.stage.unit]
retries = 2
"""


def test_stage_retries_rerun_and_count_flaky_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(RETRIES)
    pytester.makepyfile(test_flaky=FLAKY_UNIT)
    result = pytester.runpytest("-p", "no:randomly")
    # the failed first attempt is a rerun, not a failure: integration is not blocked
    assert result.parseoutcomes() == {"passed": 2, "rerun": 1}
    result.stdout.fnmatch_lines(
        [
            "pipeline: retries: unit 2",
            "unit *1*0*0*0*0*1*0*",
            "flaky in unit: test_flaky.py::test_warms_up (passed on attempt 2)",
        ]
    )


def test_retry_delay_reaches_the_flaky_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(RETRIES + 'retry-delay = "10ms"\n')
    pytester.makepyfile(test_flaky=FLAKY_UNIT)
    reprec = pytester.inline_run()
    items = [call.item for call in reprec.getcalls("pytest_runtest_call")]
    marks = {item.name: item.get_closest_marker("flaky") for item in items}
    assert marks["test_later"] is None  # integration declares no retries
    assert marks["test_warms_up"] is not None
    assert marks["test_warms_up"].kwargs == {"reruns": 2, "reruns_delay": 0.01}


def test_exhausted_retries_fail_and_block(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(RETRIES)
    pytester.makepyfile(
        test_bad="import pytest\n\ndef test_bad(): assert False\n\n"
        "@pytest.mark.integration\ndef test_later(): pass\n"
    )
    result = pytester.runpytest()
    assert result.parseoutcomes() == {"failed": 1, "rerun": 2, "blocked": 1}


def test_a_tests_own_flaky_marker_wins(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(RETRIES)
    pytester.makepyfile(
        test_own="import pytest\n\n@pytest.mark.flaky(reruns=0)\ndef test_bad(): assert False\n"
    )
    assert pytester.runpytest().parseoutcomes() == {"failed": 1}


def test_without_rerunfailures_the_header_says_so_and_nothing_breaks(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(RETRIES)
    pytester.makepyfile(test_flaky=FLAKY_UNIT)
    result = pytester.runpytest("-p", "no:rerunfailures", "-W", "error", "--strict-markers")
    result.stdout.fnmatch_lines(
        ["pipeline: retries: unit 2 (pytest-rerunfailures is not installed: no retries)"]
    )
    assert result.parseoutcomes() == {"failed": 1, "blocked": 1}
    result.stdout.no_fnmatch_line("*warning*")
