"""``pytest-pipeline gate``: results + policy -> verdict, gate.json, exit code."""

from __future__ import annotations

import argparse
from typing import Any

from pytest_pipeline.cli_hooks import hookimpl

_LIST_HELP = "comma-separated or repeated"


def _split(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def _bool_or_list(values: list[str] | None) -> bool | list[str] | None:
    items = _split(values)
    if items is None:
        return None
    if len(items) == 1 and items[0].lower() in ("true", "all", "yes"):
        return True
    if len(items) == 1 and items[0].lower() in ("false", "none", "no"):
        return False
    return items


def add_policy_options(parser: argparse.ArgumentParser) -> None:
    # publish-branches and allow-pull-request-publish have no option here: publish decides
    # them when it runs, and its own --allow-branch / --allow-pull-request override them.
    group = parser.add_argument_group("policy (overrides [tool.pytest-pipeline.gate])")
    group.add_argument(
        "--required-stages", action="append", metavar="STAGES", help=f"stages that must pass ({_LIST_HELP})"
    )
    group.add_argument(
        "--required-cells", action="append", metavar="GLOBS", help=f"cells that must pass ({_LIST_HELP})"
    )
    group.add_argument(
        "--allow-empty-stages",
        action="append",
        metavar="STAGES",
        help="stages allowed to run no tests: a list, 'true' (all) or 'false' (none)",
    )
    group.add_argument(
        "--flaky", choices=("allow", "fail"), help="whether a pass after failed attempts closes the gate"
    )
    group.add_argument(
        "--missing-interpreters",
        choices=("auto", "allow", "fail"),
        help="a cell whose interpreter is missing: auto closes the gate (3) when CI is set and is a "
        "note locally; allow: a note; fail: closes the gate",
    )
    group.add_argument("--quarantine", metavar="FILE", help="quarantine file (TOML)")
    group.add_argument("--no-quarantine", action="store_true", help="ignore the configured quarantine file")
    group.add_argument("--baseline", metavar="FILE", help="an earlier gate.json to compare with")
    group.add_argument(
        "--mode",
        choices=("all", "regressions-only"),
        help="all: every failure closes the gate; regressions-only: only failures not in the baseline "
        "(needs --baseline or baseline)",
    )


def policy_overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for key, value in (
        ("required-stages", _split(args.required_stages)),
        ("required-cells", _split(args.required_cells)),
        ("allow-empty-stages", _bool_or_list(args.allow_empty_stages)),
        ("flaky", args.flaky),
        ("missing-interpreters", args.missing_interpreters),
        ("baseline", args.baseline),
        ("mode", args.mode),
    ):
        if value is not None:
            overrides[key] = value
    if args.no_quarantine:
        overrides["quarantine"] = None
    elif args.quarantine is not None:
        overrides["quarantine"] = args.quarantine
    return overrides


@hookimpl
def pytest_pipeline_add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "gate",
        help="decide from test results whether a release may go out (writes gate.json)",
        description="Read results (JUnit files, folders of them, or run.json records), apply the policy of "
        "[tool.pytest-pipeline.gate], write gate.json and exit 0 only when every required stage in every "
        "required cell ran and passed.",
    )
    parser.add_argument(
        "inputs",
        nargs="*",
        metavar="INPUT",
        help="JUnit files, folders or run.json files (default: the reports folder)",
    )
    parser.add_argument("--config", metavar="PYPROJECT", help="the pyproject.toml to read (default: nearest)")
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="where to write gate.json (default: <reports-dir>/gate.json)"
    )
    parser.add_argument(
        "--artifact", action="append", default=[], metavar="FILE", help="the tested package file (repeatable)"
    )
    parser.add_argument(
        "--attestation", metavar="FILE", help="also write an in-toto test-result Statement here"
    )
    parser.add_argument(
        "--expect-cells",
        action="append",
        metavar="NAMES",
        help=f"cells that must have results ({_LIST_HELP})",
    )
    parser.add_argument(
        "--expect-cells-from", metavar="PLAN", help="cells from `pytest-pipeline plan --format json` output"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the verdict line")
    add_policy_options(parser)
    parser.set_defaults(handler=run_gate)


def run_gate(args: argparse.Namespace) -> int:
    from pytest_pipeline.gate.command import gate_command

    return gate_command(args, policy_overrides(args), _split(args.expect_cells) or [])
