"""``pytest-pipeline ci-report``: the gate's verdict where the CI shows it."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pytest_pipeline.cli_hooks import hookimpl
from pytest_pipeline.exitcodes import ExitCode


@hookimpl
def pytest_pipeline_add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "ci-report",
        help="show the gate's verdict in the CI: annotations, job summary, test results",
        description="Read gate.json and report it to the CI this runs in (GitHub Actions, Azure Pipelines, "
        "GitLab CI, or a provider plugin): failed tests as annotations, a Markdown summary on the job's "
        "summary page, the merged JUnit file in the test view. Outside CI the summary is printed. "
        "It reports and exits 0; the gate step is the one that passes or fails the job.",
    )
    parser.add_argument("--gate", metavar="FILE", help="the gate file (default: <reports-dir>/gate.json)")
    parser.add_argument(
        "--junit", metavar="FILE", type=Path, help="the merged JUnit file for the CI's test view"
    )
    parser.add_argument(
        "--provider", metavar="NAME", help="the CI provider (default: detected from the environment)"
    )
    parser.add_argument("--markdown", metavar="FILE", type=Path, help="also write the Markdown summary here")
    parser.add_argument("--config", metavar="PYPROJECT", help="the pyproject.toml to read (default: nearest)")
    parser.set_defaults(handler=run_ci_report)


def run_ci_report(args: argparse.Namespace) -> int:
    from pytest_pipeline import ci, config, fileio
    from pytest_pipeline.ci.provider import Provider
    from pytest_pipeline.ci.report import read_gate, report_to_ci
    from pytest_pipeline.ci.summary import build_markdown, summary_from_gate
    from pytest_pipeline.runner.outputs import locate

    # without --gate: the folder the configuration names, not one relative to where CI runs this
    gate_path = Path(args.gate) if args.gate else locate(config.load_option(args.config)) / "gate.json"
    record = read_gate(gate_path)
    summary = summary_from_gate(record)
    provider: Provider | None
    if args.provider:
        provider = ci.get(args.plugin_manager, args.provider)
    else:
        provider = ci.detect(args.plugin_manager, os.environ)
    if args.markdown:
        fileio.write_text_atomic(args.markdown, build_markdown(summary, record))
    junit = args.junit
    if junit is not None and not junit.is_file():
        # The merge step may have failed; the summary is still worth showing.
        print(
            f"pytest-pipeline: ci-report: {junit} does not exist; test results not published", file=sys.stderr
        )
        junit = None
    report_to_ci(provider, summary, record, junit=junit)
    return int(ExitCode.OK)
