"""``pytest-pipeline status``: the last verdict, its commit and time, each cell, and the
last commit whose gate opened.

Exit code: the last gate's code as recorded in ``gate.json`` (0 open, 1 tests failed, ...),
so ``pytest-pipeline status -q && git push`` works; 3 when the reports folder has results
but no readable verdict, or only the history of a run that did not finish (killed: it
cleared run.json and gate.json when it started); 4 when it has none of these. It
reports, it does not judge again: a verdict on an older commit keeps its code, and the
output says HEAD has moved.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pytest_pipeline.cli_marks import built_in_hook
from pytest_pipeline.errors import PipelineError


@built_in_hook
def pytest_pipeline_add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "status",
        help="show the last run's verdict, commit, time and cells, and the last commit whose gate opened",
        description="Show the last verdict (gate.json), the commit and time it is about, each cell's "
        "result (run.json) and the last commit whose gate opened (history.jsonl in the reports "
        "folder, one line per verdict). Exit code: the last gate's code (0 open); 3 without a "
        "readable verdict (also after a run that did not finish: then the history's last verdict is "
        "shown); 4 without any results.",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="json for scripts")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the verdict line")
    parser.add_argument(
        "--reports-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="the folder to read (default: [tool.pytest-pipeline] reports-dir, else pipeline-reports)",
    )
    parser.add_argument("--config", default=None, metavar="PYPROJECT", help="the project's pyproject.toml")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import json

    from pytest_pipeline.config import load_option
    from pytest_pipeline.fileio import relative_to_cwd
    from pytest_pipeline.gate.provenance import git_facts
    from pytest_pipeline.report import status as status_mod
    from pytest_pipeline.runner.outputs import locate

    config = load_option(args.config)
    root = relative_to_cwd(locate(config, given=args.reports_dir))
    project = config.source.parent if config.source else Path.cwd()
    status = status_mod.gather(root, head=git_facts(project).commit, project=project)
    if status.gate is None and status.run is None and not status.problems and not status.unfinished:
        raise PipelineError(
            f"no results in {root} (no gate.json, run.json or history.jsonl); run `pytest-pipeline run` "
            "first, or pass --reports-dir"
        )
    if args.format == "json":
        json.dump(status_mod.to_json(status), sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif args.quiet:
        print(status_mod.render_text(status).splitlines()[0])
    else:
        sys.stdout.write(status_mod.render_text(status))
    return status.code
