"""``pytest-pipeline rerun --failed``: re-run only what failed in the last run.

- :mod:`.plan` decides, from the last run's records, which cells to re-run and, within a
  cell whose tests failed, which tests (pure);
- :mod:`.combine` folds the re-run's results into the reports folder.

The small pytest plugin that keeps only those tests in a cell is
:mod:`pytest_pipeline.plugin.rerun_filter` (it loads in the cell's pytest run).
"""
