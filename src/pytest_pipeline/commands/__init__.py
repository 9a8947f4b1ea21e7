"""Built-in subcommands: each module here is a plugin on ``pytest_pipeline_add_commands``.

Modules are found by listing this package, so adding a command means adding a module.
"""
