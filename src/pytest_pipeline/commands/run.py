"""``pytest-pipeline run``: run the project's tox/nox matrix in stages, merge, gate.

Exit code = the gate's code (0 open, 1 tests failed, 2 interrupted, 3 incomplete,
4 usage error, 5 a required stage ran no tests).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pytest_pipeline.cli_hooks import hookimpl
from pytest_pipeline.errors import PipelineError


def parse_parallel(value: str) -> str | int:
    """``-p`` of ``run`` and ``rerun``: ``auto`` or a number of cells >= 1 (else ValueError)."""
    if value == "auto":
        return value
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise ValueError("expected 'auto' or a number of cells >= 1")
    return count


def _parallel(value: str) -> str | int:
    try:
        return parse_parallel(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}, got {value!r}") from None


def _split(values: list[str] | None) -> tuple[str, ...]:
    """``-e py310,py312``: tox's comma lists, but a comma inside parentheses belongs to a
    nox session name (``tests(python='3.10', attrs='23.2')``), as ``plan`` reads it."""
    from pytest_pipeline.matrix.select import split_patterns

    return split_patterns(values or ())


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``run``; ``tox -e matrix -- ...`` accepts the same."""
    parser.add_argument(
        "-p",
        "--parallel",
        type=_parallel,
        default=None,
        metavar="auto|N",
        help="cells testing at once, while a few more create their environments "
        "(default: [tool.pytest-pipeline.run] parallel, else auto = number of CPUs)",
    )
    parser.add_argument(
        "--fail-fast",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="stop at the first failing stage anywhere: start no more cells, cancel the running ones",
    )
    parser.add_argument(
        "-e",
        "--cell",
        action="append",
        metavar="NAME/GLOB",
        help="run only these cells (tox envs / nox sessions; globs and comma lists allowed; repeatable)",
    )
    parser.add_argument(
        "-m", "--label", action="append", metavar="LABEL", help="run cells with this tox label / nox tag"
    )
    parser.add_argument(
        "--tool",
        choices=("auto", "tox", "nox"),
        default=None,
        help="whose matrix to run (default: [tool.pytest-pipeline.run] tool, else auto: tox if "
        "the project has a tox configuration, else nox)",
    )
    parser.add_argument(
        "--backend",
        choices=("auto", "tox"),
        default=None,
        help="auto: each tox cell runs the fastest way proven equal to tox (plan shows which); "
        "tox: every tox cell runs through tox run (default: [tool.pytest-pipeline.run] backend, else auto)",
    )
    parser.add_argument(
        "--installer",
        choices=("auto", "uv", "pip"),
        default=None,
        help="uv or pip for what we install ourselves: a matrix axis's pins on top of a tox cell's "
        "environment, and the wheel's build (uv build; pip: python -m build or pip wheel); tox's runner "
        "or nox makes the environments themselves. auto = uv when found "
        "(default: [tool.pytest-pipeline.run] installer, else auto)",
    )
    parser.add_argument(
        "--timeout",
        default=None,
        metavar="DURATION",
        help="end a cell that runs longer than this (e.g. 10m, 90s; waiting for a test slot does not "
        "count); it is 'timed-out' and the run goes on. 0 or none: no limit "
        "(default: [tool.pytest-pipeline.run] timeout, else none)",
    )
    parser.add_argument(
        "--run-timeout",
        default=None,
        metavar="DURATION",
        help="end the whole run after this long (e.g. 1h): running cells are 'timed-out', the rest "
        "not started. 0 or none: no limit (default: [tool.pytest-pipeline.run] run-timeout, else none)",
    )
    parser.add_argument(
        "--reports-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where run.json, junit.xml, gate.json, dist/ and cells/ go; a folder of its own (the project "
        "folder, or one holding it, is refused) whose previous run's outputs are cleared "
        "(default: [tool.pytest-pipeline] reports-dir, else pipeline-reports)",
    )
    parser.add_argument(
        "--installpkg",
        type=Path,
        default=None,
        metavar="WHEEL",
        help="test this wheel instead of building the project (CI: the exact file you will publish)",
    )
    parser.add_argument(
        "--recreate",
        action="store_true",
        help="rebuild the package (not from the build cache) and recreate every cell's environment "
        "(nox: --reuse-venv=no)",
    )
    parser.add_argument(
        "--html",
        action="store_true",
        help="also write the HTML report, <reports-dir>/report.html (see `pytest-pipeline report`)",
    )
    parser.add_argument(
        "--project", type=Path, default=Path("."), metavar="DIR", help="the project to run (default: .)"
    )
    parser.add_argument(
        "pytest_args",
        nargs="*",
        metavar="-- PYTEST-ARGS",
        help="after --: passed to every cell's pytest (through PYTEST_ADDOPTS), e.g. -- -x -k smoke",
    )


@hookimpl
def pytest_pipeline_add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the tox/nox matrix in stages, in parallel; merge; exit with the gate code",
        description="Run every selected cell of the project's tox environments (or nox sessions) in "
        "stage order, in parallel, each in its own process group with its own log; build the "
        "package once and install that wheel everywhere; merge the JUnit reports and exit with "
        "the gate's code. Reports go to pipeline-reports/ (run.json, junit.xml, gate.json, cells/).",
    )
    add_run_arguments(parser)
    parser.set_defaults(handler=run)


def time_limit_option(value: str | None, option: str) -> float | None:
    """``--timeout``/``--run-timeout``: None when not given (the configuration decides),
    0.0 for ``none`` or 0 (no limit, whatever is configured), else seconds."""
    if value is None:
        return None
    if value.strip().lower() == "none":
        return 0.0
    from pytest_pipeline.matrix.settings import time_limit

    return time_limit(value, option) or 0.0


def options_from(args: argparse.Namespace) -> object:
    from pytest_pipeline import ci
    from pytest_pipeline.runner.run import RunOptions

    project: Path = args.project
    if not project.is_dir():
        raise PipelineError(
            f"--project {project}: no such folder; give the folder holding tox.ini or noxfile.py"
        )
    return RunOptions(
        project=project,
        reports_dir=args.reports_dir,
        parallel=args.parallel,
        fail_fast=args.fail_fast,
        cells=_split(args.cell),
        labels=_split(args.label),
        tool=args.tool,
        backend=args.backend,
        installer=args.installer,
        installpkg=args.installpkg,
        pytest_args=tuple(args.pytest_args),
        recreate=args.recreate,
        timeout=time_limit_option(args.timeout, "--timeout"),
        run_timeout=time_limit_option(args.run_timeout, "--run-timeout"),
        stream=sys.stdout,
        ci=ci.detect(args.plugin_manager, os.environ, sys.stdout),
    )


def run(args: argparse.Namespace) -> int:
    from pytest_pipeline.runner.run import RunOptions
    from pytest_pipeline.runner.run import run as run_pipeline

    options = options_from(args)
    assert isinstance(options, RunOptions)
    result = run_pipeline(options)
    if getattr(args, "html", False):
        _write_html(result.reports, args.project)
    return int(result.code)


def _write_html(reports: Path, project: Path) -> None:
    from pytest_pipeline import config as config_mod
    from pytest_pipeline.commands.report import HTML_NAME, shown, write_html

    pyproject = project / "pyproject.toml"
    config = config_mod.load(pyproject if pyproject.is_file() else None)
    written = write_html(reports, reports / HTML_NAME, default_stage=config.default_stage)
    print(f"report: {shown(written)}", flush=True)
