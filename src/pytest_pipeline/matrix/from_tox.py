"""Ask tox 4 for a project's environments: ``tox config -e ALL -k ...``.

tox resolves its own configuration (factors, ``{[testenv]deps}`` references,
``tox.toml``, ``[tool.tox]``, plugins that add environments) and we never re-parse its
files. Recent tox prints JSON (``--format json``); older 4.x releases only print the
INI-like text, which every tox 4 release prints the same way, so we fall back to it.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_pipeline import installed
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
    "env_tmp_dir",
    "env_log_dir",
    "depends",
    "ignore_outcome",
    "ignore_errors",
    "platform",
    "system_site_packages",
    # How tox makes the environment and runs its commands (see runner/tox_route.py):
    "install_command",
    "pip_pre",
    "constrain_package_deps",
    "use_frozen_constraints",
    "pylock",
    "extra_setup_commands",
    "disallow_pass_env",
    "commands_retry",
    "interrupt_post_commands",
    "uv_seed",
    "uv_python_preference",
    "always_copy",
    "download",
    "virtualenv_spec",
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
        "extra_setup_commands",
        "disallow_pass_env",
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
        "pip_pre",
        "constrain_package_deps",
        "use_frozen_constraints",
        "interrupt_post_commands",
        "uv_seed",
        "always_copy",
        "download",
    }
)

INT_KEYS = frozenset({"commands_retry"})

# Files tox reads its configuration from, in tox 4's order of preference.
CONFIG_FILES = ("tox.ini", "setup.cfg", "pyproject.toml", "tox.toml")

WORK_DIR = Path(".tox") / ".pipeline"
"""tox's ``--workdir`` for every cell, relative to the project: our environments live
beside tox's own (``.tox/<env>``), never in them, and everything tox resolves from the
work folder (``env_dir``, ``{envpython}``, ``{env_tmp_dir}``, ``{toxworkdir}``, ...) points
where the cell really runs. Discovery asks ``tox config`` with the same ``--workdir`` the
cells later run with, so the commands need no rewriting."""


def tox_command() -> list[str]:
    """tox as installed beside this package: the version we tested against, and the
    one whose plugins (ours included) see the same environment list."""
    return [sys.executable, "-m", "tox"]


def tox_version() -> str:
    version = installed.version("tox")
    if version is None:
        raise PipelineError(
            f"tox is not installed for {sys.executable}; "
            "install it (pip install 'tox>=4.14') or use --tool nox"
        )
    return version


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
    """Every environment tox knows in ``project_dir``, with the settings in :data:`ENV_KEYS`,
    as tox resolves them with ``--workdir`` :data:`WORK_DIR` (where the cells run)."""
    command = list(command or tox_command())
    version = version or tox_version()
    where = config_file(project_dir) or "tox configuration"
    work_dir = project_dir / WORK_DIR
    base = [*command, "config", "-c", str(project_dir), "-e", "ALL", "--hashseed", "notset"]
    base += ["--workdir", str(work_dir)]
    keys = ["-k", *ENV_KEYS, *CORE_KEYS]
    if source_format == "json":
        done, data = _json_config(runner, base, keys, project_dir, env)
        if _rejects_options(done):
            return query(
                project_dir,
                env,
                runner=runner,
                command=command,
                version=version,
                source_format="ini",
            )
        if data is None:
            data = _one_by_one(runner, base, project_dir, env, first=done)
        if data is None:
            raise _load_error(where, done, project_dir)
        core, envs = parse_json(data)
    else:
        done = _run(runner, [*base, *keys], project_dir, env)
        if "[testenv:" not in done.stdout:
            raise _load_error(where, done, project_dir)
        core, envs = parse_ini(done.stdout)
    _add_unavailable(envs, done)
    return build_listing(core, envs, version=version, config_file=where, source_format=source_format)


_UNAVAILABLE = re.compile(r"environment (?P<env>\S+) marked as unavailable, (?P<why>.+?)\s*$", re.MULTILINE)


def _add_unavailable(envs: dict[str, dict[str, Any]], done: Completed) -> None:
    """Environments ``tox config`` leaves out because their runner is not installed (a
    ``runner = uv-venv-lock-runner`` without tox-uv): tox still lists them and fails
    them when run, so they stay cells, with the settings it could not resolve marked
    :data:`UNRESOLVED`; such a cell runs through tox, which says what is wrong."""
    for match in _UNAVAILABLE.finditer(done.stdout + "\n" + done.stderr):
        name = match.group("env")
        if name not in envs:
            why = f"environment {name} marked as unavailable, {match.group('why')}"
            envs[name] = {key: {"error": UNRESOLVED + why} for key in _RISKY}


def _json_config(
    runner: Runner, base: Sequence[str], keys: Sequence[str], cwd: Path, env: Mapping[str, str]
) -> tuple[Completed, dict[str, Any] | None]:
    """``tox config ... --format json``: what tox printed, and its answer (None: none)."""
    with tempfile.TemporaryDirectory(prefix="pytest-pipeline-tox-") as tmp:
        out = Path(tmp) / "config.json"
        done = _run(runner, [*base, "--format", "json", "-o", str(out), *keys], cwd, env)
        text = out.read_text(encoding="utf-8") if out.is_file() else ""
    try:
        data = json.loads(text) if text.strip() else None
    except ValueError:
        return done, None
    return done, data if isinstance(data, dict) else None


UNRESOLVED = "tox could not resolve this environment's settings: "
"""Start of the error given to ``commands`` of an environment ``tox config`` fails on (see
:func:`_one_by_one`): it is treated like a missing interpreter's (``matrix.cells``)."""
_RISKY = frozenset({"commands_pre", "commands", "commands_post", "set_env"})


def _one_by_one(
    runner: Runner, base: Sequence[str], cwd: Path, env: Mapping[str, str], *, first: Completed
) -> dict[str, Any] | None:
    """``tox config -e ALL`` stops at the first environment whose settings need its
    interpreter (``{env_site_packages_dir}``) when that interpreter is missing: tox-uv
    then fails to make the environment, and tox prints nothing at all. Ask for the names,
    then for all of them again without each one tox stops at (its folder shows in tox's
    output; when it does not, each environment alone). An environment tox fails on gets
    the settings that need no interpreter and an :data:`UNRESOLVED` error for the rest."""
    index = list(base).index("ALL")
    work_dir = base[list(base).index("--workdir") + 1]
    _, listing = _json_config(runner, base, ["-k", "env_dir", *CORE_KEYS], cwd, env)
    if listing is None or not isinstance(listing.get("env"), dict):
        return None

    def ask(names: Sequence[str], keys: Sequence[str]) -> tuple[Completed, dict[str, Any] | None]:
        return _json_config(
            runner, [*base[:index], ",".join(names), *base[index + 1 :]], ["-k", *keys], cwd, env
        )

    remaining, envs, failed = list(listing["env"]), {}, {}
    culprit = _culprit(first, remaining, work_dir)  # the environment -e ALL stopped at
    if culprit is not None:
        remaining.remove(culprit)
        failed[culprit] = first
    while remaining:
        done, data = ask(remaining, ENV_KEYS)
        if data is not None:
            envs.update(data.get("env", {}))
            break
        culprit = _culprit(done, remaining, work_dir)
        if culprit is None:  # tox did not say which: each one alone
            for name in remaining:
                done, data = ask([name], ENV_KEYS)
                if data is not None:
                    envs.update(data.get("env", {}))
                else:
                    failed[name] = done
            break
        remaining.remove(culprit)
        failed[culprit] = done
    safe = [key for key in ENV_KEYS if key not in _RISKY]
    for name, done in failed.items():
        _, data = ask([name], safe)
        values = dict((data or {}).get("env", {}).get(name, {}))
        line = first_error_line(done.stdout + "\n" + done.stderr, cwd)
        values.update({key: {"error": UNRESOLVED + line} for key in _RISKY})
        envs[name] = values
    return {
        "env": {name: envs[name] for name in listing["env"] if name in envs},
        "tox": listing.get("tox", {}),
    }


def _culprit(done: Completed, names: Sequence[str], work_dir: str) -> str | None:
    """The environment whose folder tox was making when it stopped."""
    output = done.stdout + "\n" + done.stderr
    found = [
        name for name in names if re.search(re.escape(os.path.join(work_dir, name)) + r"(?![\w.+-])", output)
    ]
    return found[-1] if found else None


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
    if key in INT_KEYS and len(lines) == 1 and lines[0].strip().isdigit():
        return int(lines[0])
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
