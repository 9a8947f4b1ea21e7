"""--stage selection, deselection through pytest_deselected, stage order, --list-stages."""

from __future__ import annotations

import pytest

MIXED = """
import pytest

@pytest.mark.smoke
def test_s1(): pass

def test_u1(): pass

@pytest.mark.integration
def test_i1(): pass

@pytest.mark.smoke
def test_s2(): pass

def test_u2(): pass
"""


@pytest.fixture
def mixed(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_mixed=MIXED)
    return pytester


def ran(reprec: pytest.HookRecorder) -> list[str]:
    return [
        r.nodeid.split("::")[-1] for r in reprec.getreports("pytest_runtest_logreport") if r.when == "call"
    ]


def test_without_stage_everything_runs_in_stage_order(mixed: pytest.Pytester) -> None:
    reprec = mixed.inline_run()
    assert ran(reprec) == ["test_u1", "test_u2", "test_i1", "test_s1", "test_s2"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--stage=unit"], ["test_u1", "test_u2"]),
        (["--stage=smoke,unit"], ["test_u1", "test_u2", "test_s1", "test_s2"]),
        (["--stage", "smoke", "--stage", "integration"], ["test_i1", "test_s1", "test_s2"]),
        (["--stage=all"], ["test_u1", "test_u2", "test_i1", "test_s1", "test_s2"]),
    ],
)
def test_stage_selects_and_orders(mixed: pytest.Pytester, args: list[str], expected: list[str]) -> None:
    reprec = mixed.inline_run(*args)
    assert ran(reprec) == expected
    deselected = [item.name for call in reprec.getcalls("pytest_deselected") for item in call.items]
    assert sorted(deselected + expected) == sorted(["test_u1", "test_u2", "test_i1", "test_s1", "test_s2"])


def test_deselected_count_is_pytests_own(mixed: pytest.Pytester) -> None:
    result = mixed.runpytest("--stage=integration")
    result.assert_outcomes(passed=1, deselected=4)
    result.stdout.fnmatch_lines(
        ["collected 5 items / 4 deselected / 1 selected", "*4 deselected by --stage*"]
    )


def test_stage_combines_with_dash_m(mixed: pytest.Pytester) -> None:
    result = mixed.runpytest("--stage=smoke,integration", "-m", "not integration")
    result.assert_outcomes(passed=2, deselected=3)


def test_unknown_stage_is_a_usage_error_listing_the_known_ones(mixed: pytest.Pytester) -> None:
    result = mixed.runpytest("--stage=unit,nightly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --stage=unit,nightly: unknown stage 'nightly'; "
            "known stages: unit, integration, smoke (or all)"
        ]
    )


def test_declared_stage_order_is_the_run_order(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml('[tool.pytest-pipeline]\nstages = ["smoke", "unit"]\n')
    pytester.makepyfile(
        test_o="import pytest\n\ndef test_u(): pass\n\n@pytest.mark.smoke\ndef test_s(): pass\n"
    )
    assert ran(pytester.inline_run()) == ["test_s", "test_u"]


def test_list_stages_counts_and_runs_nothing(mixed: pytest.Pytester) -> None:
    mixed.makeconftest(
        "import pathlib\n\ndef pytest_runtest_setup(item):\n    pathlib.Path('ran.txt').write_text('ran')\n"
    )
    result = mixed.runpytest("--list-stages")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["unit: 2 tests", "integration: 1 test", "smoke: 2 tests"])
    result.stdout.no_fnmatch_line("  test_mixed.py::*")
    assert not (mixed.path / "ran.txt").exists()


def test_list_stages_verbose_lists_tests_of_the_selected_stages(mixed: pytest.Pytester) -> None:
    result = mixed.runpytest("--list-stages", "-v", "--stage=smoke")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["smoke: 2 tests", "  test_mixed.py::test_s1", "  test_mixed.py::test_s2"])
    result.stdout.no_fnmatch_line("unit: *")


BROKEN_PROJECT = {
    "test_ok": "import pathlib\n\ndef test_ok():\n    pathlib.Path('ran.txt').write_text('ran')\n",
    "test_broken": "import nope\n",
}


def test_list_stages_with_continue_on_collection_errors_runs_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(**BROKEN_PROJECT)
    result = pytester.runpytest("--list-stages", "--continue-on-collection-errors")
    assert not (pytester.path / "ran.txt").exists()
    result.stdout.fnmatch_lines(["unit: 1 test", "*ModuleNotFoundError: No module named 'nope'*"])
    result.stdout.no_fnmatch_line("*passed*")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the collection error still fails the run


def test_list_stages_with_a_collection_error_stops_like_pytest(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(**BROKEN_PROJECT)
    result = pytester.runpytest("--list-stages")
    assert not (pytester.path / "ran.txt").exists()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*Interrupted: 1 error during collection*"])
