"""``pytest-pipeline publish -- CMD ...``: run CMD only for an open gate and the tested artifacts.

The command's flow: read gate.json, see what CMD publishes, gather the facts of this
checkout and CI run, let the pure guard (:func:`pytest_pipeline.gate.publish.check`)
refuse or hand over to CMD.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pytest_pipeline.cli_marks import built_in_hook


@built_in_hook
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
    from pytest_pipeline import config as config_mod
    from pytest_pipeline.errors import PipelineError
    from pytest_pipeline.fileio import relative_to_cwd
    from pytest_pipeline.gate import gatefile, policy, provenance, publish
    from pytest_pipeline.runner.outputs import locate

    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise PipelineError("publish: give the command to run after --, e.g. -- twine upload dist/*")
    config = config_mod.load_option(args.config)
    gate_policy = policy.from_config(config)
    reports = relative_to_cwd(locate(config))
    gate_path = Path(args.gate) if args.gate else reports / gatefile.GATE_FILE_NAME
    try:
        record = gatefile.read(gate_path)
    except gatefile.GateFileError as exc:
        return _refuse([f"{exc}; run `pytest-pipeline gate` first (or pass --gate FILE)"])
    seen = publish.publishable_files(command, args.artifact, (a.name for a in record.artifacts))
    # Not source: what the gate read and wrote, by name. Not the gate file's whole folder:
    # at the repository root that would be every untracked file.
    not_source = [str(reports), str(gate_path), *record.output_paths, *record.input_paths]
    # gate.json names what it read and wrote, and it is only a file: never let it exempt
    # a folder of source (a forged `inputs.paths = ["src"]`), only untracked things.
    not_source = [path for path in not_source if not provenance.holds_tracked_files(Path.cwd(), path)]
    facts = publish.gather(Path.cwd(), os.environ, seen.files, not_source, hidden=seen.hidden)
    rules = publish.PublishRules(
        branches=(*(gate_policy.publish_branches or facts.default_branches), *args.allow_branch),
        allow_pull_request=gate_policy.allow_pull_request_publish or args.allow_pull_request,
    )
    refusals = publish.check(record, facts, rules)
    if refusals:
        return _refuse(refusals)
    names = ", ".join(Path(path).name for path, _ in facts.files)
    print(
        f"pytest-pipeline publish: gate open for {record.commit and record.commit[:12]}, verified {names}; "
        f"running: {' '.join(command)}",
        file=sys.stderr,
    )
    return publish.run(command)


def _refuse(refusals: list[str]) -> int:
    from pytest_pipeline.exitcodes import ExitCode

    for refusal in refusals:
        print(f"pytest-pipeline publish: refused: {refusal}", file=sys.stderr)
    return int(ExitCode.PUBLISH_REFUSED)
