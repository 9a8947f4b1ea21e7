"""Tell the CI what happened: annotations, the job summary, the test results view.

:func:`report_to_ci` is what ``pytest-pipeline ci-report`` runs; the runner and the gate
can call it too. Without a provider (a developer's machine) the summary is printed.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from pytest_pipeline.ci.provider import Level, Provider
from pytest_pipeline.ci.summary import SUMMARY_LIMIT, build_markdown
from pytest_pipeline.errors import PipelineError
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.gate.record import GateRecord, UnsupportedVersion
from pytest_pipeline.results import Outcome, ResultSummary, TestRef
from pytest_pipeline.run_record import CellRecord

LOG_BYTES = 2_000_000
"""At most this much of one cell's log is printed into a folded group (its end, where
the failure usually is); the whole file stays in the uploaded reports."""


@dataclass(frozen=True)
class Reported:
    annotations: int
    """Annotations written (failures and flaky passes)."""
    left_out: int
    """Tests that were not annotated because of the provider's per-step limit."""
    summary: bool
    """True when the summary went to the CI's summary page (False: printed to the log)."""
    junit: bool
    """True when the JUnit file was handed to the CI's test view."""


def locate(ref: TestRef, root: Path) -> TestRef:
    """``ref`` with a ``file`` guessed from its classname when the JUnit file had none.

    pytest's default JUnit flavour (xunit2) records no file; the classname is the
    module path (``tests.unit.test_greet`` or ``tests.unit.test_greet.TestClass``), so
    the longest prefix that is a ``.py`` file under ``root`` is the test's file, and an
    annotation can then be attached to it.
    """
    if ref.file or not ref.classname:
        return ref
    parts = ref.classname.split(".")
    for end in range(len(parts), 0, -1):
        candidate = Path(*parts[:end]).with_suffix(".py")
        if (root / candidate).is_file():
            return dataclasses.replace(ref, file=candidate.as_posix())
    return ref


def annotate(
    provider: Provider,
    failures: Sequence[TestRef],
    flaky: Sequence[TestRef] = (),
    *,
    root: Path | None = None,
    verdict: GateRecord | None = None,
) -> tuple[int, int]:
    """Failed and errored tests as errors, then blocked ones, then flaky passes as
    warnings, up to the provider's limit.

    A blocked test only repeats an earlier stage's failure, and one failure can block a
    whole stage: listed in file order, a dozen blocked tests of one cell would use up
    GitHub's 10 annotations before another cell's real failure got one.

    With the gate's ``verdict``, a failure no reason of it names (quarantined, outside
    the required cells or stages, known from the baseline) is a warning, after the
    errors: a red annotation on a build whose gate is open would say the opposite; and
    a flaky pass the gate closed for (``flaky = 'fail'``) is an error.
    """
    base = Path.cwd() if root is None else root
    closing = _closing(verdict)

    def closes(ref: TestRef) -> bool:
        if closing is None:  # no verdict: every failure, no flaky pass
            return ref.outcome.is_bad
        # a blocked stage is one reason per (cell, stage), without a test
        test = None if ref.outcome is Outcome.BLOCKED else ref.test_id
        return (ref.cell, ref.stage, test) in closing

    real = [ref for ref in failures if ref.outcome is not Outcome.BLOCKED and closes(ref)]
    blocked = [ref for ref in failures if ref.outcome is Outcome.BLOCKED and closes(ref)]
    closing_flaky = [ref for ref in flaky if closes(ref)]  # under flaky = 'fail'
    queue: list[tuple[TestRef, Level]] = [(ref, "error") for ref in (*real, *closing_flaky, *blocked)]
    queue += [(ref, "warning") for ref in (*failures, *flaky) if not closes(ref)]
    shown = queue[: provider.max_annotations]
    for ref, level in shown:
        provider.annotate(locate(ref, base), level)
    left_out = len(queue) - len(shown)
    if left_out:
        provider.notice(
            f"pytest-pipeline: {left_out} more failed, blocked or flaky tests are not annotated; "
            "see the summary"
        )
    return len(shown), left_out


def _closing(verdict: GateRecord | None) -> set[tuple[str | None, str | None, str | None]] | None:
    """(cell, stage, test) of each reason the gate closed for (test None for a blocked
    stage, which is one reason per cell and stage); None without a verdict."""
    if verdict is None:
        return None
    return {(reason.cell, reason.stage, reason.test) for reason in verdict.reasons}


def report_to_ci(
    provider: Provider | None,
    summary: ResultSummary,
    verdict: GateRecord | None = None,
    *,
    junit: Path | None = None,
    stream: TextIO | None = None,
    limit: int = SUMMARY_LIMIT,
) -> Reported:
    markdown = build_markdown(summary, verdict, limit=limit)
    out = sys.stdout if stream is None else stream
    if provider is None:
        out.write(markdown)
        return Reported(0, 0, False, False)
    shown, left_out = annotate(provider, summary.failures, summary.flaky, verdict=verdict)
    to_page = provider.step_summary(markdown)
    if not to_page:
        with provider.group("pytest-pipeline summary"):
            provider.stream.write(markdown)
    published = provider.publish_junit(junit) if junit is not None else False
    return Reported(shown, left_out, to_page, published)


def fold_log(provider: Provider | None, title: str, path: Path, *, max_bytes: int = LOG_BYTES) -> None:
    """Print a cell's log file inside a folded group (its last ``max_bytes`` if longer)."""
    stream = provider.stream if provider else sys.stdout
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            if size > max_bytes:
                handle.seek(size - max_bytes)
            data = handle.read()
    except OSError as exc:
        (provider.notice if provider else print)(f"pytest-pipeline: cannot read {path} ({exc.strerror})")
        return
    text = data.decode("utf-8", "replace")
    if size > max_bytes:
        text = f"[... first {size - max_bytes} bytes left out; the whole log is in the reports ...]\n" + text
    if provider is None:
        stream.write(text if text.endswith("\n") else text + "\n")
        return
    with provider.group(title):
        stream.write(text if text.endswith("\n") else text + "\n")
        stream.flush()


def fold_cell_logs(provider: Provider, cells: Sequence[CellRecord], root: Path) -> int:
    """Each cell's log (``cells[].log`` of a run record, relative to ``root``) in a folded
    group of its own, in plan order; returns how many were printed.

    ``run`` calls this once every cell has finished, so the one-line progress of cells
    running side by side stays together and each log reads in one piece. A cell that
    never started (cancelled, a missing interpreter) may have no log: it is passed over.
    """
    printed = 0
    for cell in cells:
        if cell.log is None or not (root / cell.log).is_file():
            continue
        fold_log(provider, f"log of {cell.name} ({cell.status.value})", root / cell.log)
        printed += 1
    return printed


def read_gate(path: Path) -> GateRecord:
    """``gate.json``, its version checked; a missing or broken file is an incomplete picture (3)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PipelineError(
            f"{path}: no gate file; run `pytest-pipeline gate` first or pass --gate FILE", ExitCode.INCOMPLETE
        ) from None
    except OSError as exc:
        raise PipelineError(f"{path}: cannot be read ({exc.strerror})", ExitCode.INCOMPLETE) from None
    except ValueError as exc:
        raise PipelineError(
            f"{path}: is not JSON ({str(exc)[:100]}); pass the gate.json that `pytest-pipeline gate` wrote",
            ExitCode.INCOMPLETE,
        ) from None
    if not isinstance(data, dict):
        raise PipelineError(f"{path}: is not a gate file (not a JSON object)", ExitCode.INCOMPLETE)
    try:
        return GateRecord.from_dict(data, path=str(path))
    except UnsupportedVersion as exc:
        raise PipelineError(
            f"{path}: {exc}; use the pytest-pipeline that wrote it", ExitCode.INCOMPLETE
        ) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise PipelineError(
            f"{path}: is not a valid gate file ({type(exc).__name__}: {str(exc)[:100]}); "
            "pass the gate.json that `pytest-pipeline gate` wrote",
            ExitCode.INCOMPLETE,
        ) from None
