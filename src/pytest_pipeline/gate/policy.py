"""``[tool.pytest-pipeline.gate]`` plus command-line overrides -> one frozen :class:`Policy`.

Every key the gate decides by can be overridden on ``gate``'s command line (an option of
the same name); an override replaces the configured value (it does not add to it).
``publish-branches`` and ``allow-pull-request-publish`` are read by ``publish`` when it
runs, so their overrides are ``publish``'s own ``--allow-branch`` and
``--allow-pull-request`` (a gate option for them would be recorded and then ignored).
Unknown keys and wrong types are one-line errors (exit 4) naming the key and the fix.

A :class:`Policy` names its files (the quarantine file, the baseline) by path and
reads none of them: :func:`pytest_pipeline.gate.loading.load_policy_files` does, as a
step of the evaluation, into :class:`PolicyFiles`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypedDict, cast

from pytest_pipeline.config import PipelineConfig
from pytest_pipeline.errors import ConfigError
from pytest_pipeline.gate.baseline import Baseline
from pytest_pipeline.gate.quarantine import QuarantineEntry

FlakyPolicy = Literal["allow", "fail"]
InterpreterPolicy = Literal["auto", "allow", "fail"]
Mode = Literal["all", "regressions-only"]
ReusedPolicy = Literal["accept", "refuse"]

FLAKY_CHOICES: tuple[FlakyPolicy, ...] = ("allow", "fail")
INTERPRETER_CHOICES: tuple[InterpreterPolicy, ...] = ("auto", "allow", "fail")
MODE_CHOICES: tuple[Mode, ...] = ("all", "regressions-only")
REUSED_CHOICES: tuple[ReusedPolicy, ...] = ("accept", "refuse")

PolicyOverrides = TypedDict(
    "PolicyOverrides",
    {
        "required-stages": list[str],
        "required-cells": list[str],
        "allow-empty-stages": "bool | list[str]",
        "flaky": str,
        "missing-interpreters": str,
        "quarantine": "str | None",
        "baseline": str,
        "mode": str,
        "reused-results": str,
    },
    total=False,
)
"""The policy options given on a command line, by their key in the table (an option
replaces the configured value; ``quarantine`` None is ``--no-quarantine``)."""

PolicyRecord = TypedDict(
    "PolicyRecord",
    {
        "required-stages": list[str],
        "required-cells": list[str],
        "allow-empty-stages": list[str],
        "flaky": str,
        "missing-interpreters": str,
        "quarantine": "str | None",
        "baseline": "str | None",
        "mode": str,
        "reused-results": str,
        "publish-branches": list[str],
        "allow-pull-request-publish": bool,
    },
)
"""The effective policy as gate.json records it (``policy``)."""

KEYS = (
    "required-stages",
    "required-cells",
    "allow-empty-stages",
    "flaky",
    "missing-interpreters",
    "quarantine",
    "baseline",
    "mode",
    "reused-results",
    "publish-branches",
    "allow-pull-request-publish",
)


@dataclass(frozen=True)
class Policy:
    stages: tuple[str, ...]
    """Every declared stage, in order."""
    required_stages: tuple[str, ...]
    required_cells: tuple[str, ...] = ("*",)
    """Globs: a cell matching one is required; a pattern that matches no cell is missing."""
    allow_empty_stages: frozenset[str] = frozenset()
    flaky: FlakyPolicy = "allow"
    missing_interpreters: InterpreterPolicy = "auto"
    quarantine_path: str | None = None
    """The quarantine file (TOML); read by the evaluation, not here."""
    baseline_path: str | None = None
    """An earlier gate.json to compare with; read by the evaluation, not here."""
    mode: Mode = "all"
    reused_results: ReusedPolicy = "accept"
    """Whether results a run reused from an earlier run with the same inputs count
    (``refuse``: such a required cell makes the gate incomplete, and ``run`` runs every
    cell afresh)."""
    publish_branches: tuple[str, ...] = ()
    """Branch (or ``refs/tags/...``) globs publish accepts; empty means the default branch."""
    allow_pull_request_publish: bool = False
    stage_cells: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Per stage, the cell globs it runs in (``[tool.pytest-pipeline.stage.X] cells``)."""
    unused_stages_ok: frozenset[str] = frozenset()
    """Stages that may have no tests in any cell: the built-in stages other than the
    default one, when the project declares neither ``stages`` nor ``required-stages``
    (a project that never heard of stages has all its tests in ``unit``)."""

    def stage_required(self, stage: str) -> bool:
        # A stage nobody declared is required: unknown results must not slip through.
        return stage in self.required_stages or stage not in self.stages

    def stage_runs_in(self, stage: str, cell: str) -> bool:
        from pytest_pipeline import globs

        patterns = self.stage_cells.get(stage, ())
        return not patterns or globs.matches_any_name(patterns, cell)

    def closes_on_missing_interpreter(self, in_ci: bool) -> bool:
        if self.missing_interpreters == "auto":
            return in_ci
        return self.missing_interpreters == "fail"

    def to_dict(self) -> PolicyRecord:
        return {
            "required-stages": list(self.required_stages),
            "required-cells": list(self.required_cells),
            "allow-empty-stages": sorted(self.allow_empty_stages),
            "flaky": self.flaky,
            "missing-interpreters": self.missing_interpreters,
            "quarantine": self.quarantine_path,
            "baseline": self.baseline_path,
            "mode": self.mode,
            "reused-results": self.reused_results,
            "publish-branches": list(self.publish_branches),
            "allow-pull-request-publish": self.allow_pull_request_publish,
        }


@dataclass(frozen=True)
class PolicyFiles:
    """What the policy's files say: the quarantine entries and the baseline."""

    quarantine: tuple[QuarantineEntry, ...] = ()
    baseline: Baseline | None = None


def from_config(config: PipelineConfig, overrides: PolicyOverrides | None = None) -> Policy:
    """The policy from ``config``'s gate table with ``overrides`` (keys as in the table) on top.

    Relative ``quarantine``/``baseline`` paths from the file are relative to the
    pyproject.toml; from the command line, to the current directory. The files
    themselves are read by :func:`pytest_pipeline.gate.loading.load_policy_files`.
    """
    table = config.table("gate")
    given: dict[str, object] = dict(overrides or {})
    unknown = sorted(set(given) - set(KEYS))
    if unknown:  # pragma: no cover - a programming error in the command, not user input
        raise ValueError(f"unknown gate override {unknown[0]!r}")
    base = config.source.parent if config.source else Path.cwd()

    def value(key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        configured = table.get(key, kind, default)
        return given.get(key, configured)

    def strings(key: str, default: list[str]) -> tuple[str, ...]:
        raw = value(key, (list, str), default)
        items = [raw] if isinstance(raw, str) else list(raw)
        if not all(isinstance(item, str) and item for item in items):
            raise ConfigError(f"{where(key)}: expected a list of non-empty strings, got {raw!r}")
        return tuple(items)

    def where(key: str) -> str:
        return _where(table.where(key), key, given)

    stages = config.names
    required_stages = strings("required-stages", list(stages))
    explicit = config.stages_declared or "required-stages" in given or "required-stages" in table.data
    unused_stages_ok = frozenset() if explicit else frozenset(stages) - {config.default_stage}
    if not required_stages:
        raise ConfigError(
            f"{where('required-stages')}: name at least one stage; a gate requiring none vouches for nothing"
        )
    for stage in required_stages:
        if stage not in stages:
            raise ConfigError(
                f"{where('required-stages')}: unknown stage {stage!r}; "
                f"declared stages are {', '.join(stages)}"
            )
    required_cells = strings("required-cells", ["*"])
    if not required_cells:
        raise ConfigError(
            f"{where('required-cells')}: expected a non-empty list of cell globs "
            "such as ['*'] or ['py3*-django5']"
        )

    empty = value("allow-empty-stages", (list, bool, str), False)
    allow_empty = _allow_empty(empty, stages, where("allow-empty-stages"))

    flaky = value("flaky", str, "allow")
    _choice(flaky, FLAKY_CHOICES, where("flaky"))
    interpreters = value("missing-interpreters", str, "auto")
    _choice(
        interpreters,
        INTERPRETER_CHOICES,
        where("missing-interpreters"),
    )
    mode = value("mode", str, "all")
    _choice(mode, MODE_CHOICES, where("mode"))
    reused = value("reused-results", str, "accept")
    _choice(reused, REUSED_CHOICES, where("reused-results"))

    quarantine_path = _path(
        table.get("quarantine", str, None), given.get("quarantine"), "quarantine" in given, base
    )
    baseline_path = _path(table.get("baseline", str, None), given.get("baseline"), "baseline" in given, base)
    if mode == "regressions-only" and baseline_path is None:
        raise ConfigError(
            f"{where('mode')}: 'regressions-only' needs a baseline; "
            "set 'baseline' to an earlier gate.json or pass --baseline FILE"
        )
    publish_branches = strings("publish-branches", [])
    allow_pr = value("allow-pull-request-publish", bool, False)
    table.done()

    return Policy(
        stages=stages,
        required_stages=required_stages,
        unused_stages_ok=unused_stages_ok,
        required_cells=required_cells,
        allow_empty_stages=allow_empty,
        flaky=cast(FlakyPolicy, flaky),
        missing_interpreters=cast(InterpreterPolicy, interpreters),
        quarantine_path=quarantine_path,
        baseline_path=baseline_path,
        mode=cast(Mode, mode),
        reused_results=cast(ReusedPolicy, reused),
        publish_branches=publish_branches,
        allow_pull_request_publish=bool(allow_pr),
        stage_cells={stage.name: stage.cells for stage in config.stages if stage.cells},
    )


def _where(configured: str, key: str, given: Mapping[str, object]) -> str:
    """Name the command-line option when the value came from there."""
    return f"--{key}" if key in given else configured


def _choice(value: object, choices: tuple[str, ...], where: str) -> None:
    if value not in choices:
        raise ConfigError(f"{where}: {value!r} is not one of {', '.join(repr(c) for c in choices)}")


def _allow_empty(value: object, stages: tuple[str, ...], where: str) -> frozenset[str]:
    if isinstance(value, bool):
        return frozenset(stages) if value else frozenset()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):  # pragma: no cover - guarded by the table's type check
        raise ConfigError(f"{where}: expected true, false or a list of stages")
    for item in items:
        if item not in stages:
            raise ConfigError(f"{where}: unknown stage {item!r}; declared stages are {', '.join(stages)}")
    return frozenset(items)


def _path(configured: str | None, override: object, overridden: bool, base: Path) -> str | None:
    if overridden:
        return None if override in (None, "") else str(override)
    if configured is None or configured == "":
        return None
    path = Path(configured)
    return str(path if path.is_absolute() else base / path)
