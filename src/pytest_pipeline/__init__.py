"""pytest-pipeline: stages for pytest, a tox/nox matrix orchestrator and a release gate.

This module is imported by the pytest plugin in every test run, so it stays empty
of anything but the version: the orchestrator, the JUnit merger and the gate are
imported only by the command line.

PYTEST_DONT_REWRITE: the pytest plugin imports this module in every test run; see plugin.py.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
