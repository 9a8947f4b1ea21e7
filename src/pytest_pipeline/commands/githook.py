"""``pytest-pipeline install-hook`` / ``uninstall-hook``: the git pre-push hook."""

from __future__ import annotations

import argparse

from pytest_pipeline.cli_marks import built_in_hook
from pytest_pipeline.exitcodes import ExitCode


@built_in_hook
def pytest_pipeline_add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    install = subparsers.add_parser(
        "install-hook",
        help="install a git pre-push hook that runs the fast stages and blocks a failing push",
        description="Write .git/hooks/pre-push (or core.hooksPath's) to run the fast test stages with this "
        "interpreter before every push; a failure blocks the push (git push --no-verify skips it). "
        "The command: --command, else [tool.pytest-pipeline.hook] command, else 'pytest --stage=unit -x -q'.",
    )
    install.add_argument("--command", metavar="CMD", help="the test command (a pytest command line)")
    install.add_argument(
        "--force", action="store_true", help="replace a pre-push hook that pytest-pipeline did not write"
    )
    install.add_argument(
        "--config", metavar="PYPROJECT", help="the pyproject.toml to read (default: nearest)"
    )
    install.set_defaults(handler=run_install)

    uninstall = subparsers.add_parser(
        "uninstall-hook",
        help="remove the pre-push hook written by install-hook, put back the one it replaced",
        description="Remove the pre-push hook that install-hook wrote and put back the hook that "
        "install-hook --force replaced (kept as pre-push.pytest-pipeline-backup); a hook written by "
        "anything else is left alone.",
    )
    uninstall.set_defaults(handler=run_uninstall)


def run_install(args: argparse.Namespace) -> int:
    from pytest_pipeline import config
    from pytest_pipeline.ci import githook

    command = args.command
    if command is None:
        command = githook.configured_command(config.load_option(args.config)) or githook.DEFAULT_COMMAND
    installed = githook.install(command, force=args.force)
    if installed.replaced is not None:
        print(f"moved the existing hook to {installed.replaced} (uninstall-hook puts it back)")
    print(f"installed {installed.path}: runs `{installed.command}` with {installed.python} before every push")
    print("skip it once with `git push --no-verify`; remove it with `pytest-pipeline uninstall-hook`")
    return int(ExitCode.OK)


def run_uninstall(args: argparse.Namespace) -> int:
    from pytest_pipeline.ci import githook

    done = githook.uninstall()
    if done.removed is None and done.restored is None:
        print("no pre-push hook installed; nothing to remove")
    if done.removed is not None:
        print(f"removed {done.removed}")
    if done.restored is not None:
        print(f"restored the hook install-hook --force had replaced, from {done.restored}")
    return int(ExitCode.OK)
