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
