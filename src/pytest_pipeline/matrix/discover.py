"""The one entry point of matrix discovery: project folder + settings -> :class:`Plan`.

A pipeline of small steps, each testable alone: choose the tool -> ask it (or the
cache) -> one cell per environment -> extra axes -> selection -> stages per cell ->
interpreters found or missing. Nothing is run and nothing is written except the
caches.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from pytest_pipeline.config import PipelineConfig
from pytest_pipeline.errors import PipelineError
from pytest_pipeline.matrix import (
    axes,
    cache,
    cell_stages,
    from_nox,
    from_tox,
    interpreters,
    oscells,
    platforms,
)
from pytest_pipeline.matrix.cells import base_cells
from pytest_pipeline.matrix.listing import Listing
from pytest_pipeline.matrix.model import Cell, Plan, Tool
from pytest_pipeline.matrix.probe_cache import ProbeCache
from pytest_pipeline.matrix.select import select as select_cells
from pytest_pipeline.matrix.settings import matrix_settings, run_settings
from pytest_pipeline.matrix.toolrun import Runner, run_tool, tool_environment


@dataclass(frozen=True)
class Request:
    """What the caller asks for, on top of ``[tool.pytest-pipeline.run]``."""

    tool: str | None = None
    """``tox``/``nox``/``auto``; None: the ``run.tool`` setting."""
    select: Sequence[str] = ()
    """Names or globs (``-e``); empty: ``run.cells``, then the tool's default."""
    labels: Sequence[str] = ()
    """tox labels / nox tags (``-m``); empty: ``run.labels``."""
    include: Sequence[str] = ()
    exclude: Sequence[str] = ()
    use_cache: bool = True
    check_interpreters: bool = True
    this_platform: bool = True
    """Leave out cells whose tox ``platform`` does not match this machine (``plan --os``
    judges each OS job by its runner instead; see :mod:`.platforms`)."""
    environ: Mapping[str, str] | None = None
    runner: Runner = field(default=run_tool, compare=False)


def choose_tool(project_dir: Path, wanted: str) -> Tool:
    """``auto``: tox when the project has a tox configuration, else nox with a noxfile."""
    if wanted in ("tox", "nox"):
        return "tox" if wanted == "tox" else "nox"
    if from_tox.config_file(project_dir):
        return "tox"
    if (project_dir / from_nox.NOXFILE).is_file():
        return "nox"
    raise PipelineError(
        f"{project_dir}: no tox configuration (tox.ini, tox.toml, [tool.tox] in pyproject.toml, "
        "[tox:tox] in setup.cfg) and no noxfile.py; add one, or point at the project folder"
    )


def listing_for(project_dir: Path, tool: Tool, request: Request) -> tuple[Listing, bool]:
    """The tool's answer, from the cache when nothing it depends on changed."""
    env = tool_environment(request.environ)
    if tool == "tox":
        command, version = from_tox.tox_command(), from_tox.tox_version()
    else:
        command = from_nox.nox_command()
        version = from_nox.nox_version(command)
    cache_key = cache.key(tool, project_dir, command, version, env)
    if request.use_cache:
        cached = cache.load(project_dir, tool, cache_key)
        if cached is not None:
            return cached, True
    if tool == "tox":
        try:
            listing = from_tox.query(
                project_dir, env, runner=request.runner, command=command, version=version
            )
        except PipelineError as error:
            # In a read-only project tox fails as if its configuration were broken.
            unwritable = from_tox.unwritable_work_dir(project_dir)
            if unwritable is None:
                raise
            raise unwritable from error
    else:
        listing = from_nox.query(project_dir, env, runner=request.runner, command=command, version=version)
    cache.store(project_dir, tool, cache_key, listing)
    return listing, False


def discover(project_dir: Path, config: PipelineConfig, request: Request | None = None) -> Plan:
    request = request or Request()
    project_dir = project_dir.resolve()
    # Our own settings first: a typo there is reported before any tool runs.
    run = run_settings(config)
    matrix_settings(config)
    tool = choose_tool(project_dir, request.tool or run.tool)
    listing, from_cache = listing_for(project_dir, tool, request)
    return plan_from_listing(listing, config, request, project_dir=project_dir, from_cache=from_cache)


def plan_from_listing(
    listing: Listing,
    config: PipelineConfig,
    request: Request,
    *,
    project_dir: Path,
    from_cache: bool = False,
) -> Plan:
    """Everything after asking the tool; pure apart from the interpreter look-up."""
    run = run_settings(config)
    matrix = matrix_settings(config)
    source = listing.config_file
    base = base_cells(listing)
    every = axes.expand(base.cells, matrix)
    if request.select or request.labels:
        patterns, labels, origin = request.select, request.labels, ("-e", "-m")
    else:
        table = f"{config.source or 'pyproject.toml'}: [tool.pytest-pipeline.run]"
        patterns, labels, origin = run.cells, run.labels, (f"{table} cells", f"{table} labels")
    # ``-e py312@windows-latest``: py312, planned for that OS (see matrix.oscells).
    os_patterns = oscells.split_patterns(patterns, every, origin[0])
    selection = select_cells(
        every,
        default=base.default,
        patterns=os_patterns.for_selection,
        labels=labels,
        include=(*run.include, *request.include),
        exclude=(*run.exclude, *request.exclude),
        patterns_from=origin[0],
        labels_from=origin[1],
        source=source,
    )
    _reject_broken(selection.cells, base.errors, source)
    staged = cell_stages.assign_stages(selection.cells, every, config)
    cells = list(staged.cells)
    if not cells:
        raise PipelineError(
            f"{config.source or 'pyproject.toml'}: no selected cell runs any stage; "
            "check the `cells` of [tool.pytest-pipeline.stage.*]"
        )
    reasons: dict[str, str] = {}
    if request.check_interpreters:
        cells, reasons = _with_interpreters(cells, request.environ, project_dir, use_cache=request.use_cache)
    cells = list(oscells.apply(cells, os_patterns, labels, source))
    off_platform: Mapping[str, str] = {}
    if request.this_platform:
        kept, off_platform = platforms.split(cells, source)
        cells = list(kept)
    return Plan(
        tool=listing.tool,
        tool_version=listing.tool_version,
        project_dir=str(project_dir),
        config_file=source,
        stages=config.names,
        cells=tuple(cells),
        left_out=selection.left_out,
        warnings=staged.warnings,
        from_cache=from_cache,
        missing_reasons=reasons,
        off_platform=off_platform,
    )


def _reject_broken(cells: Sequence[Cell], errors: Mapping[str, Mapping[str, str]], source: str) -> None:
    """A selected environment with a setting tox could not load can't be run."""
    for cell in cells:
        problems = errors.get(cell.env)
        if problems:
            key, message = next(iter(problems.items()))
            raise PipelineError(
                f"{source}: [testenv:{cell.env}] {key} could not be loaded: {message}; "
                f"fix it (`tox config -e {cell.env} -k {key}` shows it)"
            )


def _with_interpreters(
    cells: Sequence[Cell], environ: Mapping[str, str] | None, project_dir: Path, *, use_cache: bool = True
) -> tuple[list[Cell], dict[str, str]]:
    """Each cell's interpreter found or missing; answers kept from earlier probes are
    used when ``use_cache`` (see :mod:`.probe_cache`)."""
    probes = ProbeCache.load(project_dir) if use_cache else ProbeCache(project_dir, {})
    found = interpreters.find_all(
        [cell.python for cell in cells],
        dict(os.environ if environ is None else environ),
        cwd=project_dir,
        probe_fn=probes.probe,
    )
    probes.save()
    reasons = {str(spec): info.reason for spec, info in found.items() if info.reason}
    out = [
        replace(
            cell,
            python_found=found[cell.python].found,
            python_path=found[cell.python].path,
            python_version=found[cell.python].version,
        )
        for cell in cells
    ]
    return out, reasons
