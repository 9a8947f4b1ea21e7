"""``pytest-pipeline report --html [FILE]``: one self-contained HTML page for the last run.

Exit codes: 0 the report was written (whatever the gate said: a report is not the gate;
unreadable inputs are listed in the page), 4 no results to report on, or FILE cannot be
written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pytest_pipeline.cli_marks import built_in_hook
from pytest_pipeline.errors import PipelineError
from pytest_pipeline.exitcodes import ExitCode

HTML_NAME = "report.html"


@built_in_hook
def pytest_pipeline_add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write an HTML report of the last run (matrix, verdict, failures, timings)",
        description="Write one self-contained HTML file (no scripts, nothing fetched; readable with "
        "JavaScript off) from the reports folder: the matrix as a grid of interpreters x dependency "
        "sets with a mark per stage, the verdict and its reasons, each failure with its traceback, "
        "flaky, blocked and quarantined tests, the slowest tests and cells, and provenance. "
        "Exit 0 when written, 4 when there is nothing to report on.",
    )
    parser.add_argument(
        "--html",
        nargs="?",
        const="",
        default=None,
        metavar="FILE",
        help=f"write the HTML report to FILE (default: <reports-dir>/{HTML_NAME})",
    )
    parser.add_argument(
        "--reports-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="the folder holding run.json, gate.json and junit.xml (default: [tool.pytest-pipeline] "
        "reports-dir, else pipeline-reports)",
    )
    parser.add_argument("--config", default=None, metavar="PYPROJECT", help="the project's pyproject.toml")
    parser.set_defaults(handler=run)


def write_html(root: Path, output: Path, *, default_stage: str = "unit") -> Path:
    """Read the reports folder ``root`` and write its HTML report to ``output``
    (``run --html`` calls this too)."""
    from pytest_pipeline.report import html, model

    data = model.collect(root, default_stage=default_stage)
    try:
        return html.write(data, output)
    except OSError as exc:
        raise PipelineError(f"cannot write {output}: {exc.strerror or exc}; choose a writable path") from None


def shown(path: Path) -> str:
    from pytest_pipeline.fileio import relative_to_cwd

    return str(relative_to_cwd(path))


def run(args: argparse.Namespace) -> int:
    from pytest_pipeline.config import load_option
    from pytest_pipeline.fileio import relative_to_cwd
    from pytest_pipeline.runner.outputs import locate

    if args.html is None:
        raise PipelineError("report: choose a format: --html [FILE] (the only one so far)")
    config = load_option(args.config)
    root = relative_to_cwd(locate(config, given=args.reports_dir))
    if not root.is_dir():
        raise PipelineError(
            f"reports folder {root} does not exist; run `pytest-pipeline run` first, or pass --reports-dir"
        )
    output = Path(args.html) if args.html else root / HTML_NAME
    if output.is_dir():
        raise PipelineError(f"--html {output} is a folder; give a file name such as {output / HTML_NAME}")
    written = write_html(root, output, default_stage=config.default_stage)
    print(f"report: {shown(written)}")
    return int(ExitCode.OK)
