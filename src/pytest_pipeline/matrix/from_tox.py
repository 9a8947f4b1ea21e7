"""Ask tox 4 for a project's environments: ``tox config -e ALL -k ...``.

tox resolves its own configuration (factors, ``{[testenv]deps}`` references,
``tox.toml``, ``[tool.tox]``, plugins that add environments) and we never re-parse its
files. Recent tox prints JSON (``--format json``); older 4.x releases only print the
INI-like text, which every tox 4 release prints the same way, so we fall back to it.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_pipeline.errors import PipelineError
from pytest_pipeline.matrix.listing import EnvInfo, Listing
from pytest_pipeline.matrix.toolrun import Completed, Runner, ToolTimeout, first_error_line, run_tool

ENV_KEYS: tuple[str, ...] = (
    "description",
    "base_python",
    "commands_pre",
    "commands",
    "commands_post",
    "deps",
    "dependency_groups",
    "extras",
    "constraints",
    "labels",
    "skip_install",
    "use_develop",
    "package",
    "package_env",
    "wheel_build_env",
    "set_env",
    "pass_env",
    "change_dir",
    "allowlist_externals",
    "runner",
    "uv_resolution",
    "env_dir",
    "depends",
    "ignore_outcome",
    "ignore_errors",
    "platform",
    "system_site_packages",
)
"""Settings read for every environment; a key an older tox lacks is simply absent.

None of them makes tox look for an interpreter, so a missing Python does not slow
discovery down or turn into an error here (``env_python`` or ``py_impl`` would)."""
CORE_KEYS: tuple[str, ...] = ("env_list", "labels", "work_dir", "skip_missing_interpreters", "min_version")

LIST_KEYS = frozenset(
    {
        "base_python",
        "commands_pre",
        "commands",
        "commands_post",
        "deps",
        "dependency_groups",
        "extras",
        "constraints",
        "labels",
        "pass_env",
        "allowlist_externals",
        "depends",
        "env_list",
    }
)
BOOL_KEYS = frozenset(
    {
        "skip_install",
        "use_develop",
        "ignore_outcome",
        "ignore_errors",
        "skip_missing_interpreters",
        "system_site_packages",
    }
)

# Files tox reads its configuration from, in tox 4's order of preference.
CONFIG_FILES = ("tox.ini", "setup.cfg", "pyproject.toml", "tox.toml")


def tox_command() -> list[str]:
    """tox as installed beside this package: the version we tested against, and the
    one whose plugins (ours included) see the same environment list."""
    return [sys.executable, "-m", "tox"]


def tox_version() -> str:
    try:
        return importlib.metadata.version("tox")
    except importlib.metadata.PackageNotFoundError:
        raise PipelineError(
            f"tox is not installed for {sys.executable}; "
            "install it (pip install 'tox>=4.14') or use --tool nox"
        ) from None


def config_file(project_dir: Path) -> str | None:
    """The file tox would read in ``project_dir``, or None if it has none."""
    for name in CONFIG_FILES:
        path = project_dir / name
        if not path.is_file():
            continue
        if name in {"tox.ini", "tox.toml"}:
            return name
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if name == "setup.cfg" and re.search(r"^\[tox:tox\]", text, re.MULTILINE):
            return name
        if name == "pyproject.toml" and re.search(r"^\[tool\.tox[\].]", text, re.MULTILINE):
            return name
    return None


def query(
    project_dir: Path,
    env: Mapping[str, str],
    *,
    runner: Runner = run_tool,
    command: Sequence[str] | None = None,
    version: str | None = None,
    source_format: str = "json",
) -> Listing:
    """Every environment tox knows in ``project_dir``, with the settings in :data:`ENV_KEYS`."""
    command = list(command or tox_command())
    version = version or tox_version()
    where = config_file(project_dir) or "tox configuration"
    base = [*command, "config", "-c", str(project_dir), "-e", "ALL", "--hashseed", "notset"]
    keys = ["-k", *ENV_KEYS, *CORE_KEYS]
    if source_format == "json":
        with tempfile.TemporaryDirectory(prefix="pytest-pipeline-tox-") as tmp:
            out = Path(tmp) / "config.json"
            done = _run(runner, [*base, "--format", "json", "-o", str(out), *keys], project_dir, env)
            if _rejects_options(done):
                return query(
                    project_dir, env, runner=runner, command=command, version=version, source_format="ini"
                )
            text = out.read_text(encoding="utf-8") if out.is_file() else ""
        if not text.strip():
            raise _load_error(where, done, project_dir)
        try:
            data = json.loads(text)
        except ValueError:
            raise _load_error(where, done, project_dir) from None
        core, envs = parse_json(data)
    else:
        done = _run(runner, [*base, *keys], project_dir, env)
        if "[testenv:" not in done.stdout:
            raise _load_error(where, done, project_dir)
        core, envs = parse_ini(done.stdout)
    return build_listing(core, envs, version=version, config_file=where, source_format=source_format)


def _run(runner: Runner, argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> Completed:
    try:
        return runner(argv, cwd, env)
    except ToolTimeout as exc:
        raise PipelineError(f"{cwd}: tox did not answer: {exc}; run `tox config` there to see why") from None
    except OSError as exc:
        raise PipelineError(f"cannot run tox ({exc.strerror}); install it beside pytest-pipeline") from None


def _rejects_options(done: Completed) -> bool:
    """tox older than ``--format``/``-o`` stops at argument parsing."""
    text = done.stdout + done.stderr
    return done.returncode != 0 and ("unrecognized arguments" in text or "invalid choice" in text)


def _load_error(where: str, done: Completed, project_dir: Path) -> PipelineError:
    line = first_error_line(done.stdout + "\n" + done.stderr, project_dir)
    return PipelineError(
        f"{project_dir / where}: tox cannot load it: {line}; fix it (`tox config` shows the same error)"
    )


# --------------------------------------------------------------------------- parsing


def parse_json(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """``{"env": {name: {key: value}}, "tox": {...}}`` -> (core, envs)."""
    envs = data.get("env", {})
    core = data.get("tox", {})
    if not isinstance(envs, dict) or not isinstance(core, dict):
        raise ValueError("unexpected tox config JSON")
    return dict(core), {str(name): dict(values) for name, values in envs.items()}


_SECTION = re.compile(r"^\[(?:testenv:(?P<env>.+)|(?P<core>tox))\]\s*$")
_KEY = re.compile(r"^(?P<key>[A-Za-z_][A-Za-z0-9_]*) =(?: (?P<value>.*))?$")
_EXCEPTION = "# Exception: "


def parse_ini(text: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The text ``tox config`` prints without ``--format`` -> (core, envs).

    Multi-line values are indented by two spaces; a value that failed to load is
    printed as ``# Exception: ...`` and becomes ``{"error": ...}`` as in the JSON form.
    """
    core: dict[str, Any] = {}
    envs: dict[str, dict[str, Any]] = {}
    raw: dict[str, list[str]] | None = None
    raw_by_section: list[tuple[dict[str, Any], dict[str, list[str]]]] = []
    key: str | None = None
    for line in text.splitlines():
        section = _SECTION.match(line)
        if section:
            env_name = section.group("env")
            target: dict[str, Any] = core if env_name is None else envs.setdefault(env_name, {})
            raw = {}
            raw_by_section.append((target, raw))
            key = None
            continue
        if raw is None:
            continue  # anything tox logged before the first section
        if line.startswith("  ") and key is not None:
            raw[key].append(line[2:])
            continue
        match = _KEY.match(line)
        if match:
            key = match.group("key")
            value = match.group("value")
            raw[key] = [] if value is None else [value]
    for target, values in raw_by_section:
        for name, lines in values.items():
            target[name] = _ini_value(name, lines, is_core=target is core)
    return core, envs


def _ini_value(key: str, lines: list[str], *, is_core: bool) -> Any:
    if len(lines) == 1 and lines[0].startswith(_EXCEPTION):
        return {"error": lines[0][len(_EXCEPTION) :]}
    if is_core and key == "labels":
        labels: dict[str, list[str]] = {}
        current: list[str] | None = None
        for line in lines:
            if "=" in line:
                name, _, first = line.partition("=")
                current = labels.setdefault(name.strip(), [])
                if first.strip():
                    current.append(first.strip())
            elif current is not None and line.strip():
                current.append(line.strip())
        return labels
    if key == "set_env":
        result: dict[str, str] = {}
        for line in lines:
            name, sep, value = line.partition("=")
            if sep:
                result[name.strip()] = value
        return result
    if key in LIST_KEYS:
        return [line for line in lines if line.strip()]
    if key in BOOL_KEYS and len(lines) == 1 and lines[0].strip() in ("True", "False"):
        # skip_missing_interpreters may also be "config": only literal booleans convert
        return lines[0].strip() == "True"
    return "\n".join(lines)


# --------------------------------------------------------------------------- listing


def build_listing(
    core: Mapping[str, Any],
    envs: Mapping[str, Mapping[str, Any]],
    *,
    version: str,
    config_file: str,
    source_format: str,
) -> Listing:
    """Drop tox's packaging environments and attach labels and the default selection."""
    packaging = {
        str(values.get(key))
        for values in envs.values()
        for key in ("package_env", "wheel_build_env")
        if isinstance(values.get(key), str)
    }
    env_list = [str(name) for name in _as_list(core.get("env_list"))]
    core_labels = core.get("labels") if isinstance(core.get("labels"), dict) else {}
    assert isinstance(core_labels, dict)
    infos: list[EnvInfo] = []
    for name, values in envs.items():
        # A packaging environment builds the sdist/wheel and has no commands of its own.
        if name in packaging or "commands" not in values:
            continue
        errors = {
            key: str(value["error"])
            for key, value in values.items()
            if key != "set_env" and isinstance(value, dict) and set(value) == {"error"}
        }
        config = {key: value for key, value in values.items() if key not in errors}
        labels = [str(label) for label in _as_list(config.get("labels"))]
        labels += [str(label) for label, members in core_labels.items() if name in _as_list(members)]
        infos.append(
            EnvInfo(
                name=name,
                default=(name in env_list) if env_list else True,
                labels=tuple(dict.fromkeys(labels)),
                config=config,
                errors=errors,
            )
        )
    # tox's own order is the order people wrote env_list in; keep it, others after.
    order = {name: index for index, name in enumerate(env_list)}
    infos.sort(key=lambda info: order.get(info.name, len(order)))
    settings = {key: value for key, value in core.items() if key in CORE_KEYS}
    return Listing(
        tool="tox",
        tool_version=version,
        config_file=config_file,
        envs=tuple(infos),
        source_format=source_format,
        settings=settings,
    )


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [value] if value.strip() else []
    return [value]


def unwritable_work_dir(project_dir: Path) -> PipelineError | None:
    """The error to give instead of tox's when tox could not write its work folder.

    tox creates ``.tox`` even to show its configuration, so in a read-only project
    ``tox config`` fails with an OSError that reads like a broken tox.ini. None when the
    folder is writable (then tox's own error stands)."""
    import os

    folder = project_dir / ".tox" if (project_dir / ".tox").is_dir() else project_dir
    if os.access(folder, os.W_OK):
        return None
    read_only = hasattr(os, "statvfs") and bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    why = "a read-only file system" if read_only else "no write permission"
    return PipelineError(
        f"{folder}: cannot be written ({why}), and tox writes its work folder .tox there even to list "
        "environments; make it writable, or run on a writable copy of the project"
    )
