"""`pytest-pipeline --help` lists the everyday commands first, in HELP_ORDER."""

from __future__ import annotations

import argparse

import pytest

from pytest_pipeline import cli


def _subcommands(parser: argparse.ArgumentParser) -> list[str]:
    (action,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(action.choices)


def test_subcommands_are_listed_in_help_order() -> None:
    names = _subcommands(cli.build_parser(cli.plugin_manager(load_entry_points=False)))
    assert names[:5] == ["run", "plan", "rerun", "status", "report"]
    assert names.index("merge") < names.index("gate") < names.index("publish") < names.index("init-ci")


def test_no_command_prints_help_and_exits_4(capsys: object) -> None:
    assert cli.main([]) == 4


def _help(command: str) -> str:
    parser = cli.build_parser(cli.plugin_manager(load_entry_points=False))
    (action,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return str(action.choices[command].format_help())


def test_publish_time_policy_is_overridden_on_publish_and_not_on_the_gate() -> None:
    """publish reads publish-branches and allow-pull-request-publish when it runs: the gate
    has no option for them (it could only record it), publish shows both of its own."""
    gate_help = _help("gate")
    assert "--publish-branches" not in gate_help
    assert "--allow-pull-request" not in gate_help
    publish_help = _help("publish")
    assert "--allow-branch" in publish_help
    assert "--allow-pull-request" in publish_help


def test_a_full_disk_is_one_line_and_exit_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import errno

    from pytest_pipeline.commands import gate

    def full(args: argparse.Namespace) -> int:
        raise OSError(errno.ENOSPC, "No space left on device", "out/gate.json")

    monkeypatch.setattr(gate, "run_gate", full)
    assert cli.main(["gate"]) == 3
    assert capsys.readouterr().err == (
        "pytest-pipeline: error: No space left on device (errno 28, ENOSPC) writing out/gate.json; "
        "free some space\n"
    )


def test_other_os_errors_keep_their_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_pipeline.commands import gate

    def bug(args: argparse.Namespace) -> int:
        raise PermissionError("a bug")

    monkeypatch.setattr(gate, "run_gate", bug)
    with pytest.raises(PermissionError):
        cli.main(["gate"])
