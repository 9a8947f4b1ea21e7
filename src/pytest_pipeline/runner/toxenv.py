"""A tox environment as ``tox config`` resolved it, as typed values.

Discovery keeps tox's answer as it came (``Cell.config``: JSON values, or strings from
the INI-like output of older tox); this is the one place that turns it into what the
runner uses: paths, booleans, command lines, and the defaults tox applies when a key is
absent (an older tox, or a key of another runner).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_pipeline.matrix.from_tox import WORK_DIR
from pytest_pipeline.matrix.tool_config import ToxEnvConfig

UV_RUNNER = "uv-venv-runner"
VIRTUALENV_RUNNER = "virtualenv"


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(line for line in value.splitlines() if line.strip())
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(str(item) for item in value)
    return (str(value),)


def _flag(value: Any, default: bool = False) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip():
        return value.strip().lower() in ("true", "1", "yes")
    return default


def _path(value: Any) -> Path | None:
    return Path(str(value)) if isinstance(value, str) and value else None


def _number(value: Any, default: int = 0) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        return default


@dataclass(frozen=True)
class ToxEnv:
    """The settings of one tox environment that decide what it contains and how its
    commands run (tox's own key names; see ``tox config -e ENV``)."""

    name: str
    tox_root: Path
    env_dir: Path
    env_tmp_dir: Path | None = None
    """tox's default: ``<env_dir>/tmp`` (see :attr:`tmp_dir`)."""
    env_log_dir: Path | None = None
    runner: str = VIRTUALENV_RUNNER
    package: str = "sdist"
    skip_install: bool = False
    base_python: tuple[str, ...] = ()
    deps: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    dependency_groups: tuple[str, ...] = ()
    install_command: tuple[str, ...] = ()
    """tox's resolved install command (``{opts}`` already filled in), with ``{packages}``."""
    pip_pre: bool = False
    constrain_package_deps: bool = False
    use_frozen_constraints: bool = False
    pylock: str = ""
    uv_seed: bool = False
    uv_python_preference: str = "system"
    system_site_packages: bool = False
    always_copy: bool = False
    download: bool = False
    virtualenv_spec: str = ""
    commands_pre: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    commands_post: tuple[str, ...] = ()
    extra_setup_commands: tuple[str, ...] = ()
    set_env: Mapping[str, str] = field(default_factory=dict)
    pass_env: tuple[str, ...] = ()
    disallow_pass_env: tuple[str, ...] = ()
    allowlist_externals: tuple[str, ...] = ()
    change_dir: Path | None = None
    ignore_errors: bool = False
    commands_retry: int = 0
    interrupt_post_commands: bool = False

    @property
    def installs_package(self) -> bool:
        return not self.skip_install and self.package != "skip"

    @property
    def cwd(self) -> Path:
        """Where the commands run (tox's ``change_dir``, the project by default)."""
        return self.change_dir or self.tox_root

    @property
    def work_dir(self) -> Path:
        return self.env_dir.parent

    @property
    def tmp_dir(self) -> Path:
        """Emptied at the start of every run, as tox does (``{env_tmp_dir}``)."""
        return self.env_tmp_dir or self.env_dir / "tmp"

    @property
    def log_dir(self) -> Path:
        return self.env_log_dir or self.env_dir / "log"


def from_config(name: str, config: ToxEnvConfig, tox_root: Path) -> ToxEnv:
    """``config``: what discovery kept of ``tox config -e NAME`` (``Cell.config``)."""
    env_dir = config.get("env_dir")
    set_env = config.get("set_env")
    change_dir = config.get("change_dir")
    return ToxEnv(
        name=name,
        tox_root=tox_root,
        env_dir=Path(str(env_dir)) if env_dir else tox_root / WORK_DIR / name,
        env_tmp_dir=_path(config.get("env_tmp_dir")),
        env_log_dir=_path(config.get("env_log_dir")),
        runner=str(config.get("runner") or VIRTUALENV_RUNNER),
        package=str(config.get("package") or "sdist"),
        skip_install=_flag(config.get("skip_install")),
        base_python=_strings(config.get("base_python")),
        deps=_strings(config.get("deps")),
        constraints=_strings(config.get("constraints")),
        extras=_strings(config.get("extras")),
        dependency_groups=_strings(config.get("dependency_groups")),
        install_command=tuple(shlex.split(str(config.get("install_command") or ""))),
        pip_pre=_flag(config.get("pip_pre")),
        constrain_package_deps=_flag(config.get("constrain_package_deps")),
        use_frozen_constraints=_flag(config.get("use_frozen_constraints")),
        pylock=str(config.get("pylock") or ""),
        uv_seed=_flag(config.get("uv_seed")),
        uv_python_preference=str(config.get("uv_python_preference") or "system"),
        system_site_packages=_flag(config.get("system_site_packages")),
        always_copy=_flag(config.get("always_copy")),
        download=_flag(config.get("download")),
        virtualenv_spec=str(config.get("virtualenv_spec") or ""),
        commands_pre=_strings(config.get("commands_pre")),
        commands=_strings(config.get("commands")),
        commands_post=_strings(config.get("commands_post")),
        extra_setup_commands=_strings(config.get("extra_setup_commands")),
        set_env={str(k): str(v) for k, v in set_env.items()} if isinstance(set_env, Mapping) else {},
        pass_env=_strings(config.get("pass_env")),
        disallow_pass_env=_strings(config.get("disallow_pass_env")),
        allowlist_externals=_strings(config.get("allowlist_externals")),
        change_dir=Path(str(change_dir)) if change_dir else None,
        ignore_errors=_flag(config.get("ignore_errors")),
        commands_retry=_number(config.get("commands_retry")),
        interrupt_post_commands=_flag(config.get("interrupt_post_commands")),
    )


def site_packages(env_dir: Path) -> Path | None:
    """The ``site-packages`` folder of the virtual environment in ``env_dir``."""
    for pattern in ("lib/python*/site-packages", "Lib/site-packages", "lib/pypy*/site-packages"):
        for found in sorted(env_dir.glob(pattern)):
            return found
    return None


def command_argv(line: str | Sequence[str]) -> list[str]:
    return shlex.split(line) if isinstance(line, str) else list(line)
