"""``pytest-pipeline gate``: results + policy -> verdict, gate.json, exit code.

The command's flow: its options become a typed :class:`~pytest_pipeline.gate.evaluate.Request`
(the inputs, the policy with the overrides, the expected cells, the tested artifacts,
what is output rather than source), and :func:`~pytest_pipeline.gate.evaluate.evaluate`
reads, decides and writes. Nothing below this module sees the command line.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_pipeline.cli_marks import built_in_hook

if TYPE_CHECKING:
    from pytest_pipeline.gate.policy import PolicyOverrides
    from pytest_pipeline.run_record import Artifact

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
    group.add_argument(
        "--reused-results",
        choices=("accept", "refuse"),
        help="whether results a run reused from an earlier run with the same inputs count",
    )


def policy_overrides(args: argparse.Namespace) -> PolicyOverrides:
    """The policy options given, by their ``[tool.pytest-pipeline.gate]`` key."""
    overrides: PolicyOverrides = {}
    if (stages := _split(args.required_stages)) is not None:
        overrides["required-stages"] = stages
    if (cells := _split(args.required_cells)) is not None:
        overrides["required-cells"] = cells
    if (empty := _bool_or_list(args.allow_empty_stages)) is not None:
        overrides["allow-empty-stages"] = empty
    if args.flaky is not None:
        overrides["flaky"] = args.flaky
    if args.missing_interpreters is not None:
        overrides["missing-interpreters"] = args.missing_interpreters
    if args.baseline is not None:
        overrides["baseline"] = args.baseline
    if args.mode is not None:
        overrides["mode"] = args.mode
    if args.reused_results is not None:
        overrides["reused-results"] = args.reused_results
    if args.no_quarantine:
        overrides["quarantine"] = None
    elif args.quarantine is not None:
        overrides["quarantine"] = args.quarantine
    return overrides


@built_in_hook
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
    from pytest_pipeline import config as config_mod
    from pytest_pipeline.fileio import relative_to_cwd
    from pytest_pipeline.gate import evaluate, gatefile, inputs, policy
    from pytest_pipeline.gate.loading import load_policy_files
    from pytest_pipeline.runner.outputs import locate

    inputs.check_named(args.inputs)
    config = config_mod.load_option(args.config)
    gate_policy = policy.from_config(config, policy_overrides(args))
    files = load_policy_files(gate_policy)  # a broken quarantine file is refused first
    expected = _split(args.expect_cells) or []
    if args.expect_cells_from:
        expected += inputs.expected_cells_from(Path(args.expect_cells_from))
    reports = relative_to_cwd(locate(config))
    paths = args.inputs or [str(reports)]
    output = Path(args.output) if args.output else reports / gatefile.GATE_FILE_NAME
    artifacts = tested_artifacts(args.artifact)
    # What the gate reads and writes is not source: a fan-in job downloads the cells'
    # reports, the plan and the packages into its checkout, and that tree is still clean.
    read = [*_expand(paths), *[p for p in (args.expect_cells_from, gate_policy.baseline_path) if p]]
    request = evaluate.Request(
        inputs=tuple(paths),
        output=output,
        policy=gate_policy,
        files=files,
        default_stage=config.default_stage,
        cwd=Path.cwd(),
        environ=os.environ,
        expected_cells=tuple(expected),
        given_artifacts=tuple(artifacts),
        not_source=(str(reports), *(str(Path(a).parent) for a in args.artifact), *read),
        input_paths=tuple(read),
        attestation=Path(args.attestation) if args.attestation else None,
        config_file=config.source,
    )
    evaluation = evaluate.evaluate(request)
    evaluate.show(evaluation, sys.stdout, quiet=args.quiet)
    return int(evaluation.code)


def tested_artifacts(files: list[str]) -> list[Artifact]:
    """Each ``--artifact`` by name and sha256; the name must be the release the package's
    own metadata says, or the gate would vouch for the tested bytes as another version."""
    from pytest_pipeline.errors import PipelineError
    from pytest_pipeline.fileio import sha256_file
    from pytest_pipeline.gate.releases import mislabelled
    from pytest_pipeline.run_record import Artifact

    artifacts = []
    for item in files:
        path = Path(item)
        if not path.is_file():
            raise PipelineError(f"--artifact {item}: no such file; build the package first or fix the path")
        problem = mislabelled(path)
        if problem is not None:
            raise PipelineError(f"--artifact {problem}")
        artifacts.append(Artifact(name=path.name, sha256=sha256_file(path)))
    return artifacts


def _expand(paths: list[str]) -> list[str]:
    import glob

    found: list[str] = []
    for text in paths:
        found.extend(glob.glob(text) if glob.has_magic(text) and not Path(text).exists() else [text])
    return found
