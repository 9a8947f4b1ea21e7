"""The one user-facing error type of the command line.

``cli.main`` catches it once and prints ``pytest-pipeline: error: <message>`` on one
line without a traceback; anything else is a bug and keeps its traceback.

PYTEST_DONT_REWRITE: the pytest plugin imports this module in every test run; see plugin.py.
"""

from __future__ import annotations

from pytest_pipeline.exitcodes import ExitCode


class PipelineError(Exception):
    """A problem the user can fix. The message names the file, option or cell and the fix."""

    def __init__(self, message: str, code: ExitCode = ExitCode.USAGE_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


class ConfigError(PipelineError):
    """``[tool.pytest-pipeline]`` (or a command-line override of it) is wrong."""
