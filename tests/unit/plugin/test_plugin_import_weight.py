"""The plugin loads in every pytest run of every user: it must stay light."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("tox", "virtualenv", "junitparser", "rich", "defusedxml", "pytest_pipeline.cli")


def test_importing_the_plugin_imports_nothing_heavy() -> None:
    code = (
        "import json, sys\n"
        "import pytest_pipeline.plugin, pytest_pipeline.runtime\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL
    )
    assert json.loads(result.stdout) == []
