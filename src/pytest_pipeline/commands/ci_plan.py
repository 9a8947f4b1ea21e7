"""``plan --format github|azure|gitlab``, ``--os`` and ``--shard``: the plan as CI jobs.

The ``plan`` command belongs to :mod:`pytest_pipeline.commands.plan`; this plugin adds
its CI options (``trylast``, so the ``plan`` parser exists by then) and one plan format
per built-in CI provider. A provider from another package adds its own format with
:func:`provider_format`.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from pytest_pipeline.cli_hooks import hookimpl

if TYPE_CHECKING:
    from pytest_pipeline.cli_hooks import PlanFormatter
    from pytest_pipeline.matrix.model import Plan

BUILTIN_FORMATS = ("github", "azure", "gitlab")


@hookimpl(trylast=True)
def pytest_pipeline_add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    plan = subparsers.choices.get("plan")
    if plan is None:
        return
    group = plan.add_argument_group("CI fan-out (--format github, azure, gitlab)")
    group.add_argument(
        "--os",
        action="append",
        default=[],
        metavar="LABELS",
        help="run every cell on each of these runner labels (comma list, repeatable), e.g. "
        "ubuntu-latest,windows-latest,macos-latest; every format then names the cells CELL@LABEL "
        "(give the same --os to plan --format json, so the gate expects every OS job)",
    )
    group.add_argument(
        "--shard",
        metavar="I/N",
        help="only shard I of N of the cells (1-based, like GitLab's CI_NODE_INDEX/CI_NODE_TOTAL); "
        "evenly, or balanced by --durations",
    )
    group.add_argument(
        "--durations",
        metavar="FILE",
        help="an earlier gate.json or run.json: balance --shard by each cell's recorded duration",
    )


def provider_format(name: str) -> PlanFormatter:
    """A plan formatter that prints the cells as CI provider ``name``'s dynamic matrix."""

    def format_plan(plan: Plan, args: argparse.Namespace) -> str:
        from pytest_pipeline import ci
        from pytest_pipeline.matrix.render import cell_to_json

        # --os is already in the plan (see os_plan): each cell carries its "os".
        cells: list[dict[str, Any]] = [cell_to_json(cell, plan) for cell in plan.cells]
        text = ci.get(args.plugin_manager, name).matrix_output(cells)
        return text if text.endswith("\n") else text + "\n"

    format_plan.__name__ = f"format_{name}"
    return format_plan


@hookimpl
def pytest_pipeline_plan_formats() -> dict[str, PlanFormatter]:
    return {name: provider_format(name) for name in BUILTIN_FORMATS}


def shard_plan(plan: Plan, args: argparse.Namespace) -> Plan:
    """``plan`` keeping only this ``--shard``'s cells (every format shows the same shard)."""
    import dataclasses
    from pathlib import Path

    from pytest_pipeline.ci import matrix
    from pytest_pipeline.errors import PipelineError

    shard_text = getattr(args, "shard", None)
    durations_file = getattr(args, "durations", None)
    if not shard_text:
        if durations_file:
            raise PipelineError("--durations only balances --shard I/N; add --shard or drop --durations")
        return plan
    index, total = matrix.parse_shard(shard_text)
    durations = matrix.read_durations(Path(durations_file)) if durations_file else None
    if durations:
        durations = _per_cell(durations, [cell.name for cell in plan.cells])
    chosen = matrix.shard([{"name": cell.name} for cell in plan.cells], index, total, durations)
    names = {str(cell["name"]) for cell in chosen}
    return dataclasses.replace(plan, cells=tuple(cell for cell in plan.cells if cell.name in names))


def _per_cell(durations: dict[str, float], names: list[str]) -> dict[str, float]:
    """A record of an --os fan-out names ``CELL@OS``; a cell not recorded by its own name
    weighs as its slowest OS job."""
    from pytest_pipeline.matrix.oscells import SEPARATOR

    found = dict(durations)
    for name in names:
        if name not in found:
            prefix = name + SEPARATOR
            jobs = [seconds for key, seconds in durations.items() if key.startswith(prefix)]
            if jobs:
                found[name] = max(jobs)
    return found


def os_plan(plan: Plan, args: argparse.Namespace) -> Plan:
    """``plan`` with every cell once per ``--os`` label, named ``CELL@LABEL``."""
    import dataclasses

    from pytest_pipeline.matrix import oscells, platforms

    systems = oscells.labels(getattr(args, "os", None) or ())
    if not systems:
        return plan
    # Each (cell, OS) job is judged by its runner's platform: a tox env with
    # `platform = win32` gets only its Windows jobs.
    cells, off = platforms.split(oscells.per_os(plan.cells, systems), plan.config_file)
    return dataclasses.replace(plan, cells=cells, off_platform={**plan.off_platform, **off})
