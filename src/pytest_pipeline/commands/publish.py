"""``pytest-pipeline publish -- CMD ...``: run CMD only for an open gate and the tested artifacts."""

from __future__ import annotations

import argparse

from pytest_pipeline.cli_hooks import hookimpl


@hookimpl
def pytest_pipeline_add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "publish",
        help="run a publish command only if the gate is open for this commit and these artifacts",
        description="Run CMD (e.g. `twine upload dist/*`) only when gate.json says open, its commit is HEAD, "
        "the tree is clean, every package CMD publishes has the tested sha256, and the branch and event "
        "may publish. Otherwise print why and exit 6 without starting CMD. When CMD runs, its exit code "
        "is the result.",
    )
    parser.add_argument("--gate", metavar="FILE", help="the gate file (default: <reports-dir>/gate.json)")
    parser.add_argument("--config", metavar="PYPROJECT", help="the pyproject.toml to read (default: nearest)")
    parser.add_argument(
        "--artifact",
        action="append",
        default=[],
        metavar="FILE",
        help="a file CMD publishes that is not named on its command line (repeatable)",
    )
    parser.add_argument(
        "--allow-branch",
        action="append",
        default=[],
        metavar="BRANCH",
        help="also allow this branch glob (refs/tags/v* for tags; repeatable), added to "
        "publish-branches of [tool.pytest-pipeline.gate], else to the default branch",
    )
    parser.add_argument(
        "--allow-pull-request",
        action="store_true",
        help="allow publishing from a pull-request build (overrides allow-pull-request-publish = false)",
    )
    parser.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        metavar="-- CMD",
        help="the publish command and its arguments, after --",
    )
    parser.usage = _usage(parser)
    parser.set_defaults(handler=run_publish)


def _usage(parser: argparse.ArgumentParser) -> str:
    """argparse's own usage line, ending as people type it: it shows the command (a
    REMAINDER argument) as a bare ``...``."""
    usage = parser.format_usage().removeprefix("usage: ").rstrip()
    return usage.removesuffix("...").rstrip() + " -- CMD ..."


def run_publish(args: argparse.Namespace) -> int:
    from pytest_pipeline.gate.command import publish_command

    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    return publish_command(args, command)
