"""tox plugin: ``tox -e matrix`` runs ``pytest-pipeline run`` on the project.

tox loads this module in every tox run of every user who installed
pytest-pipeline-gate, so it imports only our variable names (:mod:`pytest_pipeline.envvars`)
and tox's plugin marker at module level; tox's configuration classes are imported inside
the hook that needs them.

* tox >= 4.29 has ``tox_extend_envs``: we declare a ``matrix`` environment, so
  ``tox -e matrix`` works with no ``[testenv:matrix]`` section at all.
* Older tox 4 ignores that hook (it is optional here) and refuses unknown environment
  names: an empty ``[testenv:matrix]`` section is then enough, we fill it in.
* A ``[testenv:matrix]`` section the user wrote with any setting in it wins: we add
  nothing to it.

The environment runs ``python -m pytest_pipeline run {posargs}`` with the interpreter tox
itself runs on (where this plugin, hence pytest-pipeline, is installed), installs
nothing, passes the whole environment through (CI variables decide how progress is
shown), and its exit code is the gate's, on Ctrl-C too (see :data:`INTERRUPT_TIMEOUT`).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tox.plugin import impl

from pytest_pipeline import envvars

if TYPE_CHECKING:
    from tox.config.sets import ConfigSet, EnvConfigSet
    from tox.session.state import State

ENV_NAME = "matrix"
NO_TOX_MATRIX_ENV = envvars.NO_TOX_MATRIX
"""Set by pytest-pipeline for the tox processes it starts: no ``matrix`` environment
there, so discovery never lists it and a run can never start itself again."""

INTERRUPT_TIMEOUT = 20.0
"""Seconds tox waits, after the SIGINT it sends on Ctrl-C, before SIGTERM; then
:data:`TERMINATE_TIMEOUT` before SIGKILL. tox's defaults (0.3 s, 0.2 s) killed the run
while its cells were still stopping (each gets 5 s to go after SIGTERM, as long again for
what it left in its process group), so nothing was reported, the exit code was -9 and a
stubborn cell outlived tox. The run takes tox's SIGTERM as the same interrupt, not as a
reason to hurry."""
TERMINATE_TIMEOUT = 10.0


def _asks_for_all(argv: list[str], environ: Any) -> bool:
    """``tox -e ALL`` (or ``TOXENV=ALL``) means "all of the project's environments"; the
    matrix is not one of them, it runs them."""
    if environ.get("TOXENV", "").strip() == "ALL":
        return True
    for index, arg in enumerate(argv):
        if arg in ("-e", "--env") and index + 1 < len(argv) and "ALL" in argv[index + 1].split(","):
            return True
        if arg.startswith(("-e=", "--env=")) and "ALL" in arg.split("=", 1)[1].split(","):
            return True
    return False


@impl(optionalhook=True)
def tox_extend_envs() -> Iterable[str]:
    if os.environ.get(NO_TOX_MATRIX_ENV) or _asks_for_all(sys.argv, os.environ):
        return ()
    return (ENV_NAME,)


_USER_SECTION = re.compile(r"^\s*\[(?:testenv:matrix|env\.matrix|tool\.tox\.env\.matrix)\]", re.MULTILINE)


@impl
def tox_add_core_config(core_conf: ConfigSet, state: State) -> None:
    """The ``matrix`` environment's runner, seeded before tox reads it (tox picks an
    environment's runner before ``tox_add_env_config``): a ``[testenv]`` that says
    ``runner = uv-venv-lock-runner`` must not make the orchestrator sync the project's lock."""
    if os.environ.get(NO_TOX_MATRIX_ENV) or _user_wrote_matrix(state):
        return
    seeds = getattr(state.conf, "memory_seed_loaders", None)
    if seeds is None:  # pragma: no cover - a tox 4 without it: the runner is inherited
        return
    from tox.config.loader.memory import MemoryLoader

    seeds[ENV_NAME].append(MemoryLoader(runner=_plain_runner()))


def _user_wrote_matrix(state: State) -> bool:
    try:
        text = Path(state.conf.src_path).read_text(encoding="utf-8")
    except (OSError, TypeError, AttributeError):
        return False
    return bool(_USER_SECTION.search(text))


def _user_section_has_settings(env_conf: EnvConfigSet) -> bool:
    from tox.config.loader.memory import MemoryLoader

    for loader in env_conf.loaders:
        if isinstance(loader, MemoryLoader):
            continue
        section = getattr(loader, "section", None)
        if getattr(section, "name", None) == ENV_NAME and loader.found_keys():
            return True
    return False


def _plain_runner() -> str:
    """The plain runner of this tox: tox-uv's when it is installed (quicker), else tox's
    own; never a runner that installs on its own (``uv-venv-lock-runner`` syncs a lock)."""
    import importlib.util

    return "uv-venv-runner" if importlib.util.find_spec("tox_uv") is not None else "virtualenv"


@impl
def tox_add_env_config(env_conf: EnvConfigSet, state: State) -> None:
    if env_conf.name != ENV_NAME or os.environ.get(NO_TOX_MATRIX_ENV):
        return
    if _user_section_has_settings(env_conf):
        return
    from tox.config.loader.memory import MemoryLoader
    from tox.config.types import Command
    from tox.tox_env.python.pip.req_file import PythonDeps

    posargs = list(state.conf.pos_args(None) or ())
    root = state.conf.core["tox_root"]
    loader = MemoryLoader(
        description="run the whole test matrix with pytest-pipeline: stages, parallel cells, one gate",
        # Installs nothing, whatever [testenv] says: the run needs only the interpreter
        # tox itself runs on (where we are installed), not the project's test deps.
        runner=_plain_runner(),
        skip_install=True,
        package="skip",
        deps=PythonDeps("", root=root),
        dependency_groups=set(),
        extras=set(),
        constraints=[],
        pylock="",
        extra_setup_commands=[],
        base_python=[sys.executable],
        commands_pre=[],
        commands=[Command([sys.executable, "-m", "pytest_pipeline", "run", *posargs])],
        commands_post=[],
        pass_env=["*"],
        allowlist_externals=["*"],
        change_dir=root,
        ignore_errors=False,
        ignore_outcome=False,
        # SIGINT at once: when tox alone was interrupted, tox is how the run hears of it.
        suicide_timeout=0.0,
        interrupt_timeout=INTERRUPT_TIMEOUT,
        terminate_timeout=TERMINATE_TIMEOUT,
    )
    env_conf.loaders.insert(0, loader)
