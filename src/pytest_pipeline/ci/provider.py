"""What pytest-pipeline needs from a CI system, as one class to subclass.

A provider turns the same facts (the planned cells, a failed test, a cell's log, a
Markdown summary, the merged JUnit file) into what its CI shows: a dynamic job matrix,
annotations on the diff, folded log sections, a job summary page, a test tab. Every
method has a do-nothing default, so a provider implements only what its CI has.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, TextIO

from pytest_pipeline.ci import matrix
from pytest_pipeline.errors import PipelineError
from pytest_pipeline.results import TestRef

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class WorkflowOptions:
    """Choices for ``pytest-pipeline init-ci``; the defaults give the checked-in examples."""

    python: str = "3.12"
    """The interpreter that runs pytest-pipeline itself (plan, gate, publish jobs)."""
    default_branch: str = "main"
    """Publishing branch where the CI cannot name the default branch itself (Azure)."""
    publish: bool = True
    """Include the publish job (after merge to the default branch, through the gate)."""


class Provider:
    """One CI system. Subclass it, set ``name`` and ``title``, override what applies.

    An instance is bound to an environment (``environ``, for the files a CI hands over
    such as ``$GITHUB_STEP_SUMMARY``) and a text stream (``stream``, where logging
    commands go: the job log is the process's standard output).
    """

    name: ClassVar[str] = ""
    """Short name used on the command line: ``plan --format NAME``, ``init-ci NAME``."""
    title: ClassVar[str] = ""
    """Human name, e.g. ``GitHub Actions``."""
    workflow_path: ClassVar[str] = ""
    """Where ``init-ci`` writes the workflow, relative to the project root ("" = no workflow)."""
    max_annotations: ClassVar[int] = 50
    """Annotations beyond this many per step are dropped by the CI, so we stop earlier and say so."""
    matrix_limit: ClassVar[int | None] = None
    """Most jobs one dynamic matrix may have in this CI, or None for no known limit."""

    def __init__(self, environ: Mapping[str, str] | None = None, stream: TextIO | None = None) -> None:
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.stream: TextIO = sys.stdout if stream is None else stream

    # ------------------------------------------------------------------ detection

    @classmethod
    def detect(cls, environ: Mapping[str, str]) -> bool:
        """True when this process runs in a job of this CI."""
        return False

    # ------------------------------------------------------------------ fan-out

    def matrix_output(self, cells: Sequence[Mapping[str, Any]]) -> str:
        """The planned cells (``plan --format json``'s ``cells``) as this CI's dynamic matrix.

        The text is what ``plan --format NAME`` prints; the generated workflow says where
        it goes (``>> "$GITHUB_OUTPUT"``, the job log, a child-pipeline file).
        """
        raise PipelineError(
            f"{self.title or self.name} has no dynamic-matrix format; "
            "use --format json and build the jobs yourself"
        )

    def matrix_jobs(self, cells: Sequence[Mapping[str, Any]]) -> list[matrix.Job]:
        """The jobs of ``cells`` for :meth:`matrix_output`: at least one (an empty matrix
        runs nothing, or the CI refuses it) and at most :attr:`matrix_limit`."""
        jobs = matrix.jobs(cells)
        if not jobs:
            raise PipelineError(
                f"the plan has no cells, so there is no {self.title or self.name} matrix to run; "
                "check the cell selection"
            )
        self.check_matrix_size(len(jobs))
        return jobs

    def check_matrix_size(self, count: int) -> None:
        if self.matrix_limit is not None and count > self.matrix_limit:
            raise PipelineError(
                f"{count} cells exceed {self.title}'s limit of {self.matrix_limit} jobs in one matrix; "
                "select fewer cells (plan -e/--cell, -m) "
                "or split them with --shard I/N over several plan jobs"
            )

    def workflow(self, options: WorkflowOptions) -> str:
        """The text of a ready workflow for ``init-ci``."""
        raise PipelineError(f"init-ci has no workflow for {self.title or self.name}")

    # ------------------------------------------------------------------ logging commands

    def annotate(self, ref: TestRef, level: Level = "error") -> None:
        """Show one test (a failure, or a flaky pass as a warning) where the CI shows problems."""

    def notice(self, message: str) -> None:
        """A one-line remark in the job log (plain text by default)."""
        self.write_line(message)

    @contextlib.contextmanager
    def group(self, title: str) -> Iterator[None]:
        """Fold what is printed inside the ``with`` block under ``title`` in the job log."""
        yield

    def step_summary(self, markdown: str) -> bool:
        """Attach ``markdown`` to the job's summary page; False when this CI has none."""
        return False

    def publish_junit(self, path: Path) -> bool:
        """Hand a JUnit file to the CI's test view; False when the CI reads it by itself
        (GitLab's ``artifacts:reports:junit``) or has no such view."""
        return False

    # ------------------------------------------------------------------ helpers

    def write_line(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()


def location(ref: TestRef) -> str:
    """``cell / stage: classname::name`` — how every provider titles a test."""
    return f"{ref.cell} / {ref.stage}: {ref.test_id}"
