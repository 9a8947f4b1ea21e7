"""``pytest-pipeline plan``: the cells x stages ``run`` would execute; runs nothing.

Shows which interpreters are found or missing and which environments are left out
because they don't run pytest. ``--format json`` is for machines; more formats come
from plugins through the ``pytest_pipeline_plan_formats`` hook.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_pipeline.cli_hooks import hookimpl
from pytest_pipeline.errors import PipelineError

if TYPE_CHECKING:
    import pluggy

    from pytest_pipeline.cli_hooks import PlanFormatter
    from pytest_pipeline.config import PipelineConfig
    from pytest_pipeline.matrix.model import Plan


def _text(plan: Plan, args: argparse.Namespace) -> str:
    from pytest_pipeline.matrix.render import render_text

    return render_text(plan, routes=getattr(args, "routes", None), schedule=getattr(args, "schedule", None))


def _json(plan: Plan, args: argparse.Namespace) -> str:
    import json

    from pytest_pipeline.matrix.render import plan_to_json

    data = plan_to_json(plan, routes=getattr(args, "routes", None), schedule=getattr(args, "schedule", None))
    return json.dumps(data, indent=2) + "\n"


@hookimpl
def pytest_pipeline_plan_formats() -> dict[str, PlanFormatter]:
    return {"text": _text, "json": _json}


def formatters(pm: pluggy.PluginManager) -> dict[str, PlanFormatter]:
    """Every format from every plugin; a name claimed twice is an error."""
    found: dict[str, PlanFormatter] = {}
    for result in pm.hook.pytest_pipeline_plan_formats():
        for name, fn in (result or {}).items():
            if name in found and found[name] is not fn:
                raise PipelineError(f"plan format {name!r} is declared by two plugins; uninstall one of them")
            found[name] = fn
    return found


def add_selection_arguments(parser: argparse.ArgumentParser) -> None:
    """``-e``/``-m``/``--tool``/``--project``/``--no-cache``, as ``run`` spells them."""
    parser.add_argument(
        "-e",
        "--cell",
        action="append",
        default=[],
        metavar="NAME/GLOB",
        help="cells to show (tox envs / nox sessions; globs and comma lists allowed; repeatable)",
    )
    parser.add_argument(
        "-m",
        "--label",
        action="append",
        default=[],
        metavar="LABEL",
        help="cells with this tox label / nox tag",
    )
    parser.add_argument(
        "--tool", choices=("auto", "tox", "nox"), default=None, help="whose matrix (default: auto)"
    )
    parser.add_argument(
        "--project", type=Path, default=Path("."), metavar="DIR", help="the project folder (default: .)"
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="ask tox/nox again instead of using .pytest-pipeline/cache (which follows config file changes)",
    )


@hookimpl
def pytest_pipeline_add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="show the cells x stages `run` would execute and which interpreters are missing; runs nothing",
        description="Show the matrix `pytest-pipeline run` would execute: cells (tox environments or nox "
        "sessions, plus [tool.pytest-pipeline.matrix] axes), the stages of each, and whether each cell's "
        "interpreter is on this machine. Runs nothing.",
    )
    add_selection_arguments(parser)
    parser.add_argument(
        "--format",
        default="text",
        metavar="FORMAT",
        help="text (default), json, or a format a plugin adds",
    )
    parser.add_argument(
        "-p",
        "--parallel",
        type=_parallel,
        default=None,
        metavar="auto|N",
        help="show the test slots and order of `run -p N` "
        "(default: [tool.pytest-pipeline.run] parallel, else auto = usable cores)",
    )
    parser.set_defaults(handler=run_plan)


def _parallel(value: str) -> str | int:
    from pytest_pipeline.commands.run import _parallel as run_parallel

    return run_parallel(value)


def check_other_settings(config: PipelineConfig) -> None:
    """The tables discovery does not read ([gate], [hook]), checked as ``run`` checks
    them: whatever ``run`` would refuse (exit 4), ``plan`` refuses too."""
    from pytest_pipeline.ci.githook import configured_command
    from pytest_pipeline.gate.loading import checked_policy

    checked_policy(config)
    configured_command(config)


def run_plan(args: argparse.Namespace) -> int:
    from pytest_pipeline import config as config_module
    from pytest_pipeline.matrix.discover import Request, discover
    from pytest_pipeline.matrix.select import split_patterns

    formats = formatters(args.plugin_manager)
    formatter = formats.get(args.format)
    if formatter is None:
        raise PipelineError(
            f"--format {args.format!r} is unknown; choose one of {', '.join(sorted(formats))}"
        )
    project = args.project
    if not project.is_dir():
        raise PipelineError(
            f"--project {project}: no such folder; give the folder holding tox.ini or noxfile.py"
        )
    config = config_module.load(project / "pyproject.toml")
    check_other_settings(config)
    request = Request(
        tool=args.tool,
        select=split_patterns(args.cell),
        labels=tuple(label for value in args.label for label in split_patterns([value])),
        use_cache=not args.no_cache,
        this_platform=not getattr(args, "os", None),
    )
    plan = discover(project, config, request)
    # --shard I/N and --os (added by pytest_pipeline.commands.ci_plan): this job's share of
    # the cells, each once per OS.
    from pytest_pipeline.commands.ci_plan import os_plan, shard_plan

    plan = os_plan(shard_plan(plan, args), args)
    args.routes = routes(plan, project, config)
    args.schedule = schedule_view(plan, project, config, getattr(args, "parallel", None))
    output = formatter(plan, args)
    for warning in plan.warnings:
        print(f"pytest-pipeline: warning: {warning}", file=sys.stderr)
    sys.stdout.write(output)
    return 0


def routes(plan: Plan, project: Path, config: PipelineConfig) -> dict[str, tuple[str, str]]:
    """How each cell would run, and why (see :mod:`pytest_pipeline.runner.tox_route`)."""
    from pytest_pipeline.matrix.settings import run_settings
    from pytest_pipeline.runner.tox_route import route, tox_plugins

    backend = run_settings(config).backend
    plugins = tox_plugins() if plan.tool == "tox" else ()
    found: dict[str, tuple[str, str]] = {}
    for cell in plan.cells:
        chosen = route(cell, project.resolve(), backend=backend, plugins=plugins)
        found[cell.name] = (chosen.kind, chosen.why)
    return found


def schedule_view(
    plan: Plan, project: Path, config: PipelineConfig, parallel: str | int | None
) -> dict[str, Any]:
    """What ``run`` would do with the cores (see :func:`pytest_pipeline.runner.scheduler.schedule`):
    the test slots, each cell's share and the order, as :mod:`pytest_pipeline.matrix.render` shows it."""
    import os

    from pytest_pipeline.commands._durations import previous_durations
    from pytest_pipeline.matrix.settings import run_settings
    from pytest_pipeline.runner import cores, outputs
    from pytest_pipeline.runner.run import clean_environ
    from pytest_pipeline.runner.scheduler import schedule
    from pytest_pipeline.runner.slots import worker_count

    value = parallel if parallel is not None else run_settings(config).parallel
    pool = worker_count(value)
    reports_root = outputs.locate(config, project=project)
    durations = previous_durations(reports_root)
    planned = schedule(
        plan.cells, pool=pool, project=project, environ=clean_environ(os.environ), durations=durations
    )
    cells: dict[str, dict[str, Any]] = {}
    for name, allotment in planned.allotments.items():
        workers = planned.workers.get(name)
        cells[name] = {
            "slots": allotment.slots,
            "xdist_workers": None if workers is None else ("auto" if workers.auto else workers.count),
            "xdist_from": None if workers is None else workers.describe(),
            "xdist_budget": allotment.workers,
            "expected_start": round(allotment.start, 3),
        }
    return {
        "test_slots": pool,
        "parallel": f"-p {value}" if value != "auto" else f"-p auto: usable cores {cores.count().describe()}",
        "order": list(planned.order),
        "order_from": str(reports_root / "run.json") if planned.durations else None,
        "durations": dict(planned.durations),
        "cells": cells,
    }
