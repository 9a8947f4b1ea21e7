"""Hook specifications of the ``pytest-pipeline`` command line (not of pytest).

The built-in subcommands and CI providers are plugins on these hooks, the way tox
writes its own subcommands; another package adds its own through the
``pytest_pipeline`` entry-point group.
"""

from __future__ import annotations

import argparse

import pluggy

PROJECT = "pytest_pipeline"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def pytest_pipeline_add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add subcommands to ``subparsers``.

    Each parser sets ``handler`` with ``set_defaults(handler=fn)``, where ``fn(args)``
    returns an exit code (see :class:`pytest_pipeline.exitcodes.ExitCode`) and raises
    :class:`pytest_pipeline.errors.PipelineError` for problems the user can fix.
    Import heavy modules inside ``fn``, not at module level: every command pays for
    what every plugin imports.
    """
