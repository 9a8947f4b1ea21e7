"""Every command pays for what building the command line imports: it must stay light.

Only the command modules themselves (argparse-level) load; CI providers, the results
model and the heavy parts wait for a handler. The entry-point scan reads the metadata
files itself: importlib.metadata (with email, zipfile, csv) loads only when some
installed distribution declares our group.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from pytest_pipeline import __version__

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
    "importlib.metadata",
    "email",
    "zipfile",
    "csv",
    # what only some handlers need
    "json",
    "tempfile",
    "shlex",
    "glob",
)

# The probes print with repr, not json: json is one of the modules looked for.
PROBE = """
import sys

from pytest_pipeline import __version__
from pytest_pipeline import cli
cli.build_parser(cli.plugin_manager())
print(repr([name for name in HEAVY if name in sys.modules]))
"""


def test_building_the_command_line_imports_nothing_heavy() -> None:
    result = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{PROBE}"],
        capture_output=True,
        text=True,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    assert ast.literal_eval(result.stdout) == []


VERSION_PROBE = """
import contextlib, io, sys
from pytest_pipeline import cli
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = cli.main(["--version"])
print(repr([code, out.getvalue(), [name for name in HEAVY if name in sys.modules]]))
"""


def test_version_imports_nothing_heavy() -> None:
    result = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{VERSION_PROBE}"],
        capture_output=True,
        text=True,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    code, printed, heavy = ast.literal_eval(result.stdout)
    assert (code, printed) == (0, f"pytest-pipeline {__version__}\n")
    assert heavy == []


def test_the_providers_still_answer_once_asked() -> None:
    from pytest_pipeline import ci, cli

    pm = cli.plugin_manager(load_entry_points=False)
    assert sorted(ci.providers(pm)) == ["azure", "github", "gitlab"]
    found = ci.detect(pm, {"TF_BUILD": "True"})
    assert found is not None
    assert found.name == "azure"


def test_detecting_the_ci_loads_no_workflow_templates() -> None:
    # Every `run` asks which CI it runs in; the templates only write workflows (init-ci).
    probe = (
        "import sys\n"
        "from pytest_pipeline import ci, cli\n"
        "pm = cli.plugin_manager(load_entry_points=False)\n"
        "assert ci.detect(pm, {'GITLAB_CI': 'true'}).name == 'gitlab'\n"
        "heavy = ('pytest_pipeline.ci.templates', 'importlib.resources')\n"
        "print(repr([name for name in heavy if name in sys.modules]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL
    )
    assert ast.literal_eval(result.stdout) == []


def test_a_merge_loads_only_what_merging_needs(tmp_path: Path) -> None:
    # No JSON is written, no pattern expanded, no failure's line looked up (the command
    # prints counts only), no CI asked: those modules wait for the commands that use them.
    (tmp_path / "junit.xml").write_text('<testsuite><testcase classname="c" name="n" time="1"/></testsuite>')
    probe = (
        "import sys\n"
        "from pytest_pipeline.cli import main\n"
        "code = main(['merge', sys.argv[1], '-o', sys.argv[2]])\n"
        "loaded = ('json', 'glob', 'pytest_pipeline.tracebacks', 'pytest_pipeline.ci')\n"
        "print(repr([code, [name for name in loaded if name in sys.modules]]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path / "junit.xml"), str(tmp_path / "merged.xml")],
        capture_output=True,
        text=True,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    assert ast.literal_eval(result.stdout.splitlines()[-1]) == [0, []]
