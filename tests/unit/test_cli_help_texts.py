"""Every option of every subcommand explains itself in ``--help``, the usage line shows what
the options show, and the command's docs page names every option (issue 13, item 9)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from pytest_pipeline import cli

ROOT = Path(__file__).resolve().parents[2]

# The docs page that documents each subcommand's options (in a table row naming the option).
PAGES = {
    "run": "run.md",
    "plan": "plan.md",
    "rerun": "reports.md",
    "status": "reports.md",
    "report": "reports.md",
    "merge": "merge.md",
    "gate": "gate.md",
    "publish": "publish.md",
    "ci-report": "ci.md",
    "init-ci": "ci.md",
    "install-hook": "hooks.md",
    "uninstall-hook": "hooks.md",
}


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser(cli.plugin_manager(load_entry_points=False))
    (action,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


SUBPARSERS = _subparsers()


def _own_actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [action for action in parser._actions if not isinstance(action, argparse._HelpAction)]


def _long(action: argparse.Action) -> str:
    return max(action.option_strings, key=len)


def test_every_documented_command_has_a_page() -> None:
    assert sorted(SUBPARSERS) == sorted(PAGES)


@pytest.mark.parametrize("command", sorted(SUBPARSERS))
def test_every_option_has_a_help_text(command: str) -> None:
    missing = [
        _long(action) if action.option_strings else action.dest
        for action in _own_actions(SUBPARSERS[command])
        if not action.help or action.help == argparse.SUPPRESS
    ]
    assert not missing, f"{command}: no help text for {', '.join(missing)}"


@pytest.mark.parametrize("command", sorted(SUBPARSERS))
def test_the_usage_line_shows_every_option_as_its_help_does(command: str) -> None:
    """A hand-written usage line drifts from the options (publish's said --allow-branch B
    where its options said BRANCH, and left out -h and --config)."""
    parser = SUBPARSERS[command]
    usage = " ".join(parser.format_usage().split())
    help_text = " ".join(parser.format_help().split())
    formatter = parser._get_formatter()
    for action in parser._actions:
        if not action.option_strings:
            continue
        shown = [opt for opt in action.option_strings if re.search(rf"(?:\[| ){re.escape(opt)}\b", usage)]
        assert shown, f"{command}: the usage line leaves out {_long(action)}: {usage}"
        if action.nargs != 0:
            value = formatter._format_args(action, formatter._get_default_metavar_for_optional(action))
            assert f"{shown[0]} {value}" in usage, f"{command}: {shown[0]} without {value} in {usage}"
            assert f"{shown[0]} {value}" in help_text


@pytest.mark.parametrize("command", sorted(SUBPARSERS))
def test_the_commands_docs_page_names_every_option_in_a_table(command: str) -> None:
    page = ROOT / "docs" / PAGES[command]
    rows = [line for line in page.read_text(encoding="utf-8").splitlines() if line.startswith("|")]
    table = "\n".join(rows)
    missing = [
        _long(action)
        for action in _own_actions(SUBPARSERS[command])
        if action.option_strings and not re.search(rf"`[^`]*{re.escape(_long(action))}\b", table)
    ]
    assert not missing, f"{command}: docs/{PAGES[command]} has no table row for {', '.join(missing)}"


def _table(page: str) -> str:
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    return "\n".join(line for line in text.splitlines() if line.startswith("|"))


def test_the_plugins_page_names_every_pytest_option_in_a_table() -> None:
    """``pytest --help``'s "stages (pytest-pipeline)" group, against docs/plugin.md."""
    from pytest_pipeline import plugin

    class Group:
        def __init__(self) -> None:
            self.options: list[str] = []

        def addoption(self, *names: str, **kwargs: object) -> None:
            assert kwargs.get("help"), f"{names[0]} has no help text"
            self.options.append(names[0])

    group = Group()

    class Parser:
        def getgroup(self, *args: object) -> Group:
            return group

    plugin.pytest_addoption(Parser())  # type: ignore[arg-type]
    table = _table("plugin.md")
    missing = [option for option in group.options if f"`{option}" not in table]
    assert group.options
    assert not missing, f"docs/plugin.md has no table row for {', '.join(missing)}"
