"""Registered markers, no warnings under -W error, and -p no:pipeline disables it cleanly."""

from __future__ import annotations

import pytest

SUITE = """
import pytest

pytestmark = pytest.mark.filterwarnings("error")

def test_u(): pass

@pytest.mark.stage("integration")
def test_i(): pass

@pytest.mark.smoke
def test_s(): pass
"""


def test_markers_are_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.stage(name): run this test in stage NAME (pytest-pipeline)*",
            "@pytest.mark.unit: run this test in stage unit (pytest-pipeline)",
            "@pytest.mark.integration: run this test in stage integration (pytest-pipeline)",
            "@pytest.mark.smoke: run this test in stage smoke (pytest-pipeline)",
        ]
    )


def test_declared_stages_are_the_markers(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml('[tool.pytest-pipeline]\nstages = ["fast", "slow"]\n')
    pytester.makepyfile(test_m="import pytest\n\n@pytest.mark.slow\ndef test_x(): pass\n")
    pytester.runpytest("--strict-markers").assert_outcomes(passed=1)


def test_a_full_run_adds_no_warning(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("[tool.pytest-pipeline.stage.unit]\nbudget = 0.0\nretries = 1\n")
    pytester.makepyfile(test_all=SUITE)
    result = pytester.runpytest(
        "--strict-markers", "--strict-config", "-W", "error", "--junitxml=j.xml", "-rA"
    )
    assert result.parseoutcomes() == {"passed": 3}
    result.stdout.no_fnmatch_line("*warnings summary*")


def test_p_no_pipeline_disables_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_all=SUITE)
    result = pytester.runpytest("-p", "no:pipeline", "--junitxml=j.xml")
    assert result.parseoutcomes() == {"passed": 3}  # in file order: no stage order, no blocking
    result.stdout.no_fnmatch_line("pipeline:*")
    result.stdout.no_fnmatch_line("*pipeline stages*")
    assert "pytest: unit" not in (pytester.path / "j.xml").read_text()
    # its options and markers are gone with it
    result = pytester.runpytest("-p", "no:pipeline", "--stage=unit")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    # (a subprocess: in-process runs share pytest's cache of known marker names)
    result = pytester.runpytest_subprocess("-p", "no:pipeline", "--strict-markers")
    result.stdout.fnmatch_lines(["*'stage' not found in `markers` configuration option*"])


def test_optional_conftest_hook_survives_without_the_plugin(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        "import pytest\n\n@pytest.hookimpl(optionalhook=True)\n"
        "def pytest_pipeline_item_stage(item, config):\n    return 'smoke'\n"
    )
    pytester.makepyfile(test_x="def test_x(): pass\n")
    pytester.runpytest("-p", "no:pipeline").assert_outcomes(passed=1)
    result = pytester.runpytest("--list-stages")
    result.stdout.fnmatch_lines(["smoke: 1 test"])
