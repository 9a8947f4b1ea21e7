"""The plugin loads in every pytest run of every user: it must stay light."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("tox", "virtualenv", "junitparser", "rich", "defusedxml", "pytest_pipeline.cli")

PROBE = """
import json, sys
import pytest_pipeline.plugin, pytest_pipeline.plugin.runtime
ours = {n: m.__doc__ or "" for n, m in sys.modules.items() if n.startswith("pytest_pipeline")}
print(json.dumps({
    "heavy": [name for name in HEAVY if name in sys.modules],
    "rewritten": sorted(name for name, doc in ours.items() if "PYTEST_DONT_REWRITE" not in doc),
}))
"""


def probe() -> dict[str, list[str]]:
    code = f"HEAVY = {HEAVY!r}\n{PROBE}"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL
    )
    found: dict[str, list[str]] = json.loads(result.stdout)
    return found


def test_importing_the_plugin_imports_nothing_heavy_and_nothing_pytest_would_rewrite() -> None:
    found = probe()
    assert found["heavy"] == []
    # Every module of ours the plugin loads opts out of assertion rewriting (see plugin.py).
    assert found["rewritten"] == []
