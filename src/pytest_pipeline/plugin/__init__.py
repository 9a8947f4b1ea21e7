"""pytest entry point (``pytest11: pipeline``): options, hookspecs, markers, wiring.

This module loads in every pytest run of every user, so it imports only the standard
library, pytest and our light modules; the per-session work lives in ``runtime`` and
the optional features import their helpers when they are in use.

PYTEST_DONT_REWRITE: pytest assertion-rewrites every module of a distribution that has a
pytest11 entry point, on each import where it cannot cache bytecode (read-only
site-packages, PYTHONDONTWRITEBYTECODE in CI images). The plugin's modules have no
assertions worth rewriting, so each one the plugin imports carries this marker.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_pipeline import config as pipeline_config
from pytest_pipeline.errors import PipelineError

PLUGIN_NAME = "pipeline-runtime"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pipeline", "stages (pytest-pipeline)")
    group.addoption(
        "--stage",
        action="append",
        dest="pipeline_stage",
        metavar="NAME[,NAME]",
        default=None,
        help="run only these stages (repeatable, comma lists, or 'all'); others are deselected",
    )
    group.addoption(
        "--strict-stages",
        action="store_true",
        dest="pipeline_strict",
        default=False,
        help="error out when a test gets its stage only from the default stage",
    )
    group.addoption(
        "--no-stage-block",
        action="store_false",
        dest="pipeline_block",
        default=None,
        help="run later stages even after a failure in an earlier stage",
    )
    group.addoption(
        "--enforce-budgets",
        action="store_true",
        dest="pipeline_enforce_budgets",
        default=False,
        help="fail tests whose call takes longer than their stage's budget",
    )
    group.addoption(
        "--list-stages",
        action="store_true",
        dest="pipeline_list_stages",
        default=False,
        help="print each stage with its number of tests (and the tests with -v); run nothing",
    )


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_pipeline.plugin import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    # --list-stages only collects; like --collect-only, it needs no xdist workers.
    if config.getoption("pipeline_list_stages") and hasattr(config.option, "numprocesses"):
        config.option.numprocesses = 0
        config.option.dist = "no"
        config.option.tx = []


def settings_path(config: pytest.Config) -> Path:
    """Where the stage settings live when ``$PYTEST_PIPELINE_CONFIG`` is not set."""
    inipath = config.inipath
    if inipath is not None and inipath.name == "pyproject.toml":
        return inipath
    return config.rootpath / "pyproject.toml"


def pytest_configure(config: pytest.Config) -> None:
    from pytest_pipeline.plugin.runtime import PipelineRuntime
    from pytest_pipeline.plugin.stages import parse_selection

    try:
        settings = pipeline_config.load(settings_path(config))
        selected = parse_selection(config.getoption("pipeline_stage"), settings.names)
    except PipelineError as exc:
        if config.getoption("help"):
            settings, selected = pipeline_config.PipelineConfig(source=None), None
        else:
            raise pytest.UsageError(exc.message) from None

    config.addinivalue_line(
        "markers",
        "stage(name): run this test in stage NAME (pytest-pipeline); the closest marker wins",
    )
    for name in settings.names:
        config.addinivalue_line("markers", f"{name}: run this test in stage {name} (pytest-pipeline)")

    block = config.getoption("pipeline_block")
    runtime = PipelineRuntime(
        config,
        settings,
        selected,
        strict=bool(config.getoption("pipeline_strict")) or settings.strict_stages,
        blocking=settings.stage_block if block is None else bool(block),
        enforce_budgets=bool(config.getoption("pipeline_enforce_budgets")),
        list_stages=bool(config.getoption("pipeline_list_stages")),
    )
    config.pluginmanager.register(runtime, PLUGIN_NAME)
