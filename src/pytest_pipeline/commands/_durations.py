"""The previous run's durations, for ``run`` and ``plan``: the longest cells start first
(:func:`pytest_pipeline.runner.scheduler.schedule`)."""

from __future__ import annotations

from pathlib import Path


def previous_durations(reports_root: Path) -> dict[str, float]:
    """Each cell's seconds in the previous run (``run.json`` of the reports folder, read as
    ``plan --shard --durations`` reads it); empty when there is none or it cannot be read
    (the configuration's order then). A reused cell's time is the look-up's, not its
    tests': it is left out (an unrecorded cell counts as the mean)."""
    import json  # this module loads with the CLI: nothing more until it is called

    from pytest_pipeline.ci.matrix import durations_from_record

    try:
        data = json.loads((reports_root / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return durations_from_record(data)
