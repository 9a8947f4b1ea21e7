"""The runner: build once, prepare each cell's environment, run cells in parallel.

Below the commands (``run`` and ``rerun`` string its pieces together, see
:mod:`pytest_pipeline.commands.run`) and beside the gate: nothing here merges reports,
judges results or knows a CI. Never imported by the pytest plugin.
"""
