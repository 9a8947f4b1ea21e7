"""Hook specifications of the ``pytest-pipeline`` command line (not of pytest).

The built-in subcommands and CI providers are plugins on these hooks, the way tox
writes its own subcommands; another package adds its own through the
``pytest_pipeline`` entry-point group.
"""

from __future__ import annotations

import argparse
from types import ModuleType
from typing import TYPE_CHECKING

import pluggy

from pytest_pipeline.cli_marks import BUILT_IN_MARK

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_pipeline.ci.provider import Provider
    from pytest_pipeline.matrix.model import Plan

    PlanFormatter = Callable[[Plan, argparse.Namespace], str]

PROJECT = "pytest_pipeline"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class PluginManager(pluggy.PluginManager):
    """pluggy's plugin manager that also takes a module's functions marked with
    :func:`pytest_pipeline.cli_marks.built_in_hook` (as ``@hookimpl`` would mark them)."""

    def parse_hookimpl_opts(self, plugin: object, name: str) -> pluggy.HookimplOpts | None:
        opts = super().parse_hookimpl_opts(plugin, name)
        # vars(), not getattr(): only what the module itself defines
        if opts is None and isinstance(plugin, ModuleType) and hasattr(vars(plugin).get(name), BUILT_IN_MARK):
            return {  # pluggy's defaults
                "wrapper": False,
                "hookwrapper": False,
                "optionalhook": False,
                "tryfirst": False,
                "trylast": False,
                "specname": None,
            }
        return opts


@hookspec
def pytest_pipeline_add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add subcommands to ``subparsers``.

    Each parser sets ``handler`` with ``set_defaults(handler=fn)``, where ``fn(args)``
    returns an exit code (see :class:`pytest_pipeline.exitcodes.ExitCode`) and raises
    :class:`pytest_pipeline.errors.PipelineError` for problems the user can fix.
    Import heavy modules inside ``fn``, not at module level: every command pays for
    what every plugin imports.
    """


@hookspec
def pytest_pipeline_ci_providers() -> type[Provider] | list[type[Provider]] | None:
    """Return the CI provider class(es) this plugin adds (subclasses of
    :class:`pytest_pipeline.ci.provider.Provider`).

    The built-in GitHub Actions, Azure Pipelines and GitLab CI providers implement this
    hook in ``pytest_pipeline.ci.{github,azure,gitlab}``. Detection asks each provider's
    ``detect(environ)`` in hook-call order, so a provider from an installed package
    (registered later) is asked before the built-ins and can claim an environment that
    also looks like one of them (Gitea and Forgejo Actions set ``GITHUB_ACTIONS=true``).
    Provider names must be unique; a second provider with a taken name is an error.
    """


@hookspec
def pytest_pipeline_plan_formats() -> dict[str, PlanFormatter] | None:
    """Return ``{format name: fn(plan, args) -> str}`` for ``pytest-pipeline plan --format``.

    ``text`` and ``json`` are built in (``pytest_pipeline.commands.plan``); a CI
    integration adds e.g. ``github`` (a job matrix). ``args`` is the parsed command
    line, for options a format reads. Names must be unique across plugins; a second
    formatter with a taken name is an error.
    """
