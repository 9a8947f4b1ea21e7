"""Run a tox environment's commands the way ``tox run`` runs them, without tox.

The same environment variables (tox's ``environment_variables``: ``pass_env`` matched
case-insensitively, ``disallow_pass_env``, the environment's folders first on ``PATH``,
``set_env`` on top, ``PYTHONHASHSEED``, ``TOX_PACKAGE``, ...), the same folder
(``change_dir``), the same lookup of each program and the same ``allowlist_externals``
rule, the same ``-``/``!`` prefixes, ``ignore_errors`` and ``commands_retry``, and the same
exit code: the first failing one of ``commands_pre``, ``commands``, ``commands_post``
(``commands`` are skipped when ``commands_pre`` failed; ``commands_post`` always run).
"""

from __future__ import annotations

import fnmatch
import glob
import os
import random
import re
import shlex
import shutil
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from pytest_pipeline.runner.process import CommandNotFound, run_command, write_log_line
from pytest_pipeline.runner.tox_install import bin_dirs
from pytest_pipeline.runner.toxenv import UV_RUNNER, ToxEnv

ENOENT = 2
"""tox's exit code for a command whose program does not exist (the ``OSError``'s errno)."""


def hash_seed(environ: Mapping[str, str]) -> str:
    """tox's ``PYTHONHASHSEED`` for a run: the caller's, unless empty or ``random``;
    else a random one, like tox draws per invocation."""
    given = environ.get("PYTHONHASHSEED", "")
    if given not in ("", "random"):
        return given
    return str(random.randint(1, 1024 if sys.platform == "win32" else 4294967295))


def environment(
    env: ToxEnv,
    base: Mapping[str, str],
    *,
    seed: str,
    package: Path | None,
) -> dict[str, str]:
    """The variables tox gives the environment's commands (and its installers)."""
    patterns = [re.compile(fnmatch.translate(p), re.IGNORECASE) for p in env.pass_env]
    result = {key: value for key, value in base.items() if any(p.match(key) for p in patterns)}
    if env.disallow_pass_env:
        banned = [re.compile(fnmatch.translate(p), re.IGNORECASE) for p in env.disallow_pass_env]
        result = {key: value for key, value in result.items() if not any(p.match(key) for p in banned)}
    paths = [str(folder) for folder in bin_dirs(env)]
    result["PATH"] = _path(paths, base.get("PATH", ""))
    set_env = dict(env.set_env)
    set_env.setdefault("PYTHONHASHSEED", seed)  # tox's default set_env; the user's wins
    if env.runner != UV_RUNNER:
        set_env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    result.update(set_env)
    if "PATH" in env.set_env:
        result["PATH"] = _path(paths, result["PATH"])
    if "CI" in base:
        result["__TOX_ENVIRONMENT_VARIABLE_ORIGINAL_CI"] = base["CI"]
    if env.runner == UV_RUNNER:
        result.pop("UV_PYTHON", None)  # it would win over VIRTUAL_ENV
        result["VIRTUAL_ENV"] = str(env.env_dir)
    if package is not None:
        result["TOX_PACKAGE"] = str(package)
    return result


def _path(first: Sequence[str], rest: str) -> str:
    return os.pathsep.join(dict.fromkeys([*first, *rest.split(os.pathsep)]))


@dataclass
class Outcome:
    exit_code: int = 0
    """The first failing exit code that counts (0: all passed)."""
    not_found: str | None = None
    not_allowed: str | None = None
    cancelled: bool = False
    notes: list[str] = field(default_factory=list)


Run = Callable[[Sequence[str], Mapping[str, str]], tuple[int, bool]]
"""``run(argv, environ) -> (exit code, cancelled)``: how a command runs (tests pass a fake)."""


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    ignore_exit: bool = False
    """tox's ``-`` prefix: the exit code does not count."""
    invert: bool = False
    """tox's ``!`` prefix: success means a non-zero exit."""


def parse_command(text: str | Sequence[str]) -> Command | None:
    """A command as ``tox config`` prints it (a shell-quoted line) -> :class:`Command`."""
    argv = shlex.split(text) if isinstance(text, str) else list(text)
    ignore = invert = False
    while argv and argv[0] in ("-", "!"):
        ignore, invert = ignore or argv[0] == "-", invert or argv[0] == "!"
        argv = argv[1:]
    if argv and argv[0].startswith("-") and len(argv[0]) > 1 and not argv[0].startswith("--"):
        ignore, argv[0] = True, argv[0][1:]
    if argv and argv[0].startswith("!") and len(argv[0]) > 1:
        invert, argv[0] = True, argv[0][1:]
    if not argv:
        return None
    return Command(tuple(argv), ignore_exit=ignore, invert=invert)


def resolve(argv: Sequence[str], env: ToxEnv, environ: Mapping[str, str], cwd: Path) -> list[str]:
    """tox's program lookup: ``PATH`` (relative entries from ``cwd``), a path with a
    separator from ``cwd``; a program found outside the environment must be allowed by
    ``allowlist_externals``. Raises :class:`CommandNotFound` / :class:`NotAllowed`."""
    base = argv[0]
    lookup = str(cwd / base) if os.sep in base else base
    path = os.pathsep.join(str(cwd / entry) for entry in environ.get("PATH", "").split(os.pathsep))
    executable = shutil.which(lookup, path=path)
    if executable is None:
        raise CommandNotFound(base)
    allowed = [f"{glob.escape(str(folder))}{os.sep}*" for folder in bin_dirs(env)]
    allowed += [item.strip() for item in env.allowlist_externals]
    if not any(fnmatch.fnmatch(base, a) or fnmatch.fnmatch(executable, a) for a in allowed):
        raise NotAllowed(base if base == executable else f"{base} (resolves to {executable})")
    return [executable, *argv[1:]]


class NotAllowed(Exception):
    """A program outside the environment that ``allowlist_externals`` does not name."""


def run_set(
    lines: Sequence[str],
    *,
    env: ToxEnv,
    environ: Mapping[str, str],
    run: Run,
    log: IO[bytes],
    cancel: threading.Event,
) -> Outcome:
    """tox's ``run_command_set`` for one key (``commands_pre``, ``commands``, ...)."""
    outcome = Outcome()
    for line in lines:
        command = parse_command(line)
        if command is None:
            continue
        if cancel.is_set():
            outcome.cancelled = True
            break
        try:
            argv = resolve(command.argv, env, environ, env.cwd)
        except CommandNotFound as missing:
            write_log_line(log, f"pytest-pipeline: {missing.program}: command not found")
            code, outcome.not_found = ENOENT, missing.program
        except NotAllowed as refused:
            # tox raises here: the environment fails, whatever ignore_errors says.
            write_log_line(
                log, f"pytest-pipeline: {refused} is not allowed, use allowlist_externals to allow it"
            )
            outcome.not_allowed = str(refused)
            outcome.exit_code = outcome.exit_code or 1
            break
        else:
            attempts = 1 if command.ignore_exit else env.commands_retry + 1
            result = _attempts(argv, command, attempts, environ, run)
            if result is None:  # cancelled
                outcome.cancelled = True
                break
            code = result
        if command.ignore_exit or code == 0:
            continue
        if outcome.exit_code == 0:
            outcome.exit_code = code
        if not env.ignore_errors:
            break
    return outcome


def _attempts(
    argv: Sequence[str], command: Command, attempts: int, environ: Mapping[str, str], run: Run
) -> int | None:
    """0 when the command succeeded (or its failure is ignored), its exit code when it
    failed every attempt, None when it was cancelled."""
    code = 0
    for _ in range(attempts):
        returncode, cancelled = run(argv, environ)
        if cancelled:
            return None
        ok = returncode != 0 if command.invert else returncode == 0
        if ok:
            return 0
        code = returncode if returncode != 0 else 1
    return code


def run_all(
    env: ToxEnv,
    *,
    environ: Mapping[str, str],
    log: IO[bytes],
    cancel: threading.Event,
    on_phase: Callable[[str], None] = lambda phase: None,
) -> Outcome:
    """``commands_pre``, ``commands``, ``commands_post`` as ``tox run`` runs them."""
    env.cwd.mkdir(parents=True, exist_ok=True)

    def run(argv: Sequence[str], variables: Mapping[str, str]) -> tuple[int, bool]:
        result = run_command(argv, cwd=env.cwd, env=variables, log=log, cancel=cancel)
        return result.returncode, result.cancelled

    def one(key: str, lines: Sequence[str]) -> Outcome:
        on_phase(key)
        return run_set(lines, env=env, environ=environ, run=run, log=log, cancel=cancel)

    pre = one("commands_pre", env.commands_pre)
    main = Outcome()
    if not pre.cancelled and (pre.exit_code == 0 or env.ignore_errors):
        main = one("commands", env.commands)
    post = Outcome()
    if not (cancel.is_set() and not env.interrupt_post_commands):
        post = one("commands_post", env.commands_post)
    result = Outcome(
        exit_code=pre.exit_code or main.exit_code or post.exit_code,
        not_found=pre.not_found or main.not_found or post.not_found,
        not_allowed=pre.not_allowed or main.not_allowed or post.not_allowed,
        cancelled=pre.cancelled or main.cancelled or post.cancelled,
    )
    if pre.exit_code:
        result.notes.append(f"commands_pre failed (exit {pre.exit_code}); commands were not run")
    if post.exit_code and not (pre.exit_code or main.exit_code):
        result.notes.append(f"commands_post failed (exit {post.exit_code})")
    return result
