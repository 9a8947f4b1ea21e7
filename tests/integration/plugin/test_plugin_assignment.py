"""Every test gets exactly one stage: hook > marker (closest) > path rule > directory > default."""

from __future__ import annotations

import pytest

STAGES_TOML = """
[tool.pytest-pipeline]
stages = ["unit", "integration", "smoke"]
"""


def write(pytester: pytest.Pytester, relpath: str, text: str) -> None:
    path = pytester.path / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def stages_of(pytester: pytest.Pytester, *args: str) -> dict[str, str]:
    reprec = pytester.inline_run(*args)
    return {
        report.nodeid.split("::", 1)[-1]: report.pipeline_stage
        for report in reprec.getreports("pytest_runtest_logreport")
        if report.when == "call"
    }


def test_markers_closest_wins(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(STAGES_TOML)
    pytester.makepyfile(
        test_marks="""
        import pytest

        pytestmark = pytest.mark.integration

        def test_module_level(): pass

        @pytest.mark.smoke
        def test_function_level(): pass

        @pytest.mark.stage("unit")
        def test_stage_marker(): pass

        @pytest.mark.smoke
        class TestClass:
            def test_class_level(self): pass

            @pytest.mark.unit
            def test_function_beats_class(self): pass

        class Base:
            pytestmark = [pytest.mark.smoke]

        @pytest.mark.unit
        class TestDerived(Base):
            def test_derived_class_beats_base(self): pass

        @pytest.mark.parametrize("x", [1, pytest.param(2, marks=pytest.mark.smoke)])
        @pytest.mark.unit
        def test_param(x): pass
        """
    )
    assert stages_of(pytester) == {
        "test_module_level": "integration",
        "test_function_level": "smoke",
        "test_stage_marker": "unit",
        "TestClass::test_class_level": "smoke",
        "TestClass::test_function_beats_class": "unit",
        "TestDerived::test_derived_class_beats_base": "unit",
        "test_param[1]": "unit",
        "test_param[2]": "smoke",
    }


def test_path_rules_directories_and_default(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        STAGES_TOML
        + """
default-stage = "integration"
[tool.pytest-pipeline.paths]
"tests/e2e/**" = "smoke"
"""
    )
    write(pytester, "tests/e2e/test_e2e.py", "def test_e2e(): pass\n")
    write(pytester, "tests/unit/sub/test_deep.py", "def test_deep(): pass\n")
    write(
        pytester,
        "tests/other/test_other.py",
        "import pytest\n\ndef test_other(): pass\n\n@pytest.mark.unit\ndef test_marked(): pass\n",
    )
    result = pytester.runpytest("--list-stages", "-v")
    result.stdout.fnmatch_lines(
        [
            "*pipeline: 4 tests staged: unit 2, integration 1, smoke 1 "
            "(stage from marker 1, path 1, directory 1, default 1)",
            "unit: 2 tests",
            "  tests/other/test_other.py::test_marked",
            "  tests/unit/sub/test_deep.py::test_deep",
            "integration: 1 test",
            "  tests/other/test_other.py::test_other",
            "smoke: 1 test",
            "  tests/e2e/test_e2e.py::test_e2e",
        ]
    )
    assert result.ret == 0


def test_stage_directories_off(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(STAGES_TOML + "stage-directories = false\n")
    write(pytester, "smoke/test_s.py", "def test_s(): pass\n")
    assert stages_of(pytester) == {"test_s": "unit"}


def test_hook_decides_first_and_only_below_its_conftest(
    pytester: pytest.Pytester, dist: tuple[str, ...]
) -> None:
    pytester.makepyprojecttoml(STAGES_TOML)
    write(
        pytester,
        "slow/conftest.py",
        "def pytest_pipeline_item_stage(item, config):\n"
        "    return None if item.name.endswith('_undecided') else 'smoke'\n",
    )
    write(
        pytester,
        "slow/test_slow.py",
        "import pytest\n\n@pytest.mark.unit\ndef test_hook_beats_marker(): pass\n\n"
        "@pytest.mark.integration\ndef test_undecided(): pass\n",
    )
    write(pytester, "fast/test_fast.py", "def test_fast(): pass\n")
    assert stages_of(pytester, *dist) == {
        "test_hook_beats_marker": "smoke",
        "test_undecided": "integration",
        "test_fast": "unit",
    }


# A stage error stops pytest before anything runs, in-process and under xdist (which
# goes on after other collection errors: the plugin stops it for its own).
COLLECTION_ERROR_EXIT = pytest.ExitCode.INTERRUPTED


def test_hook_returning_an_unknown_stage_is_a_collection_error(
    pytester: pytest.Pytester, dist: tuple[str, ...]
) -> None:
    pytester.makeconftest("def pytest_pipeline_item_stage(item, config):\n    return 'nightly'\n")
    pytester.makepyfile("def test_a(): pass")
    result = pytester.runpytest(*dist)
    assert result.ret == COLLECTION_ERROR_EXIT
    result.stdout.fnmatch_lines(
        ["test_*.py::test_a: pytest_pipeline_item_stage returned 'nightly', which is not a declared stage*"]
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "@pytest.mark.unit\n@pytest.mark.smoke\ndef test_two(): pass",
            "test_bad.py::test_two: markers give two different stages (smoke, unit) "
            "at the same level; keep one",
        ),
        (
            "@pytest.mark.stage()\ndef test_empty(): pass",
            "test_bad.py::test_empty: @pytest.mark.stage needs exactly one stage name*",
        ),
        (
            "@pytest.mark.stage('nightly')\ndef test_unknown(): pass",
            "test_bad.py::test_unknown: @pytest.mark.stage('nightly') names an unknown stage; use one of*",
        ),
        (
            "pytestmark = [pytest.mark.unit, pytest.mark.integration]\ndef test_x(): pass",
            "test_bad.py: markers give two different stages (unit, integration) at the same level*",
        ),
    ],
)
def test_bad_markers_are_one_line_collection_errors(
    pytester: pytest.Pytester, source: str, message: str
) -> None:
    pytester.makepyfile(test_bad="import pytest\n\n" + source)
    result = pytester.runpytest()
    # a collection error, like a test module that fails to import: nothing runs
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        ["*ERROR collecting test_bad.py*", message, "*Interrupted: 1 error during collection*"]
    )
    result.stdout.no_fnmatch_line("*passed*")


@pytest.mark.parametrize("how", ["flag", "config"])
def test_strict_stages_lists_tests_that_only_got_the_default(
    pytester: pytest.Pytester, how: str, dist: tuple[str, ...]
) -> None:
    pytester.makepyprojecttoml(STAGES_TOML + ("strict-stages = true\n" if how == "config" else ""))
    pytester.makepyfile(
        test_s="import pytest\n\ndef test_loose(): pass\n\n@pytest.mark.unit\ndef test_tagged(): pass\n"
    )
    result = pytester.runpytest(*(["--strict-stages"] if how == "flag" else []), *dist)
    assert result.ret == COLLECTION_ERROR_EXIT
    result.stdout.fnmatch_lines(
        ["strict stages: 1 test got stage 'unit' only from the default: test_s.py::test_loose; give them*"]
    )


def test_strict_stages_passes_when_every_test_is_staged(
    pytester: pytest.Pytester, dist: tuple[str, ...]
) -> None:
    pytester.makepyprojecttoml(STAGES_TOML + "strict-stages = true\n")
    pytester.makepyfile(test_s="import pytest\n\n@pytest.mark.unit\ndef test_tagged(): pass\n")
    pytester.runpytest(*dist).assert_outcomes(passed=1)


def test_header_names_stages_selection_and_config(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(STAGES_TOML)
    pytester.makepyfile(
        test_h="import pytest\n\n@pytest.mark.smoke\ndef test_a(): pass\n\ndef test_b(): pass\n"
    )
    result = pytester.runpytest("--stage", "unit,smoke")
    result.stdout.fnmatch_lines(
        [
            "pipeline: stages unit > integration > smoke; selected: unit, smoke; blocking on; "
            "config: pyproject.toml",
            "*pipeline: 2 tests staged: unit 1, integration 0, smoke 1 (stage from marker 1, default 1)",
        ]
    )
