"""A tiny pytest plugin for ``rerun --failed``: keep only the tests to re-run in this cell.

Loaded in every re-run cell with ``-p pytest_pipeline.plugin.rerun_filter
--pipeline-rerun=FILE`` (through the orchestrator's ``PYTEST_ADDOPTS``). ``FILE`` maps cell
names to pytest node ids; the cell is ``$PYTEST_PIPELINE_CELL``. A cell that is not in the
file runs whole. When any of its node ids is not collected any more (a renamed test), the
whole cell runs too, and says so: a partial selection would keep the old result of the
missing test forever.

It filters first (``tryfirst``), so the stage plugin orders, blocks and counts only the
kept tests (and xdist workers all keep the same ones). Standard library and pytest only:
it runs in the user's environment.

PYTEST_DONT_REWRITE: see plugin.py.
"""

from __future__ import annotations

import json
import os

import pytest

from pytest_pipeline import envvars

CELL_ENV = envvars.CELL


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("pipeline").addoption(
        "--pipeline-rerun",
        dest="pipeline_rerun",
        default=None,
        metavar="FILE",
        help="pytest-pipeline rerun: JSON {cell: [node ids]}; keep only this cell's tests",
    )


def selected(path: str, cell: str | None) -> list[str] | None:
    """The node ids to keep in ``cell``, or None to keep every test."""
    if not cell:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise pytest.UsageError(f"--pipeline-rerun {path}: cannot be read ({exc})") from None
    cells = data.get("cells") if isinstance(data, dict) else None
    wanted = cells.get(cell) if isinstance(cells, dict) else None
    if not isinstance(wanted, list):
        return None
    return [str(nodeid) for nodeid in wanted]


NOTE = pytest.StashKey[str]()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    path = config.getoption("pipeline_rerun")
    if not path:
        return
    wanted = selected(path, os.environ.get(CELL_ENV))
    if wanted is None:
        return
    collected = {item.nodeid for item in items}
    missing = [nodeid for nodeid in wanted if nodeid not in collected]
    if missing:
        config.stash[NOTE] = (
            f"pytest-pipeline rerun: {len(missing)} of the {len(wanted)} tests to re-run are not "
            f"collected any more (first: {missing[0]}); running every test of the cell"
        )
        return
    keep = set(wanted)
    kept = [item for item in items if item.nodeid in keep]
    dropped = [item for item in items if item.nodeid not in keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
    config.stash[NOTE] = (
        f"pytest-pipeline rerun: re-running the {len(kept)} tests that failed or were blocked"
    )


def pytest_report_collectionfinish(config: pytest.Config) -> list[str]:
    note = config.stash.get(NOTE, None)
    return [note] if note else []
