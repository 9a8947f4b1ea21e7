"""GitHub Actions: ``matrix=`` output, ``::error``/``::group::`` commands, the job summary.

Workflow commands are lines on standard output; their syntax (and escaping) follows
``@actions/core``: data escapes ``%``, CR and LF; properties also escape ``:`` and ``,``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_pipeline.ci.provider import Level, Provider, WorkflowOptions, location
from pytest_pipeline.cli_hooks import hookimpl
from pytest_pipeline.results import TestRef

SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str | int | None) -> str:
    """``::name key=value,key=value::message`` with everything escaped."""
    props = ",".join(
        f"{key}={escape_property(str(value))}" for key, value in properties.items() if value is not None
    )
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


class GitHubActions(Provider):
    name = "github"
    title = "GitHub Actions"
    workflow_path = ".github/workflows/pipeline.yml"
    # GitHub shows at most 10 error (and 10 warning) annotations per step.
    max_annotations = 10
    matrix_limit = 256

    @classmethod
    def detect(cls, environ: Mapping[str, str]) -> bool:
        return environ.get("GITHUB_ACTIONS") == "true"

    def matrix_output(self, cells: Sequence[Mapping[str, Any]]) -> str:
        """``matrix={"include": [...]}`` on one line, for ``>> "$GITHUB_OUTPUT"``."""
        jobs = self.matrix_jobs(cells)
        include = [{"cell": j.cell, "python": j.python, "os": j.os, "key": j.key} for j in jobs]
        return "matrix=" + json.dumps({"include": include}, separators=(",", ":"))

    def annotate(self, ref: TestRef, level: Level = "error") -> None:
        message = ref.message or ref.outcome.value
        if level == "warning":
            message = f"flaky: passed after {ref.attempts} attempts. {message}".rstrip()
        self.write_line(command(level, message, file=ref.file, line=ref.line, title=location(ref)))

    def notice(self, message: str) -> None:
        self.write_line(command("notice", message))

    @contextlib.contextmanager
    def group(self, title: str) -> Iterator[None]:
        # Groups do not nest on GitHub; the end marker always closes the open one.
        self.write_line(f"::group::{escape_data(title)}")
        try:
            yield
        finally:
            self.write_line("::endgroup::")

    def step_summary(self, markdown: str) -> bool:
        target = self.environ.get(SUMMARY_ENV)
        if not target:
            return False
        # Appended: other steps of the job write to the same file.
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write(markdown if markdown.endswith("\n") else markdown + "\n")
        return True

    def workflow(self, options: WorkflowOptions) -> str:
        from pytest_pipeline.ci import templates  # (importlib.resources) when writing one, not to detect

        return templates.render("github.yml", options)


@hookimpl
def pytest_pipeline_ci_providers() -> type[Provider]:
    return GitHubActions
