"""pytest-side hook specifications of the stage plugin, added with ``pytest_addhooks``.

(The ``pytest-pipeline`` command line has its own, unrelated hooks in ``cli_hooks``.)

PYTEST_DONT_REWRITE: the pytest plugin imports this module in every test run; see plugin.py.
"""

from __future__ import annotations

import pytest


@pytest.hookspec(firstresult=True)
def pytest_pipeline_item_stage(item: pytest.Item, config: pytest.Config) -> str | None:
    """Return the stage of ``item`` (a declared stage name), or None to let the plugin decide.

    It is asked first, before markers, path rules and the default stage: a project that
    implements it decides for itself. It is called through ``item.ihook``, so an
    implementation in a ``conftest.py`` applies only to tests below that conftest's
    directory. Implementations in a conftest that may also run without the plugin
    (``-p no:pipeline``) should use ``@pytest.hookimpl(optionalhook=True)``.
    """
