"""The runner: build once, prepare one environment per cell, run cells in parallel.

Imported only by ``pytest-pipeline run`` and ``tox -e matrix``; never by the pytest plugin.
The pipeline is in :mod:`pytest_pipeline.runner.run`; each other module has one job.
"""
