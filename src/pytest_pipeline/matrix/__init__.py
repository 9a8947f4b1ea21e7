"""The matrix: cells discovered from tox environments, nox sessions and extra axes."""
