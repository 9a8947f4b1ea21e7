"""Every command pays for what building the command line imports: it must stay light.

Only the command modules themselves (argparse-level) load; CI providers, the results
model and the heavy parts wait for a handler.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "subprocess",
    "rich",
    "pytest_pipeline.results",
    "pytest_pipeline.ci.github",
    "pytest_pipeline.ci.azure",
    "pytest_pipeline.ci.gitlab",
    "pytest_pipeline.ci.provider",
    "pytest_pipeline.matrix",
    "pytest_pipeline.gate",
    "pytest_pipeline.runner",
    "pytest_pipeline.junit",
)

PROBE = """
import json, sys
from pytest_pipeline import cli
cli.build_parser(cli.plugin_manager())
print(json.dumps([name for name in HEAVY if name in sys.modules]))
"""


def test_building_the_command_line_imports_nothing_heavy() -> None:
    result = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{PROBE}"],
        capture_output=True,
        text=True,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    assert json.loads(result.stdout) == []


def test_the_providers_still_answer_once_asked() -> None:
    from pytest_pipeline import ci, cli

    pm = cli.plugin_manager(load_entry_points=False)
    assert sorted(ci.providers(pm)) == ["azure", "github", "gitlab"]
    found = ci.detect(pm, {"TF_BUILD": "True"})
    assert found is not None
    assert found.name == "azure"
