"""``pytest-pipeline rerun --failed``: re-run only what failed in the last run.

- :mod:`.plan` decides, from the last run's records, which cells to re-run and, within a
  cell whose tests failed, which tests (pure);
- :mod:`.cellfilter` is the small pytest plugin that keeps only those tests in a cell;
- :mod:`.combine` folds the re-run's results into the reports folder.

PYTEST_DONT_REWRITE: :mod:`.cellfilter` runs inside cells' pytest; see plugin.py.
"""
