"""A built-in command that asks no hook gets a parser of its own when no installed plugin
may add commands: the same parser the plugin manager builds, without loading the rest."""

from __future__ import annotations

import argparse
import ast
import inspect
import subprocess
import sys

import pytest

from pytest_pipeline import cli, commands, entry_points

ONE_COMMAND = sorted(commands.WITHOUT_HOOKS)


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    (action,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found: argparse.ArgumentParser = action.choices[command]
    return found


@pytest.fixture
def no_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(entry_points, "may_declare", lambda group: False)


@pytest.mark.usefixtures("no_plugins")
@pytest.mark.parametrize("command", ONE_COMMAND)
def test_its_parser_is_the_full_parser_s(command: str) -> None:
    alone = cli._one_command_parser(command)
    assert alone is not None
    full = cli.build_parser(cli.plugin_manager(load_entry_points=False))
    mine, theirs = _subparser(alone, command), _subparser(full, command)
    assert mine.format_help() == theirs.format_help()
    assert mine.get_default("handler") is theirs.get_default("handler")


@pytest.mark.parametrize("command", ONE_COMMAND)
def test_its_module_never_asks_the_plugin_manager(command: str) -> None:
    module = __import__(f"pytest_pipeline.commands.{commands.WITHOUT_HOOKS[command]}", fromlist=["_"])
    tree = ast.parse(inspect.getsource(module))
    assert "plugin_manager" not in {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}


@pytest.mark.usefixtures("no_plugins")
@pytest.mark.parametrize("command", ["run", "plan", "ci-report", "no-such-command", "--help"])
def test_other_arguments_get_the_full_parser(command: str) -> None:
    assert cli._one_command_parser(command) is None


def test_an_installed_plugin_gets_the_full_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    # A plugin may add commands, or a command of the same name: only pluggy can tell.
    monkeypatch.setattr(entry_points, "may_declare", lambda group: True)
    assert cli._one_command_parser("merge") is None


def probe(code: str, *args: str) -> list[str]:
    """The lines ``python -c code ARGS`` prints, in a process of its own (a fresh
    ``sys.modules``)."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return done.stdout.splitlines()


def test_merge_loads_no_other_command() -> None:
    lines = probe(
        "import sys\n"
        "from pytest_pipeline.cli import main\n"
        "main(['merge', '--help'])\n"
        "print(repr(sorted(name for name in sys.modules if name.startswith('pytest_pipeline.commands.'))))\n"
    )
    assert any("usage: pytest-pipeline merge" in line for line in lines)
    assert lines[-1] == "['pytest_pipeline.commands.merge']"


def test_the_program_exits_with_main_s_code_and_its_objects_frozen() -> None:
    # main() leaves the garbage collector alone (tests call it in a process that goes
    # on); the program, about to exit, freezes what exists so exit does not walk it.
    lines = probe(
        "import gc, sys\n"
        "from pytest_pipeline import cli\n"
        "in_main = cli.main(['merge']) , gc.get_freeze_count()\n"
        "code = cli.console_main()\n"
        "print(repr([in_main, code, gc.get_freeze_count() > 0]))\n",
        "merge",
    )
    assert ast.literal_eval(lines[-1]) == [(4, 0), 4, True]


def test_a_command_built_alone_imports_no_pluggy() -> None:
    # Its hook implementation is marked with cli_marks.built_in_hook, not pluggy's marker:
    # importing pluggy (and inspect with it) was a tenth of a short merge's start-up.
    lines = probe(
        "import sys\n"
        "from pytest_pipeline.cli import main\n"
        "main(['merge', '--help'])\n"
        "print(repr('pluggy' in sys.modules))\n"
    )
    assert lines[-1] == "False"


def test_the_plugin_manager_takes_a_built_in_hook_as_pluggy_s_hookimpl() -> None:
    from types import ModuleType

    from pytest_pipeline import cli_hooks, cli_marks

    module = ModuleType("a_command")
    module.pytest_pipeline_add_commands = cli_marks.built_in_hook(lambda subparsers: None)  # type: ignore[attr-defined]
    plain = ModuleType("a_plain_module")
    plain.pytest_pipeline_add_commands = lambda subparsers: None  # type: ignore[attr-defined]
    pm = cli_hooks.PluginManager(cli_hooks.PROJECT)
    pm.add_hookspecs(cli_hooks)
    pm.register(module)
    pm.register(plain)
    (impl,) = pm.hook.pytest_pipeline_add_commands.get_hookimpls()
    assert impl.plugin is module
    assert (impl.tryfirst, impl.trylast, impl.wrapper, impl.hookwrapper) == (False, False, False, False)
