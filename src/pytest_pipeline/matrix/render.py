"""A :class:`Plan` as text for people and as versioned JSON for machines.

The JSON shape (``version`` 1) is a contract for CI scripts: keys are only ever
added. Text is plain ASCII so it survives any console and log viewer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pytest_pipeline.matrix.model import Cell, Plan

PLAN_JSON_VERSION = 1

Schedule = Mapping[str, Any]
"""How ``run`` shares the cores and orders the cells (built by ``commands.plan.schedule_view``
from ``runner.scheduler.schedule``): ``test_slots``, ``parallel`` (how the slots were
counted), ``order``, ``order_from`` (the run.json the order comes from, or None),
``durations`` and ``cells`` (per cell: ``slots``, ``xdist_workers``, ``xdist_from``,
``xdist_budget``, ``expected_start``)."""

Routes = Mapping[str, tuple[str, str]]
"""Cell name -> (how it runs, why): ``native``, ``tox-env``, ``tox`` or ``nox`` (decided by
``runner.tox_route``; the command computes it, this module only shows it)."""


_NO_SLOTS = {"slots": None, "xdist_workers": None, "xdist_budget": None, "expected_start": None}


def cell_to_json(
    cell: Cell, plan: Plan, routes: Routes | None = None, schedule: Schedule | None = None
) -> dict[str, Any]:
    runs, why = (routes or {}).get(cell.name, (None, None))
    slots = (schedule or {}).get("cells", {}).get(cell.name, _NO_SLOTS)
    return {
        "name": cell.name,
        "tool": cell.tool,
        "env": cell.env,
        "python": cell.python,
        "python_found": cell.python_found,
        "python_path": cell.python_path,
        "python_version": cell.python_version,
        "missing_reason": plan.missing_reasons.get(str(cell.python)) if cell.missing else None,
        "factors": dict(cell.factors),
        "dependency_set": cell.dependency_set,
        "stages": list(cell.stages),
        "labels": list(cell.labels),
        "pins": list(cell.pins),
        "resolution": cell.resolution,
        "runs_pytest": cell.runs_pytest,
        "os": cell.os,
        "runs": runs,
        "runs_why": why,
        "slots": slots["slots"],
        "xdist_workers": slots["xdist_workers"],
        "xdist_budget": slots["xdist_budget"],
        "expected_start": slots["expected_start"],
    }


def plan_to_json(
    plan: Plan, routes: Routes | None = None, schedule: Schedule | None = None
) -> dict[str, Any]:
    return {
        "version": PLAN_JSON_VERSION,
        "tool": plan.tool,
        "tool_version": plan.tool_version,
        "project": plan.project_dir,
        "config_file": plan.config_file,
        "stages": list(plan.stages),
        "cells": [cell_to_json(cell, plan, routes, schedule) for cell in plan.cells],
        "left_out": list(plan.left_out),
        "off_platform": dict(plan.off_platform),
        "warnings": list(plan.warnings),
        "test_slots": schedule["test_slots"] if schedule else None,
        "order": list(schedule["order"]) if schedule else None,
        "order_from": schedule["order_from"] if schedule else None,
    }


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def _interpreter(cell: Cell) -> str:
    if cell.python_found is None:
        return "(not checked)"
    if cell.python_found:
        return f"{cell.python_path} ({cell.python_version})"
    return "MISSING"


def render_text(plan: Plan, routes: Routes | None = None, schedule: Schedule | None = None) -> str:
    lines = [
        f"{plan.tool} {plan.tool_version} ({plan.config_file}{', cached' if plan.from_cache else ''}): "
        f"{len(plan.cells)} cell{'s' if len(plan.cells) != 1 else ''}; "
        f"stages {' -> '.join(plan.stages)}",
        "",
    ]
    header = ["cell", "python", "dependencies", *plan.stages, "interpreter"]
    rows = [header]
    for cell in plan.cells:
        if cell.runs_pytest:
            marks = ["x" if stage in cell.stages else "-" for stage in plan.stages]
        else:
            marks = ["(own commands)", *[""] * (len(plan.stages) - 1)]
        rows.append([cell.name, cell.python or "(tool's)", cell.dependency_set, *marks, _interpreter(cell)])
    lines += _table(rows)
    grid = _grid(plan.cells)
    if grid:
        lines += ["", "grid (python x dependencies):", *grid]
    if routes:
        lines += ["", "how the cells run:", *_routes(plan.cells, routes)]
    if schedule:
        lines += ["", *_slots(schedule), *_order(schedule)]
    missing = plan.missing
    if missing:
        specs = list(dict.fromkeys(str(cell.python) for cell in missing))
        lines += ["", f"missing interpreters ({len(specs)}), their cells are shown as missing, not run:"]
        for spec in specs:
            count = sum(1 for cell in missing if str(cell.python) == spec)
            reason = plan.missing_reasons.get(spec, "not found")
            lines.append(f"  {spec} ({count} cell{'s' if count != 1 else ''}): {reason}")
    if plan.left_out:
        lines += [
            "",
            f"left out (they don't run pytest): {', '.join(plan.left_out)}",
            "  name one with -e, or list it in [tool.pytest-pipeline.run] include",
        ]
    if plan.off_platform:
        lines += ["", "left out (tox `platform` does not match, as tox skips them):"]
        lines += [f"  {name}: {why}" for name, why in plan.off_platform.items()]
    return "\n".join(lines) + "\n"


def _routes(cells: Sequence[Cell], routes: Routes) -> list[str]:
    """One line per (way, reason), naming its cells: ``native`` is tox's environment made
    and run without tox (proven equal by the differential tests); the others say why not."""
    groups: dict[tuple[str, str], list[str]] = {}
    for cell in cells:
        if cell.name in routes:
            groups.setdefault(routes[cell.name], []).append(cell.name)
    return [f"  {kind}: {', '.join(names)} - {why}" for (kind, why), names in groups.items()]


def _slots(schedule: Schedule) -> list[str]:
    """The test slots and each cell's share: one, or its xdist workers (see ``runner.slots``)."""
    lines = [f"test slots: {schedule['test_slots']} ({schedule['parallel']})"]
    rows = []
    for name in schedule["order"]:
        cell = schedule["cells"][name]
        slots = f"{cell['slots']} slot{'s' if cell['slots'] != 1 else ''}"
        xdist = cell["xdist_from"] or ""
        if cell["xdist_budget"] is not None:
            xdist += f": {cell['xdist_budget']} worker{'s' if cell['xdist_budget'] != 1 else ''}"
        rows.append([f"  {name}", slots, xdist])
    lines += _table(rows) if rows else []
    if any(schedule["cells"][name]["xdist_budget"] is not None for name in schedule["order"]):
        lines.append("  (-n auto cells get PYTEST_XDIST_AUTO_NUM_WORKERS = their slots)")
    return lines


def _order(schedule: Schedule) -> list[str]:
    names = schedule["order"]
    if not schedule["order_from"]:
        where = "no earlier run.json: the configuration's, interpreters taking turns"
        return [f"order ({where}): {', '.join(names)}"]
    durations = schedule["durations"]
    shown = [
        f"{name} {durations[name]:.1f}s" if name in durations else f"{name} (no record)" for name in names
    ]
    return [f"order (longest first, from {schedule['order_from']}): {', '.join(shown)}"]


def _grid(cells: Sequence[Cell]) -> list[str]:
    """Interpreters as rows, dependency sets as columns, cell names inside; only
    drawn when there is more than one of each, otherwise the table says it all."""
    tested = [cell for cell in cells if cell.runs_pytest]
    pythons = list(dict.fromkeys(cell.python or "(tool's)" for cell in tested))
    columns = list(dict.fromkeys(cell.dependency_set for cell in tested))
    if len(pythons) < 2 or len(columns) < 2:
        return []
    rows = [["", *columns]]
    for python in pythons:
        row = [python]
        for column in columns:
            names = [
                cell.name
                for cell in tested
                if (cell.python or "(tool's)") == python and cell.dependency_set == column
            ]
            row.append(",".join(names) or ".")
        rows.append(row)
    return ["  " + line for line in _table(rows)]
