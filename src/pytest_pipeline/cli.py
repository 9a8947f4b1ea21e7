"""``pytest-pipeline``: subcommands, one user-facing error type, one exit code.

Imports stay inside the functions: ``--version`` is answered before anything else loads
(see :func:`asks_for_version`).
"""

from __future__ import annotations

import sys

from pytest_pipeline import __version__

TYPE_CHECKING = False  # not typing's: importing typing alone costs a third of --version
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    import pluggy

    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

ENTRY_POINT_GROUP = "pytest_pipeline"
PROG = "pytest-pipeline"
_TOP_LEVEL_LONG_OPTIONS = ("--help", "--version")
"""The parser's own options (plugins add subcommands, never options of this level)."""


def plugin_manager(*, load_entry_points: bool = True) -> pluggy.PluginManager:
    """The command line's plugin manager with the built-in commands and CI providers registered."""
    import importlib
    import pkgutil

    from pytest_pipeline import cli_hooks, commands, entry_points

    pm = cli_hooks.PluginManager(cli_hooks.PROJECT)
    pm.add_hookspecs(cli_hooks)
    names = [info.name for info in pkgutil.iter_modules(commands.__path__) if not info.name.startswith("_")]
    rank = {name: index for index, name in enumerate(commands.HELP_ORDER)}
    names.sort(key=lambda name: (rank.get(name, len(rank)), name))
    # pluggy calls the last registered plugin first: register in reverse so that
    # subcommands are added (and listed by --help) in HELP_ORDER.
    for name in reversed(names):
        module = importlib.import_module(f"{commands.__name__}.{name}")
        pm.register(module, name=f"builtin.{name}")
    # CI providers are plugins too; registered before the entry points so that an
    # installed provider is asked first when detecting the CI (pluggy calls LIFO).
    from pytest_pipeline import ci

    for provider_module in ci.BUILTIN_PROVIDER_MODULES:
        pm.register(ci.BuiltinProvider(provider_module), name=f"builtin.{provider_module}")
    # The scan through importlib.metadata costs more than all the rest of the start-up:
    # skipped when no installed distribution declares the group (the usual case).
    if load_entry_points and entry_points.may_declare(ENTRY_POINT_GROUP):
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    return pm


def build_parser(pm: pluggy.PluginManager) -> argparse.ArgumentParser:
    parser, subparsers = _top_level_parser()
    pm.hook.pytest_pipeline_add_commands(subparsers=subparsers)
    return parser


def _top_level_parser() -> tuple[argparse.ArgumentParser, Subparsers]:
    """The parser without its subcommands, and where they go."""
    import argparse

    from pytest_pipeline.exitcodes import ExitCode

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run a project's test matrix in stages and decide whether a release may go out.",
        epilog="Exit codes: " + ", ".join(f"{code.value} {code.meaning}" for code in ExitCode) + ".",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser, subparsers


def _one_command_parser(command: str) -> argparse.ArgumentParser | None:
    """The parser with only the built-in ``command`` in it, when that is the parser the
    plugin manager would build for its arguments: no installed plugin may add commands,
    and the command asks no hook (:data:`~pytest_pipeline.commands.WITHOUT_HOOKS`).
    Else None. Its module's hook implementation is called as the plugin manager would."""
    import importlib

    from pytest_pipeline import commands, entry_points

    module = commands.WITHOUT_HOOKS.get(command)
    if module is None or entry_points.may_declare(ENTRY_POINT_GROUP):
        return None
    parser, subparsers = _top_level_parser()
    importlib.import_module(f"{commands.__name__}.{module}").pytest_pipeline_add_commands(
        subparsers=subparsers
    )
    return parser


def asks_for_version(argv: Sequence[str]) -> bool:
    """Whether the full parser would print the version before anything else: argparse
    acts on this level's options left to right until the subcommand, so the answer is
    ``--version`` (or a prefix it accepts, ``--vers``) reached before ``-h``/``--help``,
    the subcommand or ``--``; unknown options on the way are passed over, as it does
    (their error would come later). When unsure (``-5``), no: the parser decides.
    Checked against the parser itself in the tests.
    """
    for arg in argv:
        if arg == "--" or not arg.startswith("-") or arg == "-" or " " in arg:
            return False  # the subcommand (or a positional) takes the rest
        if arg[1:2].isdigit() or arg[1:2] == ".":
            return False  # maybe a negative number (a positional): Python versions differ
        if not arg.startswith("--"):
            if arg.startswith("-h"):
                return False  # help, or an error about -h's argument
            continue  # an unknown short option
        if "=" in arg:
            if any(option.startswith(arg.split("=", 1)[0]) for option in _TOP_LEVEL_LONG_OPTIONS):
                return False  # "--version=x": argparse's error about the value
            continue
        known = [option for option in _TOP_LEVEL_LONG_OPTIONS if option.startswith(arg)]
        if known:
            return known == ["--version"]
    return False


def _version_fits(text: str) -> bool:
    """argparse wraps the version to the terminal's width less 2 columns."""
    return len(text) <= terminal_columns() - 2


def terminal_columns() -> int:
    """``shutil.get_terminal_size().columns`` (what argparse asks), without importing
    shutil, and re with it: ``COLUMNS``, else stdout's terminal, else 80."""
    import os

    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    version = f"{PROG} {__version__}"
    if asks_for_version(args) and _version_fits(version):
        # What the parser would print, without building it: the plugin manager, the
        # commands and their parsers are most of the start-up, and the version needs none.
        print(version)
        return 0
    return _main(args)


def console_main() -> int:
    """The ``pytest-pipeline`` program (its console script, ``python -m pytest_pipeline``):
    :func:`main`, and then the process exits."""
    code = main()
    # At exit the interpreter's garbage collections walk every object the imports made
    # (modules, classes, functions; most of a short command's exit time) only to free
    # memory the operating system takes back anyway: frozen objects are left out.
    # Here, not in main(): a test calls main() in a process that goes on.
    import gc

    gc.freeze()
    return code


def _main(argv: list[str]) -> int:
    from pytest_pipeline.errors import PipelineError
    from pytest_pipeline.exitcodes import ExitCode

    try:
        pm: pluggy.PluginManager | None = None
        parser = _one_command_parser(argv[0]) if argv else None
        if parser is None:
            pm = plugin_manager()
            parser = build_parser(pm)
        args = parser.parse_args(argv)
        handler = getattr(args, "handler", None)
        if handler is None:
            parser.print_help(sys.stderr)
            return ExitCode.USAGE_ERROR
        args.plugin_manager = pm
        return int(handler(args))
    except PipelineError as exc:
        print(f"pytest-pipeline: error: {exc.message}", file=sys.stderr)
        return int(exc.code)
    except OSError as exc:
        # A full disk is no bug: one line, and "incomplete" (what was to be written is not).
        from pytest_pipeline.fileio import describe_disk_full, disk_full

        full = disk_full(exc)
        if full is None:
            raise
        where = f" writing {full.filename}" if full.filename else ""
        print(f"pytest-pipeline: error: {describe_disk_full(full)}{where}; free some space", file=sys.stderr)
        return int(ExitCode.INCOMPLETE)
    except KeyboardInterrupt:
        print("pytest-pipeline: interrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except SystemExit as exc:
        # argparse exits with 2 on a usage error; our usage-error code is 4.
        if exc.code == 2:
            return int(ExitCode.USAGE_ERROR)
        return exc.code if isinstance(exc.code, int) else int(ExitCode.USAGE_ERROR)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
