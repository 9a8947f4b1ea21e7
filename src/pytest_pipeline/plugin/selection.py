"""Give every collected test exactly one stage, then select and order by stage.

Precedence, strongest first: the ``pytest_pipeline_item_stage`` hook (the project
decides), an explicit marker (closest wins: parameter > function > class > module),
a ``[tool.pytest-pipeline.paths]`` rule, a directory named after a stage, the default.

This runs on every collection of every user, so the hot path is cheap: path results
are cached per file, marker results per parent node (class, module), the hook caller
per file, and the hook is skipped entirely when nobody implements it.

PYTEST_DONT_REWRITE: the pytest plugin imports this module in every test run; see plugin.py.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_pipeline.config import PipelineConfig
from pytest_pipeline.plugin.stages import Source

STAGE_KEY = pytest.StashKey[str]()
"""``item.stash[STAGE_KEY]``: the stage a test was given."""

_MISSING = object()


@dataclass
class Assignment:
    """The outcome of tagging one collection."""

    stages: list[str] = field(default_factory=list)
    """The stage of each item, aligned with the items."""
    sources: Counter[str] = field(default_factory=Counter)
    """How many tests got their stage from each source."""
    defaulted: list[str] = field(default_factory=list)
    """Node ids of tests whose stage came only from the default (strict mode)."""
    problems: list[tuple[str, str]] = field(default_factory=list)
    """(node id, one-line message naming it and the fix) per bad marker or hook answer."""


class StageAssigner:
    """Assigns stages with per-file and per-node caches kept for the whole session."""

    def __init__(self, settings: PipelineConfig, config: pytest.Config) -> None:
        self.config = config
        self.names = settings.names
        self._known = frozenset(self.names)
        self.default = settings.default_stage
        self.rules = settings.path_rules
        self.directories = settings.stage_directories
        self.rootpath = config.rootpath
        self._relpaths: dict[Path, str | None] = {}
        self._path_stages: dict[str | None, tuple[str, Source] | None] = {}
        self._inherited: dict[int, str | None] = {}
        self._hook_callers: dict[Path, Any] = {}
        self._problems: dict[tuple[str, str], None] = {}

    # ----------------------------------------------------------------- the whole run

    def assign(self, items: Sequence[pytest.Item]) -> Assignment:
        result = Assignment()
        stages = result.stages
        sources = result.sources
        # Nobody implements the hook in most projects: then do not ask for every test.
        use_hook = bool(self.config.pluginmanager.hook.pytest_pipeline_item_stage.get_hookimpls())
        for item in items:
            stage: str | None = self._from_hook(item) if use_hook else None
            source: Source = "hook"
            if stage is None:
                stage = self._from_markers(item)
                source = "marker"
            if stage is None:
                found = self._from_path(item.path)
                if found is None:
                    stage, source = self.default, "default"
                    result.defaulted.append(item.nodeid)
                else:
                    stage, source = found
            item.stash[STAGE_KEY] = stage
            stages.append(stage)
            sources[source] += 1
        result.problems = list(self._problems)
        return result

    # ----------------------------------------------------------------- hook

    def _from_hook(self, item: pytest.Item) -> str | None:
        path = item.path
        caller = self._hook_callers.get(path, _MISSING)
        if caller is _MISSING:
            # item.ihook builds a fresh subset caller per call when conftests differ;
            # every test of one file sees the same conftests, so cache it per file.
            caller = item.ihook.pytest_pipeline_item_stage
            if not caller.get_hookimpls():
                caller = None
            self._hook_callers[path] = caller
        if caller is None:
            return None
        stage = caller(item=item, config=self.config)
        if stage is None or stage in self._known:
            return stage  # type: ignore[no-any-return]
        self._problem(
            item.nodeid,
            f"pytest_pipeline_item_stage returned {stage!r}, which is not a declared stage; "
            f"return one of {', '.join(self.names)} or None",
        )
        return None

    # ----------------------------------------------------------------- markers

    def _from_markers(self, item: pytest.Item) -> str | None:
        own = item.own_markers
        if own:
            callspec = getattr(item, "callspec", None)
            param_marks = callspec.marks if callspec is not None else ()
            if param_marks:
                # pytest.param(..., marks=...) is closer than the function's decorators.
                stage = self._stage_in(param_marks, item.nodeid)
                if stage is not None:
                    return stage
                own = [mark for mark in own if not any(mark is p for p in param_marks)]
            stage = self._stage_in(own, item.nodeid)
            if stage is not None:
                return stage
        parent = item.parent
        return None if parent is None else self._closest_above(parent)

    def _closest_above(self, node: pytest.Collector | Any) -> str | None:
        """The closest explicit stage on ``node`` or its parents, cached per node."""
        key = id(node)
        cached = self._inherited.get(key, _MISSING)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        stage = self._node_stage(node)
        if stage is None and node.parent is not None:
            stage = self._closest_above(node.parent)
        self._inherited[key] = stage
        return stage

    def _node_stage(self, node: Any) -> str | None:
        marks = node.own_markers
        if not marks:
            return None
        if not isinstance(node, pytest.Class):
            return self._stage_in(marks, node.nodeid)
        # A class's own_markers hold the marks of its whole MRO, base classes first: when
        # they disagree, the most derived class that declares a stage is the closest one.
        stages = {stage for stage in (self._mark_stage(m, node.nodeid) for m in marks) if stage}
        if len(stages) > 1:
            return self._stage_from_mro(node)
        return next(iter(stages), None)

    def _stage_from_mro(self, node: Any) -> str | None:
        for klass in getattr(node.obj, "__mro__", ()):
            declared = klass.__dict__.get("pytestmark", [])
            if not isinstance(declared, list):
                declared = [declared]
            stage = self._stage_in([getattr(m, "mark", m) for m in declared], node.nodeid)
            if stage is not None:
                return stage
        return None

    def _stage_in(self, marks: Iterable[Any], where: str) -> str | None:
        """The stage the marks of one level give; two different ones are an error."""
        found: str | None = None
        for mark in marks:
            stage = self._mark_stage(mark, where)
            if stage is None:
                continue
            if found is None:
                found = stage
            elif stage != found:
                self._problem(
                    where, f"markers give two different stages ({found}, {stage}) at the same level; keep one"
                )
        return found

    def _mark_stage(self, mark: Any, where: str) -> str | None:
        name = mark.name
        if name in self._known:
            return str(name)
        if name != "stage":
            return None
        args: tuple[Any, ...] = mark.args or ((mark.kwargs["name"],) if "name" in mark.kwargs else ())
        if len(args) != 1 or not isinstance(args[0], str):
            self._problem(
                where,
                "@pytest.mark.stage needs exactly one stage name, "
                f'e.g. @pytest.mark.stage("{self.names[-1]}"); declared stages: {", ".join(self.names)}',
            )
            return None
        if args[0] not in self._known:
            self._problem(
                where,
                f"@pytest.mark.stage({args[0]!r}) names an unknown stage; "
                f"use one of {', '.join(self.names)} or declare it in [tool.pytest-pipeline] stages",
            )
            return None
        stage: str = args[0]
        return stage

    # ----------------------------------------------------------------- paths

    def _from_path(self, path: Path) -> tuple[str, Source] | None:
        try:
            relpath = self._relpaths[path]
        except KeyError:
            try:
                relpath = path.relative_to(self.rootpath).as_posix()
            except ValueError:
                relpath = None  # outside rootdir: path rules do not apply
            self._relpaths[path] = relpath
        return self.stage_for_relpath(relpath)

    def stage_for_relpath(self, relpath: str | None) -> tuple[str, Source] | None:
        """The path rule or stage directory for a rootdir-relative ``a/b/test_c.py``."""
        if relpath in self._path_stages:
            return self._path_stages[relpath]
        found: tuple[str, Source] | None = None
        if relpath is not None:
            for rule in self.rules:  # declared order: the first matching rule wins
                if rule.matches(relpath):
                    found = (rule.stage, "path")
                    break
            if found is None and self.directories:
                # the deepest directory named after a stage wins
                for part in reversed(relpath.split("/")[:-1]):
                    if part in self._known:
                        found = (part, "directory")
                        break
        self._path_stages[relpath] = found
        return found

    def _problem(self, nodeid: str, message: str) -> None:
        self._problems[(nodeid, f"{nodeid}: {message}")] = None


# --------------------------------------------------------------------------- selection


def select_and_order(
    items: Sequence[pytest.Item],
    stages: Sequence[str],
    selected: tuple[str, ...] | None,
    order: Mapping[str, int],
) -> tuple[list[pytest.Item], list[pytest.Item]]:
    """(kept items in stage order, deselected items). Stable within a stage.

    ``stages`` is aligned with ``items``; ``selected`` None keeps every stage.
    """
    if selected is None:
        kept_pairs = list(zip(items, stages, strict=True))
        deselected: list[pytest.Item] = []
    else:
        wanted = frozenset(selected)
        kept_pairs = []
        deselected = []
        for item, stage in zip(items, stages, strict=True):
            if stage in wanted:
                kept_pairs.append((item, stage))
            else:
                deselected.append(item)
    indices = [order[stage] for _, stage in kept_pairs]
    if any(a > b for a, b in itertools.pairwise(indices)):
        positions = sorted(range(len(kept_pairs)), key=indices.__getitem__)  # sorted() is stable
        kept = [kept_pairs[i][0] for i in positions]
    else:
        kept = [item for item, _ in kept_pairs]
    return kept, deselected


def strict_error(defaulted: Sequence[str], default_stage: str, limit: int = 5) -> str:
    """The one-line strict-mode error listing tests that only got the default stage."""
    shown = ", ".join(defaulted[:limit])
    more = f" (and {len(defaulted) - limit} more)" if len(defaulted) > limit else ""
    count = len(defaulted)
    return (
        f"strict stages: {count} test{'s' if count != 1 else ''} got stage {default_stage!r} only from the "
        f"default: {shown}{more}; give them a stage marker, a [tool.pytest-pipeline.paths] rule or a stage "
        "directory, or turn strict-stages off"
    )
