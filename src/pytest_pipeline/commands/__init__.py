"""Built-in subcommands: each module here is a plugin on ``pytest_pipeline_add_commands``.

Modules are found by listing this package, so adding a command means adding a module.
"""

# The order `pytest-pipeline --help` lists them in: the everyday commands first. Modules
# not named here come after, in name order.
HELP_ORDER = (
    "run",
    "plan",
    "rerun",
    "status",
    "report",
    "merge",
    "gate",
    "publish",
    "ci_report",
    "ci_plan",
    "init_ci",
    "githook",
)

WITHOUT_HOOKS = {
    "merge": "merge",
    "gate": "gate",
    "publish": "publish",
    "report": "report",
    "rerun": "rerun",
    "status": "status",
    "install-hook": "githook",
    "uninstall-hook": "githook",
}
"""Subcommand -> its module, for the commands whose handler asks no hook (it never reads
``args.plugin_manager``). When no installed plugin may add commands, the command line
builds only the named one of these: importing and registering every command module and
building every parser is most of a short command's start-up. Their hook implementations are
marked with :func:`pytest_pipeline.cli_marks.built_in_hook`, so that building one alone
imports no pluggy either."""
