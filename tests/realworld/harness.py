"""A corpus run: each project unpacked once into two fresh copies (one per side), then each
selected env run by tox (nox) in the first and by ``pytest-pipeline run`` in the second."""

from __future__ import annotations

from pathlib import Path

from realworld.compare import Comparison
from realworld.corpus import Case, Project, unpack
from realworld.sides import run_ours, run_reference, side_environ


class CorpusRun:
    """Compares cases one at a time (the machine is small: the two sides never overlap)
    under ``workdir``: ``<project>/reference/<tree>``, ``<project>/ours/<tree>``,
    ``<project>/reports/<env>/`` (our reports, outside the copy), ``<project>/logs/``."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.environ = side_environ()
        self._trees: dict[str, tuple[Path, Path]] = {}

    def compare(self, case: Case) -> Comparison:
        reference_tree, our_tree = self.trees(case.project)
        base = self.workdir / case.project.name
        logs = base / "logs"
        reference = run_reference(case, reference_tree, logs, self.environ)
        reports = base / "reports" / case.slug
        ours = run_ours(case, our_tree, reports, logs, self.environ)
        return Comparison(case, reference, ours)

    def trees(self, project: Project) -> tuple[Path, Path]:
        """The project's two copies, unpacked on first use."""
        if project.name not in self._trees:
            base = self.workdir / project.name
            sides = []
            for side in ("reference", "ours"):
                (base / side).mkdir(parents=True, exist_ok=True)
                sides.append(unpack(project, base / side / f"{project.name}-{project.version}"))
            self._trees[project.name] = (sides[0], sides[1])
        return self._trees[project.name]
