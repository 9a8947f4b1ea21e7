"""One nox cell: ``nox -s SESSION``, as nox runs it.

One invocation, with nox's own install and run steps in their order: a session that uses
what ``session.run(...)`` printed while it installs (``.strip()`` on its output) works as
it does under nox. What the session installs is its business, so a nox cell tests what
the session installs (usually the source tree), not the run's wheel, and its record says
so (``tested: "source"``). Each cell gets its own ``--envdir`` (matrix-axis variants of
one session must not share an environment); axis pins reach the session's installers
through their variables (pip's ``PIP_CONSTRAINT``, uv's ``UV_OVERRIDE``/``UV_RESOLUTION``).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.runner.backends.base import Attempt, CellJob
from pytest_pipeline.runner.context import env_folder
from pytest_pipeline.runner.process import CommandNotFound, run_command


@dataclass(frozen=True)
class NoxCell:
    project: Path
    tool_config: Path | None
    environ: Mapping[str, str]
    recreate: bool = False


def argv(run: NoxCell, cell: Cell, folder: Path) -> list[str]:
    command = [sys.executable, "-m", "nox", "--non-interactive", "--no-color"]
    if run.tool_config is not None:
        command.extend(["-f", str(run.tool_config)])
    command.extend(["-s", cell.env, "--envdir", str(folder.resolve())])
    if run.recreate:
        command.append("--reuse-venv=no")
    return command


def environment(run: NoxCell, cell: Cell, folder: Path | None = None) -> dict[str, str]:
    """The caller's variables, plus the cell's axis pins for the session's installers."""
    env = dict(run.environ)
    if cell.pins and folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        pins = folder / "axis-pins.txt"
        pins.write_text("\n".join(cell.pins) + "\n", encoding="utf-8")
        env["PIP_CONSTRAINT"] = str(pins)
        env["UV_OVERRIDE"] = str(pins)
    if cell.resolution:
        env["UV_RESOLUTION"] = cell.resolution
    return env


def run(
    nox: NoxCell, cell: Cell, folder: Path, environ: Mapping[str, str], *, log: IO[bytes], cancel: Any
) -> Attempt:
    notes = ["the session's own install was tested (nox builds it), not the run's wheel"]
    if cell.pins:
        notes.append(f"pinned {', '.join(cell.pins)}")
    try:
        result = run_command(argv(nox, cell, folder), cwd=nox.project, env=environ, log=log, cancel=cancel)
    except CommandNotFound as missing:
        return Attempt(env_error=f"{missing.program}: command not found")
    return Attempt(exit_code=result.returncode, cancelled=result.cancelled, notes=notes)


class NoxBackend:
    def run(self, job: CellJob) -> Attempt:
        ctx, cell = job.ctx, job.cell
        nox = NoxCell(
            project=ctx.project, tool_config=ctx.tool_config, environ=ctx.environ, recreate=ctx.recreate
        )
        folder = env_folder(cell, ctx.project)

        def session() -> Attempt:
            job.notify(phase="nox")
            environ = job.inject(environment(nox, cell, folder), python_path=True)
            return run(nox, cell, folder, environ, log=job.log, cancel=job.cancel.event)

        return job.in_test_slot([], session)


BACKEND = NoxBackend()
