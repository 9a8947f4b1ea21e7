"""``pytest-pipeline``: subcommands, one user-facing error type, one exit code."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

import pluggy

from pytest_pipeline import __version__, cli_hooks, entry_points
from pytest_pipeline.errors import PipelineError
from pytest_pipeline.exitcodes import ExitCode

ENTRY_POINT_GROUP = "pytest_pipeline"


def plugin_manager(*, load_entry_points: bool = True) -> pluggy.PluginManager:
    """The command line's plugin manager with the built-in commands and CI providers registered."""
    from pytest_pipeline import commands

    pm = pluggy.PluginManager(cli_hooks.PROJECT)
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
    parser = argparse.ArgumentParser(
        prog="pytest-pipeline",
        description="Run a project's test matrix in stages and decide whether a release may go out.",
        epilog="Exit codes: 0 gate open, 1 tests failed, 2 interrupted, 3 incomplete (could not run or "
        "read), 4 usage error, 5 no tests in a required stage, 6 publish refused.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    pm.hook.pytest_pipeline_add_commands(subparsers=subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
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
