"""``python -m pytest_pipeline`` is the same as the ``pytest-pipeline`` command."""

from pytest_pipeline.cli import main

raise SystemExit(main())
