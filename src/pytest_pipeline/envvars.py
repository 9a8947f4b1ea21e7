"""Every environment variable of ours (``PYTEST_PIPELINE_*``), named once.

The orchestrator sets them for the processes it starts; the in-cell plugin, the pytest
plugin and the tox plugin read them. No imports: the pytest and tox plugins load this in
every run of every user.

PYTEST_DONT_REWRITE: the pytest plugin imports this module in every test run.
"""

CELL = "PYTEST_PIPELINE_CELL"
"""The cell a pytest session runs in (its name goes into the JUnit file)."""
CONFIG = "PYTEST_PIPELINE_CONFIG"
"""The project's pyproject.toml, for a pytest whose rootdir is elsewhere."""
STAGES = "PYTEST_PIPELINE_STAGES"
"""The stages a cell runs (comma-separated), unless its command line says ``--stage``."""
JUNIT_DIR = "PYTEST_PIPELINE_JUNIT_DIR"
"""Where each pytest session of a cell leaves its JUnit file."""
EVENTS = "PYTEST_PIPELINE_EVENTS"
"""The file the in-cell plugin appends its live events to."""
ACTIVE = "PYTEST_PIPELINE_ACTIVE"
"""Set by the in-cell plugin while a cell's session runs: a session inside it is the
project's own (pytester, a test that runs pytest), not the cell's."""
RUN = "PYTEST_PIPELINE_RUN"
"""The id of the run every process of a run inherits (how leftovers are found)."""
RUN_CELL = "PYTEST_PIPELINE_RUN_CELL"
"""The cell every process of a cell inherits."""
NO_TOX_MATRIX = "PYTEST_PIPELINE_NO_TOX_MATRIX"
"""Set for the tox processes we start: no ``matrix`` environment there (no recursion)."""
