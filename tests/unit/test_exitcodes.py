from pytest_pipeline.exitcodes import ExitCode, worst


def test_codes_match_pytest_where_meaning_is_shared() -> None:
    import pytest

    assert ExitCode.OK == pytest.ExitCode.OK
    assert ExitCode.TESTS_FAILED == pytest.ExitCode.TESTS_FAILED
    assert ExitCode.INTERRUPTED == pytest.ExitCode.INTERRUPTED
    assert ExitCode.USAGE_ERROR == pytest.ExitCode.USAGE_ERROR
    assert ExitCode.NO_TESTS == pytest.ExitCode.NO_TESTS_COLLECTED


def test_worst_follows_documented_precedence() -> None:
    assert worst([]) is ExitCode.OK
    assert worst([ExitCode.NO_TESTS, ExitCode.TESTS_FAILED]) is ExitCode.TESTS_FAILED
    assert worst([ExitCode.TESTS_FAILED, ExitCode.INCOMPLETE]) is ExitCode.INCOMPLETE
    assert worst([ExitCode.INCOMPLETE, ExitCode.INTERRUPTED]) is ExitCode.INTERRUPTED


def test_every_code_has_a_short_meaning() -> None:
    assert all(code.meaning and code.meaning == code.meaning.strip() for code in ExitCode)
    assert len({code.meaning for code in ExitCode}) == len(ExitCode)


def test_the_help_epilog_lists_every_code_with_its_meaning() -> None:
    from pytest_pipeline import cli

    epilog = cli.build_parser(cli.plugin_manager(load_entry_points=False)).epilog
    assert epilog == "Exit codes: " + ", ".join(f"{code.value} {code.meaning}" for code in ExitCode) + "."
