"""Checks of what would be published: one exact build, the one the cells installed.

The gate vouches for one exact build: cells that installed different builds of a
package, or a ``--artifact`` that is not the build the cells installed, mean the tested
thing is not (all of) the thing that would be published.
"""

from __future__ import annotations

from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.gate.decision import Decision
from pytest_pipeline.gate.findings import NoteKind, ReasonKind
from pytest_pipeline.gate.releases import release_of
from pytest_pipeline.run_record import Artifact


def artifact_checks(decision: Decision) -> None:
    installed: dict[str, set[str]] = {}
    for artifact in decision.results.artifacts:
        installed.setdefault(artifact.name, set()).add(artifact.sha256)
    for name, digests in installed.items():
        if len(digests) > 1:
            shown = ", ".join(sorted(d[:12] for d in digests))
            decision.reason(
                ExitCode.INCOMPLETE,
                ReasonKind.ARTIFACT_MISMATCH,
                f"the run records disagree about {name} (sha256 {shown}): the cells tested different "
                "builds; build once and give every job the same file",
            )
    for artifact in decision.results.given_artifacts:
        _given(decision, artifact, installed)


def _given(decision: Decision, artifact: Artifact, installed: dict[str, set[str]]) -> None:
    """One ``--artifact`` against the builds the cells installed."""
    tested = installed.get(artifact.name, set())
    if tested and artifact.sha256 not in tested:
        shown = ", ".join(sorted(d[:12] for d in tested))
        decision.reason(
            ExitCode.INCOMPLETE,
            ReasonKind.ARTIFACT_MISMATCH,
            f"--artifact {artifact.name} (sha256 {artifact.sha256[:12]}) is not the build the cells "
            f"installed (sha256 {shown}); gate the file that was tested",
        )
    elif not tested and installed:
        # Not installed in any cell. Only the sdist built beside the tested wheel
        # (same project, version and commit) may go with it: another wheel of the
        # release (a platform wheel pip would prefer) holds code no cell ran.
        releases = {release_of(name): name for name in installed}
        release = release_of(artifact.name) if not artifact.name.endswith(".whl") else None
        wheel = releases.get(release) if release is not None else None
        if wheel is not None:
            decision.note(
                NoteKind.ARTIFACT_COMPANION,
                f"--artifact {artifact.name} was not installed in the cells; it is the same "
                f"project and version as the tested {wheel}",
            )
        else:
            decision.reason(
                ExitCode.INCOMPLETE,
                ReasonKind.ARTIFACT_MISMATCH,
                f"--artifact {artifact.name} is not what the cells tested "
                f"({', '.join(sorted(installed))}) nor its project's release; gate the file that "
                "was tested",
            )
