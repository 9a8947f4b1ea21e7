"""The git pre-push hook: run the fast stages before a push, block the push when they fail.

The hook is a small POSIX shell script. It runs the test command with the interpreter
that installed it (recorded as an absolute path, so it works when the virtual
environment is not activated) and falls back to ``python3`` on ``PATH`` with a warning
when that interpreter is gone. The command is fixed when the hook is written
(``--command`` > ``[tool.pytest-pipeline.hook] command`` > ``pytest --stage=unit -x
-q``), so the hook itself needs neither this package nor the configuration at push
time; reinstall it after changing the command.

A marker line recognises our hook: ``install-hook`` replaces only its own hook unless
forced, and ``uninstall-hook`` removes only its own. A hook ``--force`` replaced is kept
beside it (:data:`BACKUP_SUFFIX`) and put back by ``uninstall-hook``; while it waits
there, no second ``--force`` may overwrite it.
"""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from pytest_pipeline import fileio
from pytest_pipeline.config import PipelineConfig
from pytest_pipeline.errors import PipelineError

HOOK_NAME = "pre-push"
MARKER = "# pytest-pipeline: pre-push hook written by `pytest-pipeline install-hook`"
DEFAULT_COMMAND = "pytest --stage=unit -x -q"
BACKUP_SUFFIX = ".pytest-pipeline-backup"


@dataclass(frozen=True)
class Installed:
    path: Path
    command: str
    python: str
    replaced: Path | None
    """Where a hook we did not write was moved to (``--force``), if there was one."""


@dataclass(frozen=True)
class Uninstalled:
    removed: Path | None
    """Our hook that was removed; None when there was none."""
    restored: Path | None
    """The backup put back in its place (the hook ``--force`` replaced), if there was one."""


# --------------------------------------------------------------------------- where


def hooks_dir(cwd: Path | None = None) -> Path:
    """The folder git runs hooks from: honours ``core.hooksPath`` and worktrees."""
    here = Path.cwd() if cwd is None else cwd
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--git-path", "hooks"],
            check=False,
            cwd=here,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
    except OSError as exc:
        raise PipelineError(f"cannot run git ({exc.strerror}); install git or put it on PATH") from None
    if result.returncode != 0:
        raise PipelineError(
            f"{here} is not inside a git repository; run this from your project's working tree"
        )
    return (here / result.stdout.strip()).resolve()


def backup_of(hook: Path) -> Path:
    """Where ``install-hook --force`` keeps the hook it replaces."""
    return hook.with_name(hook.name + BACKUP_SUFFIX)


def _present(path: Path) -> bool:
    return path.exists() or path.is_symlink()  # a dangling symlink is still someone's hook


def is_ours(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            head = [handle.readline() for _ in range(5)]
    except OSError:
        return False
    return any(line.rstrip("\n") == MARKER for line in head)


# --------------------------------------------------------------------------- what


def configured_command(config: PipelineConfig) -> str | None:
    """``[tool.pytest-pipeline.hook] command``, checked (unknown keys are errors)."""
    table = config.table("hook")
    command = table.get("command", str, None)
    table.done()
    if command is not None and not shlex.split(command):
        raise PipelineError(
            f"{table.where('command')}: is empty; write a command such as {DEFAULT_COMMAND!r}"
        )
    return command


def invocation(command: str) -> str:
    """The shell line that runs ``command`` with the recorded interpreter (``$python``).

    ``pytest ...`` becomes ``"$python" -m pytest ...``, ``pytest-pipeline ...``
    ``"$python" -m pytest_pipeline ...`` and ``python ...`` ``"$python" ...``, so none
    depends on what ``PATH`` finds; any other program runs as written, with the
    interpreter's folder first on ``PATH``.
    """
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise PipelineError(f"hook command {command!r} does not parse ({exc}); fix its quoting") from None
    if not argv:
        raise PipelineError(f"hook command is empty; write a command such as {DEFAULT_COMMAND!r}")
    rest = " ".join(shlex.quote(arg) for arg in argv[1:])
    program = argv[0]
    if program in ("pytest", "py.test"):
        head = '"$python" -m pytest'
    elif program == "pytest-pipeline":
        head = '"$python" -m pytest_pipeline'
    elif program in ("python", "python3"):
        head = '"$python"'
    else:
        head = shlex.quote(program)
    return f"{head} {rest}".rstrip()


def script(command: str, python: str) -> str:
    line = invocation(command)
    # A program found on PATH needs the interpreter's folder first there; our own
    # commands run through "$python" and keep the pusher's PATH as it is.
    on_path = '\nelse\n    PATH="$(dirname "$python"):$PATH"\n    export PATH'
    if line.startswith('"$python"'):
        on_path = ""
    return f"""#!/bin/sh
{MARKER}
# Runs the fast test stages before every push and blocks the push when they fail.
# Skip it once: git push --no-verify. Remove it: pytest-pipeline uninstall-hook.
# Change the command in [tool.pytest-pipeline.hook] command (or pass --command), then
# run pytest-pipeline install-hook again.

python={shlex.quote(python)}
command={shlex.quote(command)}

# git passes one line per ref to push; a push that only deletes refs has nothing to test.
updates=0
while read -r local_ref local_sha remote_ref remote_sha; do
    case "$local_sha" in
        *[!0]*) updates=1 ;;
    esac
done
[ "$updates" = 1 ] || exit 0

# git runs hooks with its own folder first on PATH: take it off, so the command sees the
# PATH of the shell that pushed (PATH is one of a cell's inputs: with it unchanged, a
# pytest-pipeline run reuses the results of the same inputs).
git_exec_path=$(git --exec-path 2>/dev/null)
case "$PATH" in
    "$git_exec_path":*) PATH=${{PATH#"$git_exec_path":}}; export PATH ;;
esac

if [ ! -x "$python" ]; then
    echo "pytest-pipeline pre-push: $python (which installed this hook) is gone; using python3 on PATH." >&2
    echo "pytest-pipeline pre-push: run 'pytest-pipeline install-hook' from your environment to fix it." >&2
    python=python3{on_path}
fi

cd "$(git rev-parse --show-toplevel)" || exit 1
# The tests run on the working tree as it is now, as a separate program: git's own
# variables for this hook must not leak into tests that run git themselves.
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_PREFIX GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES

echo "pytest-pipeline pre-push: $command" >&2
{line} </dev/null
status=$?
case $status in
    0) exit 0 ;;
    5) echo "pytest-pipeline pre-push: no tests ran; letting the push through." >&2; exit 0 ;;
esac
echo "pytest-pipeline pre-push: tests failed (exit $status): push blocked." >&2
echo "pytest-pipeline pre-push: fix them, or push with --no-verify to skip this check once." >&2
exit $status
"""


# --------------------------------------------------------------------------- do


def install(
    command: str,
    *,
    python: str | None = None,
    force: bool = False,
    cwd: Path | None = None,
) -> Installed:
    """Write the hook. Replaces our own hook; someone else's only with ``force``
    (it is kept beside it, see :func:`backup_of`, for :func:`uninstall` to put back)."""
    interpreter = python or sys.executable or "python3"
    target = hooks_dir(cwd) / HOOK_NAME
    replaced: Path | None = None
    if _present(target) and not is_ours(target):
        backup = backup_of(target)
        if not force:
            raise PipelineError(
                f"{target} exists and was not written by pytest-pipeline; pass --force to replace it "
                f"(it is kept as {backup.name}), or call the tests from it yourself"
            )
        if _present(backup):
            # Most likely the user's original hook, from an earlier --force: the only copy.
            raise PipelineError(
                f"{target} was not written by pytest-pipeline, and {backup} already keeps the hook "
                "an earlier --force replaced; move one of the two away (or merge them), then run "
                "install-hook --force again"
            )
        os.replace(target, backup)
        replaced = backup
    text = script(command, Path(interpreter).as_posix() if os.path.isabs(interpreter) else interpreter)
    fileio.write_text_atomic(target, text)
    mode = target.stat().st_mode
    target.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH | stat.S_IRUSR)
    return Installed(target, command, interpreter, replaced)


def uninstall(*, cwd: Path | None = None) -> Uninstalled:
    """Remove our hook and put back the hook ``install --force`` replaced, if it kept
    one: undo :func:`install`. Someone else's hook in our place is an error."""
    target = hooks_dir(cwd) / HOOK_NAME
    backup = backup_of(target)
    removed: Path | None = None
    if _present(target):
        if not is_ours(target):
            kept = f"; {backup} (kept by install-hook --force) is left too" if _present(backup) else ""
            raise PipelineError(
                f"{target} was not written by pytest-pipeline; left as it is "
                f"(remove it yourself if you mean to){kept}"
            )
        target.unlink()
        removed = target
    restored: Path | None = None
    if _present(backup):
        os.replace(backup, target)
        restored = backup
    return Uninstalled(removed, restored)
