"""A failure in one stage blocks the later stages: a distinct, visible, failing outcome."""

from __future__ import annotations

import pytest

SUITE = """
import pathlib
import pytest

@pytest.fixture
def expensive():
    pathlib.Path("fixture-ran-" + "{name}").touch()
    yield

def test_unit_ok(): pass

def test_unit_bad(): {unit_body}

@pytest.mark.integration
def test_integration_ok(): pass

@pytest.mark.smoke
def test_smoke(expensive): pass
"""


def outcomes(result: pytest.RunResult) -> dict[str, int]:
    """pytest's final line as a dict; assert_outcomes() knows no "blocked"."""
    return result.parseoutcomes()


def suite(pytester: pytest.Pytester, unit_body: str = "assert False") -> None:
    pytester.makepyfile(test_suite=SUITE.format(name="smoke", unit_body=unit_body))


def test_failure_blocks_later_stages(pytester: pytest.Pytester) -> None:
    suite(pytester)
    result = pytester.runpytest("-v")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert outcomes(result) == {"passed": 1, "failed": 1, "blocked": 2}
    result.stdout.fnmatch_lines(
        [
            "*::test_unit_bad FAILED*",
            "*::test_integration_ok BLOCKED*",
            "*::test_smoke BLOCKED*",
            "*blocked (1 in integration, 1 in smoke): blocked by a failure in stage unit",
            "*1 failed, 1 passed, 2 blocked in*",
        ]
    )
    # a blocked test runs none of its fixtures
    assert not (pytester.path / "fixture-ran-smoke").exists()


def test_blocked_reports_carry_stage_and_message(pytester: pytest.Pytester) -> None:
    suite(pytester)
    reprec = pytester.inline_run()
    blocked = [
        r for r in reprec.getreports("pytest_runtest_logreport") if getattr(r, "pipeline_blocked", None)
    ]
    assert [
        (r.nodeid.split("::")[-1], r.when, r.outcome, r.pipeline_stage, str(r.longrepr)) for r in blocked
    ] == [
        ("test_integration_ok", "setup", "failed", "integration", "blocked by a failure in stage unit"),
        ("test_smoke", "setup", "failed", "smoke", "blocked by a failure in stage unit"),
    ]


def test_quiet_progress_shows_b(pytester: pytest.Pytester) -> None:
    suite(pytester)
    result = pytester.runpytest("-q")
    result.stdout.fnmatch_lines([".FBB*"])


def test_no_stage_block_runs_everything(pytester: pytest.Pytester) -> None:
    suite(pytester)
    result = pytester.runpytest("--no-stage-block")
    result.assert_outcomes(passed=3, failed=1)
    assert (pytester.path / "fixture-ran-smoke").exists()


def test_stage_block_false_in_config(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("[tool.pytest-pipeline]\nstage-block = false\n")
    suite(pytester)
    pytester.runpytest().assert_outcomes(passed=3, failed=1)


@pytest.mark.parametrize(
    "unit_body",
    ["pytest.skip('later')", "pytest.xfail('known')", "pass"],
)
def test_skips_and_xfails_do_not_block(pytester: pytest.Pytester, unit_body: str) -> None:
    suite(pytester, unit_body)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.OK
    assert "blocked" not in outcomes(result)
    result.stdout.no_fnmatch_line("*blocked by a failure*")


def test_setup_error_blocks_too(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_err="""
        import pytest

        @pytest.fixture
        def broken():
            raise RuntimeError("db down")

        def test_unit(broken): pass

        @pytest.mark.smoke
        def test_smoke(): pass
        """
    )
    assert outcomes(pytester.runpytest()) == {"errors": 1, "blocked": 1}


def test_only_the_selected_stages_matter(pytester: pytest.Pytester) -> None:
    suite(pytester)
    # unit is not selected, so its failure cannot block
    pytester.runpytest("--stage=integration,smoke").assert_outcomes(passed=2, deselected=2)


def test_blocked_tests_keep_module_fixtures_consistent(pytester: pytest.Pytester) -> None:
    # Blocked tests sit between real tests that share a module fixture: the setup
    # state must stay consistent (no "previous item was not torn down properly").
    pytester.makepyprojecttoml("[tool.pytest-pipeline]\nstages = ['unit', 'smoke']\n")
    pytester.makepyfile(
        test_a="""
        import pytest

        @pytest.fixture(scope="module")
        def shared():
            yield

        def test_fail(shared): assert False

        @pytest.mark.smoke
        def test_blocked(shared): pass
        """,
        test_b="""
        import pytest

        @pytest.fixture(scope="module")
        def other():
            yield

        def test_ok(other): pass

        @pytest.mark.smoke
        def test_blocked_too(other): pass
        """,
    )
    result = pytester.runpytest()
    assert outcomes(result) == {"passed": 1, "failed": 1, "blocked": 2}
    result.stdout.no_fnmatch_line("*INTERNALERROR*")
