"""``pytest-pipeline init-ci PROVIDER``: write a ready CI workflow for the test matrix."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pytest_pipeline.cli_hooks import hookimpl
from pytest_pipeline.exitcodes import ExitCode

NEXT_STEPS = {
    "github": "make the `gate` job a required status check (branch protection), and for publishing add an "
    "environment `pypi` with the secret PYPI_API_TOKEN",
    "azure": "create the pipeline from this file, and for publishing add the secret variable PYPI_API_TOKEN",
    "gitlab": "for publishing add the masked CI/CD variable PYPI_API_TOKEN",
}


@hookimpl
def pytest_pipeline_add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "init-ci",
        help="write a CI workflow: a job per cell, one gate, publish after merge",
        description="Write a ready workflow for GitHub Actions (github), Azure Pipelines (azure) or "
        "GitLab CI (gitlab): the package is built once, `pytest-pipeline plan` fans the matrix out to one "
        "job per cell, one gate job fans in, and a publish job runs only after a push to the default "
        "branch and only through `pytest-pipeline publish`.",
    )
    parser.add_argument(
        "provider", metavar="PROVIDER", help="github, azure, gitlab (or an installed plugin's)"
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="where to write it ('-' for standard output; default: the CI's usual path at the "
        "repository root)",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing file")
    parser.add_argument(
        "--python",
        default="3.12",
        metavar="VERSION",
        help="interpreter for pytest-pipeline itself (default 3.12)",
    )
    parser.add_argument(
        "--default-branch",
        default="main",
        metavar="BRANCH",
        help="branch that publishes where the CI cannot tell (Azure; default main)",
    )
    parser.add_argument("--no-publish", action="store_true", help="leave out the publish job")
    parser.set_defaults(handler=run_init_ci)


def run_init_ci(args: argparse.Namespace) -> int:
    from pytest_pipeline import ci, fileio
    from pytest_pipeline.ci.provider import WorkflowOptions
    from pytest_pipeline.errors import PipelineError

    provider = ci.get(args.plugin_manager, args.provider)
    options = WorkflowOptions(
        python=args.python, default_branch=args.default_branch, publish=not args.no_publish
    )
    text = provider.workflow(options)
    if args.output == "-":
        sys.stdout.write(text)
        return int(ExitCode.OK)
    target = Path(args.output) if args.output else repository_root() / provider.workflow_path
    if target.exists() and not args.force:
        raise PipelineError(f"{target} already exists; pass --force to replace it, or --output another path")
    if target.is_dir():
        raise PipelineError(f"{target} is a folder; pass --output with a file name")
    fileio.write_text_atomic(target, text)
    print(f"wrote {target} ({provider.title})")
    if args.provider in NEXT_STEPS:
        print(f"next: {NEXT_STEPS[args.provider]}")
    return int(ExitCode.OK)


def repository_root() -> Path:
    """The git work tree's top folder (CI files live there), else the current folder."""
    from pytest_pipeline.git import git_output

    out = (git_output(["rev-parse", "--show-toplevel"], Path.cwd()) or "").strip()
    return Path(out) if out else Path.cwd()
