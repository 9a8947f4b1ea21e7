"""Under pytest-xdist (-n 2): staging on workers, a global stage barrier, global blocking."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

pytest.importorskip("xdist")

EVENTS = '''
import pathlib, time

LOG = pathlib.Path(__file__).parent / "events.log"

def log(event):
    with LOG.open("a") as handle:
        handle.write(event + "\\n")

def wait_for_violation(seconds):
    """Give a stage-order violation (an integration test starting) time to show up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if LOG.exists() and "start integration" in LOG.read_text():
            return
        time.sleep(0.02)
'''

ORDERED = """
import pytest
from events import log, wait_for_violation

def test_u_slow():
    log("start unit")
    wait_for_violation(2)
    log("end unit")

@pytest.mark.parametrize("n", range(3))
def test_u_quick(n):
    log("start unit")
    log("end unit")

@pytest.mark.integration
@pytest.mark.parametrize("n", range(4))
def test_i(n):
    log("start integration")
    log("end integration")
"""


def test_no_integration_test_starts_before_every_unit_test_ended(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(events=EVENTS, test_ordered=ORDERED)
    pytester.syspathinsert()
    result = pytester.runpytest("-n", "2", "-p", "no:randomly")
    assert result.parseoutcomes() == {"passed": 8}
    events = (pytester.path / "events.log").read_text().split("\n")
    last_unit_end = max(i for i, event in enumerate(events) if event == "end unit")
    first_integration = events.index("start integration")
    assert last_unit_end < first_integration, events


def test_a_failure_on_one_worker_blocks_later_stages_everywhere(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_block="""
        import pytest

        @pytest.mark.parametrize("n", range(4))
        def test_u(n): assert n != 0

        @pytest.mark.integration
        @pytest.mark.parametrize("n", range(4))
        def test_i(n): pass
        """
    )
    result = pytester.runpytest("-n", "2", "--junitxml=junit.xml")
    assert result.parseoutcomes() == {"passed": 3, "failed": 1, "blocked": 4}
    result.stdout.fnmatch_lines(
        [
            "pipeline: 8 tests staged: unit 4, integration 4, smoke 0 (stage from marker 4, default 4)",
            "blocked (4 in integration): blocked by a failure in stage unit",
        ]
    )
    root = ET.parse(pytester.path / "junit.xml").getroot()
    assert [(s.get("name"), s.get("tests"), s.get("errors")) for s in root.findall("testsuite")] == [
        ("pytest: unit", "4", "0"),
        ("pytest: integration", "4", "4"),
        ("pytest: smoke", "0", "0"),
    ]


def test_directories_and_flaky_retries_on_workers(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("[tool.pytest-pipeline.stage.smoke]\nretries = 1\n")
    smoke = pytester.path / "smoke" / "test_s.py"
    smoke.parent.mkdir()
    smoke.write_text(
        "attempts = []\n\ndef test_warming():\n    attempts.append(1)\n    assert len(attempts) > 1\n"
    )
    pytester.makepyfile(
        test_u="import pytest\n\ndef test_u(): pass\n\n@pytest.mark.integration\ndef test_i(): pass\n"
    )
    result = pytester.runpytest("-n", "2", "--stage=unit,smoke")
    assert result.parseoutcomes() == {"passed": 2, "rerun": 1}
    result.stdout.fnmatch_lines(
        [
            "pipeline: 3 tests staged: unit 1, integration 1, smoke 1 "
            "(stage from marker 1, directory 1, default 1); 1 deselected by --stage",
            "flaky in smoke: smoke/test_s.py::test_warming (passed on attempt 2)",
        ]
    )


def test_other_dist_modes_say_order_is_per_worker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_u="import pytest\n\ndef test_u(): pass\n\n@pytest.mark.smoke\ndef test_s(): pass\n"
    )
    result = pytester.runpytest("-n", "2", "--dist", "loadfile")
    assert result.parseoutcomes() == {"passed": 2}
    result.stdout.fnmatch_lines(["pipeline: --dist loadfile does not hand out tests in stage order*"])


def test_marker_errors_from_workers_reach_the_controller(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bad="import pytest\n\n@pytest.mark.unit\n@pytest.mark.smoke\ndef test_two(): pass\n"
    )
    pytester.makepyfile(test_fine="def test_fine(): pass\n")
    result = pytester.runpytest("-n", "2", "-rA")
    # As in-process: the stage error stops the session before any test runs (exit 2).
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["test_bad.py::test_two: markers give two different stages (smoke, unit)*"])
    result.stdout.fnmatch_lines(["*stage errors during collection*"])
    result.stdout.no_fnmatch_line("*PASSED*")
    result.stdout.no_fnmatch_line("* passed*")


def test_strict_stages_stop_xdist_unless_told_to_go_on(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_plain(): pass\n")
    result = pytester.runpytest("-n", "2", "--strict-stages")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*strict stages: 1 test got stage 'unit' only from the default*"])
    result.stdout.no_fnmatch_line("* passed*")
    result = pytester.runpytest("-n", "2", "--strict-stages", "--continue-on-collection-errors")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*1 passed*"])


def test_other_collection_errors_leave_xdist_s_own_behaviour(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_broken="import not_a_module\n", test_fine="def test_fine(): pass\n")
    result = pytester.runpytest("-n", "2")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*1 passed, 1 error*"])


def test_list_stages_with_n_runs_in_process(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_u="def test_u(): pass\n")
    result = pytester.runpytest("-n", "2", "--list-stages")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["unit: 1 test"])


def test_a_crashed_worker_does_not_leave_the_barrier_waiting(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_crash="""
        import os
        import pytest

        def test_u_crash(): os._exit(3)

        @pytest.mark.parametrize("n", range(3))
        def test_u(n): pass

        @pytest.mark.integration
        @pytest.mark.parametrize("n", range(4))
        def test_i(n): pass
        """
    )
    result = pytester.runpytest_subprocess("-n", "2", "--no-stage-block", timeout=120)
    assert result.parseoutcomes() == {"passed": 7, "failed": 1}
    result.stdout.fnmatch_lines(["*stage barrier released (worker gw* went down)*"])


ASSIGNMENT = (
    "pipeline: 2 tests staged: unit 1, integration 0, smoke 1 (stage from marker 1, default 1); "
    "1 deselected by --stage"
)


def test_how_tests_were_staged_is_said_once_before_the_tests_run(pytester: pytest.Pytester) -> None:
    # The controller collects nothing: the line comes from the workers' collection.
    pytester.makepyfile(
        test_u="import pytest\n\ndef test_u(): pass\n\n@pytest.mark.smoke\ndef test_s(): pass\n"
    )
    result = pytester.runpytest("-n", "2", "--stage=unit")
    assert result.parseoutcomes() == {"passed": 1}
    result.stdout.fnmatch_lines(
        ["2 workers [[]1 item[]]", "", ASSIGNMENT, "*[[]100%[]]", "*pipeline stages*"]
    )
    assert result.stdout.lines.count(ASSIGNMENT) == 1


def test_how_tests_were_staged_is_said_when_no_test_runs(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_u="import pytest\n\ndef test_u(): pass\n\n@pytest.mark.smoke\ndef test_s(): pass\n"
    )
    result = pytester.runpytest("-n", "2", "--stage=integration")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(["pipeline: 2 tests staged: * 2 deselected by --stage"])
