"""Sphinx configuration of the pytest-pipeline documentation (``tox -e docs``).

The pages are Markdown (MyST), as the README they grew out of: GitHub shows them as
they are, and the README links to them by relative path.
"""

from __future__ import annotations

import importlib.metadata

project = "pytest-pipeline"
author = "pytest-pipeline developers"
copyright = "pytest-pipeline developers"
release = importlib.metadata.version("pytest-pipeline-gate")
version = release

extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# `[run](run.md#how-a-cell-runs)`: anchors for headings down to ###, as GitHub makes them.
myst_heading_anchors = 3
myst_enable_extensions = ["deflist"]

# The hookspecs are documented from their docstrings; their signatures name private
# argparse and pluggy types that no inventory holds.
autodoc_typehints = "none"
autodoc_member_order = "bysource"

html_theme = "furo"
html_title = f"pytest-pipeline {release}"
