"""The shapes of what tox and nox tell about an environment, as discovery keeps them.

``Cell.config`` holds one of these: tox's resolved settings of an environment (the keys
of :data:`pytest_pipeline.matrix.from_tox.ENV_KEYS`, as ``tox config --format json``
prints them; a key tox does not have for the environment is absent, one that failed to
load is in ``EnvInfo.errors`` instead), or nox's description of a session. Older tox 4
prints text instead of JSON: booleans and numbers are converted, everything else is a
string or a list of strings, as here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict, cast


class ToxEnvConfig(TypedDict, total=False):
    description: str
    base_python: list[str]
    commands_pre: list[str]
    commands: list[str]
    """Each a shell-quoted line, ``{posargs}`` and every substitution resolved."""
    commands_post: list[str]
    extra_setup_commands: list[str]
    deps: list[str]
    dependency_groups: list[str]
    extras: list[str]
    constraints: list[str]
    labels: list[str]
    skip_install: bool
    use_develop: bool
    package: str
    package_env: str
    wheel_build_env: str
    set_env: dict[str, str]
    pass_env: list[str]
    disallow_pass_env: list[str]
    change_dir: str
    allowlist_externals: list[str]
    runner: str
    install_command: str
    """One shell-quoted line with ``{packages}`` (``{opts}`` already filled in by tox)."""
    pip_pre: bool
    constrain_package_deps: bool
    use_frozen_constraints: bool
    pylock: str
    uv_resolution: str
    uv_seed: bool
    uv_python_preference: str
    always_copy: bool
    download: bool
    virtualenv_spec: str
    system_site_packages: bool
    env_dir: str
    env_tmp_dir: str
    env_log_dir: str
    depends: list[str]
    ignore_outcome: bool
    ignore_errors: bool
    commands_retry: int
    interrupt_post_commands: bool
    platform: str


class NoxSessionConfig(TypedDict, total=False):
    name: str
    """The session's function name (``tests``; the session itself may be ``tests-3.12``)."""
    python: str | bool | None
    """``"3.12"``, ``None`` (nox's own interpreter) or ``False`` (no virtualenv)."""
    call_spec: dict[str, Any]
    """The parametrize values of this session (``{"attrs": "24.2"}``)."""
    description: str
    signatures: list[str]
    tags: list[str]


def tox_config(config: Mapping[str, Any]) -> ToxEnvConfig:
    """``Cell.config`` of a tox cell, as what it is."""
    return cast(ToxEnvConfig, config)


def nox_config(config: Mapping[str, Any]) -> NoxSessionConfig:
    """``Cell.config`` of a nox cell, as what it is."""
    return cast(NoxSessionConfig, config)
