"""Azure Pipelines: a matrix output variable, ``##vso[...]`` logging commands, summaries.

Logging commands are lines on standard output; their escaping follows
``azure-pipelines-task-lib``: data escapes ``%`` (as ``%AZP25``), CR and LF; property
values also escape ``;`` and ``]``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_pipeline.ci.provider import Level, Provider, WorkflowOptions, location
from pytest_pipeline.cli_hooks import hookimpl
from pytest_pipeline.results import TestRef

_counter = itertools.count(1)


def escape_data(text: str) -> str:
    return text.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace("]", "%5D").replace(";", "%3B")


def command(area_action: str, message: str = "", **properties: str | int | bool | None) -> str:
    """``##vso[area.action key=value;key=value]message`` with everything escaped."""
    props = ";".join(
        f"{key}={escape_property(_text(value))}" for key, value in properties.items() if value is not None
    )
    return f"##vso[{area_action}{' ' + props if props else ''}]{escape_data(message)}"


def _text(value: str | int | bool) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def job_name(text: str) -> str:
    """Matrix job names: Latin letters, digits and ``_``, starting with a letter."""
    cleaned = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_")
    if not cleaned or not cleaned[0].isalpha():
        cleaned = f"cell_{cleaned}".rstrip("_")
    return cleaned


class AzurePipelines(Provider):
    name = "azure"
    title = "Azure Pipelines"
    workflow_path = "azure-pipelines.yml"

    @classmethod
    def detect(cls, environ: Mapping[str, str]) -> bool:
        return environ.get("TF_BUILD", "").lower() == "true"

    def matrix_output(self, cells: Sequence[Mapping[str, Any]]) -> str:
        """``##vso[task.setVariable variable=matrix;isOutput=true]{job: {variables}}``.

        The consuming job reads it with ``$[ dependencies.plan.outputs['emit.matrix'] ]``;
        each job gets the variables ``cell``, ``python``, ``vmImage`` and ``key``.
        """
        jobs = self.matrix_jobs(cells)
        entries: dict[str, dict[str, str]] = {}
        for job in jobs:
            name, n = job_name(job.key), 1
            while name.lower() in (k.lower() for k in entries):
                n += 1
                name = f"{job_name(job.key)}_{n}"
            entries[name] = {"cell": job.cell, "python": job.python, "vmImage": job.os, "key": job.key}
        payload = json.dumps(entries, separators=(",", ":"))
        return command("task.setVariable", payload, variable="matrix", isOutput=True)

    def annotate(self, ref: TestRef, level: Level = "error") -> None:
        message = f"{location(ref)}: {ref.message or ref.outcome.value}"
        if level == "warning":
            message = f"flaky, passed after {ref.attempts} attempts: {message}"
        self.write_line(
            command("task.logissue", message, type=level, sourcepath=ref.file, linenumber=ref.line)
        )

    @contextlib.contextmanager
    def group(self, title: str) -> Iterator[None]:
        self.write_line(f"##[group]{escape_data(title)}")
        try:
            yield
        finally:
            self.write_line("##[endgroup]")

    def step_summary(self, markdown: str) -> bool:
        # The agent uploads a Markdown file named in the command; keep it where the
        # agent cleans up (its temp folder) and unique per call.
        folder = Path(self.environ.get("AGENT_TEMPDIRECTORY") or tempfile.gettempdir())
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"pytest-pipeline-summary-{os.getpid()}-{next(_counter)}.md"
        path.write_text(markdown, encoding="utf-8")
        self.write_line(command("task.uploadsummary", str(path.resolve())))
        return True

    def publish_junit(self, path: Path) -> bool:
        self.write_line(
            command(
                "results.publish",
                type="JUnit",
                mergeResults=True,
                resultFiles=str(path.resolve()),
                testRunTitle="pytest-pipeline",
            )
        )
        return True

    def workflow(self, options: WorkflowOptions) -> str:
        from pytest_pipeline.ci import templates  # (importlib.resources) when writing one, not to detect

        return templates.render("azure-pipelines.yml", options)


@hookimpl
def pytest_pipeline_ci_providers() -> type[Provider]:
    return AzurePipelines
