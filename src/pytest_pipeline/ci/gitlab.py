"""GitLab CI: a child pipeline with ``parallel:matrix``, collapsible log sections.

GitLab has no annotation or summary commands: it reads the merged JUnit file from
``artifacts:reports:junit`` (the generated gate job declares it) and shows failures in
the merge request's test widget.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pytest_pipeline.ci.provider import Provider, WorkflowOptions
from pytest_pipeline.cli_hooks import hookimpl

_ERASE = "\x1b[0K"
_counter = itertools.count(1)


def image_for(python: str) -> str:
    """The Docker Hub image that has the cell's interpreter: ``3.12`` -> ``python:3.12``."""
    match = re.fullmatch(r"(pypy)?(\d+(?:\.\d+)?)", python)
    if match is None:
        return "python:3"
    return f"{'pypy' if match.group(1) else 'python'}:{match.group(2)}"


def section_id(title: str) -> str:
    """Section names may hold letters, digits, ``_``, ``.`` and ``-``; unique per process."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", title).strip("_")[:60] or "section"
    return f"{cleaned}_{next(_counter)}"


class GitLabCI(Provider):
    name = "gitlab"
    title = "GitLab CI"
    workflow_path = ".gitlab-ci.yml"
    # GitLab refuses a parallel:matrix that expands to more than 200 jobs.
    matrix_limit = 200

    @classmethod
    def detect(cls, environ: Mapping[str, str]) -> bool:
        return environ.get("GITLAB_CI") == "true"

    def matrix_output(self, cells: Sequence[Mapping[str, Any]]) -> str:
        """A child pipeline: one ``test`` job per cell, the gate job and the publish job."""
        jobs = self.matrix_jobs(cells)
        with_os = all(isinstance(c, Mapping) and c.get("os") for c in cells)
        lines: list[str] = []
        for job in jobs:
            entry = {"CELL": job.cell, "IMAGE": image_for(job.python), "KEY": job.key}
            if with_os:
                entry["OS"] = job.os
            # JSON strings are valid YAML double-quoted scalars: no quoting surprises.
            for n, (key, value) in enumerate(entry.items()):
                lines.append(f"      {'- ' if n == 0 else '  '}{key}: {json.dumps(value)}")
        from pytest_pipeline.ci import templates  # (importlib.resources) when writing one, not to detect

        text = templates.render("gitlab-cells.yml", WorkflowOptions(), {"matrix": "\n".join(lines)})
        if with_os:
            # --os values are runner tags here (GitLab has no OS switch of its own).
            text = text.replace("  image: $IMAGE\n", "  image: $IMAGE\n  tags:\n    - $OS\n", 1)
        return text

    @contextlib.contextmanager
    def group(self, title: str) -> Iterator[None]:
        ident = section_id(title)
        clean_title = title.replace("\r", " ").replace("\n", " ")
        self.write_line(
            f"{_ERASE}section_start:{int(time.time())}:{ident}[collapsed=true]\r{_ERASE}{clean_title}"
        )
        try:
            yield
        finally:
            self.write_line(f"{_ERASE}section_end:{int(time.time())}:{ident}\r{_ERASE}")

    def workflow(self, options: WorkflowOptions) -> str:
        from pytest_pipeline.ci import templates  # (importlib.resources) when writing one, not to detect

        return templates.render("gitlab-ci.yml", options)


@hookimpl
def pytest_pipeline_ci_providers() -> type[Provider]:
    return GitLabCI
