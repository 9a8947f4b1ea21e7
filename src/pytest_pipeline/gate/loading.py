"""The evaluation's loader step: the files a :class:`~pytest_pipeline.gate.policy.Policy`
names, read and checked before the pure :func:`~pytest_pipeline.gate.verdict.decide`.

Every problem is a one-line :class:`~pytest_pipeline.errors.ConfigError` (exit 4) that
names the file and the fix.
"""

from __future__ import annotations

from pathlib import Path

from pytest_pipeline.config import PipelineConfig
from pytest_pipeline.errors import ConfigError
from pytest_pipeline.gate import gatefile, quarantine
from pytest_pipeline.gate.baseline import Baseline, key
from pytest_pipeline.gate.policy import Policy, PolicyFiles, PolicyOverrides, from_config


def checked_policy(config: PipelineConfig, overrides: PolicyOverrides | None = None) -> Policy:
    """The policy, with its files read once to check them: a command that gates at its end
    (``run``) or plans for it (``plan``) refuses a typo in ``[gate]`` or a missing
    quarantine file before any work."""
    policy = from_config(config, overrides)
    load_policy_files(policy)
    return policy


def load_policy_files(policy: Policy) -> PolicyFiles:
    """The quarantine entries and the baseline the policy names (none when it names none)."""
    return PolicyFiles(
        quarantine=quarantine.load(Path(policy.quarantine_path)) if policy.quarantine_path else (),
        baseline=load_baseline(Path(policy.baseline_path)) if policy.baseline_path else None,
    )


def load_baseline(path: Path) -> Baseline:
    """An earlier gate.json as a baseline: its failing tests and the cells that reported."""
    try:
        record = gatefile.read(path)
    except gatefile.GateFileError as exc:
        raise ConfigError(
            f"baseline {exc}; point 'baseline' at a gate.json written by pytest-pipeline gate"
        ) from None
    return Baseline(
        source=str(path),
        failing=frozenset(key(ref) for ref in record.failures),
        cells=frozenset(record.reported_cells),
        commit=record.commit,
    )
