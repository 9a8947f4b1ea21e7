"""``python -m pytest_pipeline`` is the same as the ``pytest-pipeline`` command."""

from pytest_pipeline.cli import console_main

raise SystemExit(console_main())
