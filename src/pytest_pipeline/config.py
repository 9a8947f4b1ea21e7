"""``[tool.pytest-pipeline]`` in ``pyproject.toml`` -> frozen dataclasses.

This is the one place a project declares its stages and their settings; the pytest
plugin and the orchestrator both read it through :func:`load`. The plugin imports this
module in every test run, so it depends on the standard library only (``tomli`` on 3.10,
which pytest itself already requires there).

Sections owned by other parts of the tool (``gate``, ``run``, ``matrix``, ``hook``) are kept here
as plain tables and validated by their owners with :class:`Table`, so that every
section reports unknown keys and wrong types the same way.

PYTEST_DONT_REWRITE: the pytest plugin imports this module in every test run; see plugin.py.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, cast
from urllib.parse import urlsplit

from pytest_pipeline import envvars
from pytest_pipeline.errors import ConfigError
from pytest_pipeline.globs import path_glob

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

TABLE = "tool.pytest-pipeline"
CONFIG_ENV = envvars.CONFIG
"""Environment variable naming the pyproject.toml to read, set by the orchestrator so a
cell that changes directory still reads the project's settings."""

DEFAULT_STAGES = ("unit", "integration", "smoke")
DEFAULT_REPORTS_DIR = "pipeline-reports"

# Stage names double as marker names (``@pytest.mark.smoke``), so they must be
# identifiers and must not shadow pytest's own markers or ours.
_STAGE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RESERVED_STAGE_NAMES = frozenset(
    {"all", "stage", "skip", "skipif", "xfail", "parametrize", "usefixtures", "filterwarnings", "flaky"}
)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}

T = TypeVar("T")


# --------------------------------------------------------------------------- values


def check_number(value: float, where: str) -> float:
    """Every number in the configuration is a duration or a count: finite and not negative.

    TOML has ``nan`` and ``inf``, and neither is a time or a count (``ready-timeout = nan``
    would skip a wait or wait forever, depending on the comparison)."""
    finite = not isinstance(value, float) or math.isfinite(value)
    if not finite or value < 0:
        raise ConfigError(f"{where}: must be a finite, non-negative number, got {value!r}")
    return value


def parse_duration(value: object, where: str) -> float:
    """Seconds from ``1.5``, ``"250ms"``, ``"2s"``, ``"1m"``; ``where`` names the key."""
    if isinstance(value, bool):
        raise ConfigError(f"{where}: expected a duration such as 1.5 or '250ms', got {value!r}")
    if isinstance(value, (int, float)):
        return float(check_number(value, where))
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            # A string of 400 digits is a float too large to be anything but inf.
            return check_number(float(match.group(1)) * _DURATION_UNITS[match.group(2)], where)
    raise ConfigError(
        f"{where}: {value!r} is not a duration; write seconds (1.5) or a string like '250ms', '2s', '1m'"
    )


def format_duration(seconds: float) -> str:
    """``15s``, ``5m``, ``5m12s``, ``1h``, ``1h30m``: a duration as people write it
    (the way :func:`parse_duration` reads it, seconds rounded).

    Not a measured time: it says a configured limit or a waiting time back in the
    configuration's own words (``timed out after 5m``); measured times are
    :func:`pytest_pipeline.runner.summary.format_seconds`'s."""
    whole = round(seconds)
    if whole < 60:
        return f"{seconds:g}s" if seconds < 10 and seconds != whole else f"{whole}s"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m{secs}s" if secs else f"{minutes}m"


@dataclass(frozen=True)
class ReadyTarget:
    """Something that must answer before a stage's first test: an HTTP(S) URL that
    answers 2xx/3xx, or a TCP ``host:port`` that accepts a connection."""

    kind: Literal["http", "tcp"]
    target: str
    host: str
    port: int

    def __str__(self) -> str:
        return self.target


def parse_ready_target(value: object, where: str) -> ReadyTarget:
    """``http://host:port/path``, ``https://...``, ``tcp://host:port`` or ``host:port``."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: expected a URL or host:port string, got {value!r}")
    text = value.strip()
    fix = "write an http(s):// URL or tcp://host:port (or host:port)"
    text_for_split = f"tcp://{text}" if "://" not in text else text
    try:
        parts = urlsplit(text_for_split)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"{where}: {value!r} does not parse ({exc}); {fix}") from None
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if scheme in ("http", "https"):
        if not host:
            raise ConfigError(f"{where}: {value!r} has no host; {fix}")
        return ReadyTarget("http", text, host, port or (443 if scheme == "https" else 80))
    if scheme == "tcp":
        if not host or port is None:
            raise ConfigError(f"{where}: {value!r} needs both a host and a port; {fix}")
        return ReadyTarget("tcp", text, host, port)
    raise ConfigError(f"{where}: unsupported scheme {parts.scheme!r} in {value!r}; {fix}")


def check_stage_name(name: object, where: str) -> str:
    if not isinstance(name, str) or not _STAGE_NAME.match(name):
        raise ConfigError(
            f"{where}: stage name {name!r} must be an identifier (letters, digits, underscore), "
            "because it is also a marker name"
        )
    if name in RESERVED_STAGE_NAMES:
        raise ConfigError(
            f"{where}: {name!r} is reserved (a pytest or pytest-pipeline marker); pick another name"
        )
    return name


# --------------------------------------------------------------------------- tables


class Table:
    """Typed, checked access to one TOML table; every error names the full key.

    Every number read through it is finite and not negative (:func:`check_number`): the
    configuration's numbers are durations and counts, whichever table they are in.

    Owners of a section read each key they know with :meth:`get` and finish with
    :meth:`done`, which rejects any key nobody read (a typo would otherwise be ignored).
    """

    def __init__(self, data: Mapping[str, Any], path: str, source: str) -> None:
        self.data = data
        self.path = path
        self.source = source
        self._seen: set[str] = set()

    def where(self, key: str) -> str:
        return f"{self.source}: [{self.path}] {key}"

    def get(self, key: str, kind: type[T] | tuple[type, ...], default: T) -> T:
        self._seen.add(key)
        if key not in self.data:
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # bool is an int in Python but never a valid number in a config file
        if isinstance(value, bool) and bool not in kinds:
            ok = False
        elif float in kinds and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        else:
            ok = isinstance(value, kinds)
        if not ok:
            names = " or ".join(_type_name(k) for k in kinds)
            raise ConfigError(f"{self.where(key)}: expected {names}, got {_type_name(type(value))} {value!r}")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            check_number(value, self.where(key))
        return cast("T", value)  # checked against ``kind`` just above

    def get_str_list(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value: list[Any] | str | None = self.get(key, (list, str), None)
        if value is None:
            return default
        items = [value] if isinstance(value, str) else value
        for item in items:
            if not isinstance(item, str):
                raise ConfigError(f"{self.where(key)}: expected a list of strings, found {item!r}")
        return tuple(items)

    def sub(self, key: str) -> Table:
        value = self.get(key, dict, {})
        return Table(value, f"{self.path}.{key}", self.source)

    def done(self) -> None:
        unknown = sorted(set(self.data) - self._seen)
        if unknown:
            known = ", ".join(sorted(self._seen)) or "(none)"
            raise ConfigError(
                f"{self.source}: [{self.path}] has unknown key {unknown[0]!r}; known keys: {known}"
            )

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)


def _type_name(kind: type) -> str:
    return {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "true or false",
        list: "a list",
        dict: "a table",
    }.get(kind, kind.__name__)


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class StageSettings:
    """One stage: its place in the order and what the plugin and orchestrator do for it."""

    name: str
    retries: int = 0
    retry_delay: float = 0.0
    ready: tuple[ReadyTarget, ...] = ()
    ready_timeout: float = 30.0
    budget: float | None = None
    """Per-test time budget in seconds (call phase), or None for no budget."""
    cells: tuple[str, ...] = ()
    """Globs of cells this stage runs in (orchestrator); empty means every cell."""


@dataclass(frozen=True)
class PathRule:
    """``"tests/e2e/**" = "smoke"``: tests under a path matching ``pattern`` get ``stage``."""

    pattern: str
    stage: str
    regex: re.Pattern[str] = field(compare=False, repr=False)

    def matches(self, relpath: str) -> bool:
        """``relpath`` is the test file's path relative to rootdir, with ``/`` separators."""
        return self.regex.match(relpath) is not None


@dataclass(frozen=True)
class PipelineConfig:
    source: Path | None
    """The pyproject.toml this came from, or None for built-in defaults."""
    stages: tuple[StageSettings, ...] = tuple(StageSettings(name) for name in DEFAULT_STAGES)
    default_stage: str = "unit"
    strict_stages: bool = False
    stage_block: bool = True
    stage_directories: bool = True
    """A directory named after a stage anywhere in a test's path assigns that stage."""
    path_rules: tuple[PathRule, ...] = ()
    reports_dir: str = DEFAULT_REPORTS_DIR
    stages_declared: bool = False
    """The project wrote its own ``stages`` list (rather than using the defaults)."""
    gate: Mapping[str, Any] = field(default_factory=dict)
    run: Mapping[str, Any] = field(default_factory=dict)
    matrix: Mapping[str, Any] = field(default_factory=dict)
    hook: Mapping[str, Any] = field(default_factory=dict)
    """``[tool.pytest-pipeline.hook]``: the git pre-push hook (``pytest_pipeline.ci.githook``)."""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(stage.name for stage in self.stages)

    def stage(self, name: str) -> StageSettings:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)

    def table(self, section: Literal["gate", "run", "matrix", "hook"]) -> Table:
        """A checked view of a section for its owner to validate."""
        data = {"gate": self.gate, "run": self.run, "matrix": self.matrix, "hook": self.hook}[section]
        return Table(data, f"{TABLE}.{section}", str(self.source or "pyproject.toml"))


def find_pyproject(start: Path) -> Path | None:
    """The pyproject.toml in ``start`` or its nearest parent that has one."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_option(path: str | None) -> PipelineConfig:
    """A command's settings: its ``--config PYPROJECT`` (which must exist: a typo must not
    quietly mean the defaults), else the nearest pyproject.toml, else the defaults."""
    if path is None:
        return load(find_pyproject(Path.cwd()))
    if not Path(path).is_file():
        raise ConfigError(f"--config {path}: no such file; point it at the project's pyproject.toml")
    return load(Path(path))


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot be read ({exc.strerror}); check the path and its permissions"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: is not valid TOML ({exc}); fix the syntax") from None


def load(path: Path | None = None, *, environ: Mapping[str, str] | None = None) -> PipelineConfig:
    """Read ``[tool.pytest-pipeline]`` from ``path`` (or ``$PYTEST_PIPELINE_CONFIG``).

    A missing file or a file without the table gives the defaults.
    """
    env = os.environ if environ is None else environ
    if env.get(CONFIG_ENV):
        path = Path(env[CONFIG_ENV])
        if not path.is_file():
            raise ConfigError(f"{CONFIG_ENV}={path}: no such file; point it at the project's pyproject.toml")
    if path is None or not path.is_file():
        return PipelineConfig(source=None)
    data = read_toml(path)
    section = data.get("tool", {}).get("pytest-pipeline")
    if section is None:
        return PipelineConfig(source=path)
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [{TABLE}] must be a table")
    return from_table(section, path)


def from_table(section: Mapping[str, Any], source: Path) -> PipelineConfig:
    table = Table(section, TABLE, str(source))
    names = table.get_str_list("stages", DEFAULT_STAGES)
    if not names:
        raise ConfigError(f"{table.where('stages')}: declare at least one stage")
    seen: set[str] = set()
    for name in names:
        check_stage_name(name, table.where("stages"))
        if name in seen:
            raise ConfigError(f"{table.where('stages')}: stage {name!r} is listed twice; keep one")
        seen.add(name)

    # "unit" when the project has one (the default), else its first stage.
    default_stage = table.get("default-stage", str, "unit" if "unit" in seen else names[0])
    if default_stage not in seen:
        raise ConfigError(
            f"{table.where('default-stage')}: {default_stage!r} is not a declared stage; "
            f"choose one of {', '.join(names)}"
        )

    per_stage = table.sub("stage")
    for name in per_stage:
        if name not in seen:
            raise ConfigError(
                f"{per_stage.where(name)}: settings for unknown stage {name!r}; "
                f"declared stages are {', '.join(names)}"
            )
    stages = tuple(_stage_settings(name, per_stage.sub(name)) for name in names)
    per_stage._seen.update(per_stage.data)

    rules_table = table.sub("paths")
    rules: list[PathRule] = []
    for pattern in rules_table:
        stage = rules_table.get(pattern, str, "")
        where = rules_table.where(repr(pattern))
        if stage not in seen:
            raise ConfigError(f"{where}: unknown stage {stage!r}; declared stages are {', '.join(names)}")
        rules.append(PathRule(pattern, stage, path_glob(pattern, where)))

    config = PipelineConfig(
        source=source,
        stages=stages,
        default_stage=default_stage,
        strict_stages=table.get("strict-stages", bool, False),
        stage_block=table.get("stage-block", bool, True),
        stage_directories=table.get("stage-directories", bool, True),
        path_rules=tuple(rules),
        reports_dir=table.get("reports-dir", str, DEFAULT_REPORTS_DIR),
        stages_declared="stages" in section,
        gate=table.get("gate", dict, {}),
        run=table.get("run", dict, {}),
        matrix=table.get("matrix", dict, {}),
        hook=table.get("hook", dict, {}),
    )
    table.done()
    return config


def _stage_settings(name: str, table: Table) -> StageSettings:
    retries = table.get("retries", int, 0)
    delay = parse_duration(table.get("retry-delay", (int, float, str), 0), table.where("retry-delay"))
    ready_raw: str | list[object] = table.get("ready", (str, list), [])
    ready_items: list[object] = [ready_raw] if isinstance(ready_raw, str) else ready_raw
    ready = tuple(parse_ready_target(item, table.where("ready")) for item in ready_items)
    timeout = parse_duration(table.get("ready-timeout", (int, float, str), 30), table.where("ready-timeout"))
    budget_raw = table.get("budget", (int, float, str), None)
    budget = None if budget_raw is None else parse_duration(budget_raw, table.where("budget"))
    cells = table.get_str_list("cells")
    table.done()
    return StageSettings(
        name=name,
        retries=retries,
        retry_delay=delay,
        ready=ready,
        ready_timeout=timeout,
        budget=budget,
        cells=cells,
    )
