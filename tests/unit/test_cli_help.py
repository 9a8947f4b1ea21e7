"""`pytest-pipeline --help` lists the everyday commands first, in HELP_ORDER."""

from __future__ import annotations

import argparse

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
