"""A CI provider from another installed package, found through the entry-point group."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

PLUGIN = """
from pytest_pipeline.ci.provider import Provider, WorkflowOptions
from pytest_pipeline.cli_hooks import hookimpl


class Jenkins(Provider):
    name = "jenkins"
    title = "Jenkins"
    workflow_path = "Jenkinsfile"

    @classmethod
    def detect(cls, environ):
        return "JENKINS_URL" in environ

    def matrix_output(self, cells):
        return " ".join(cell["name"] for cell in cells)

    def workflow(self, options: WorkflowOptions) -> str:
        return f"pipeline {{ /* python {options.python} */ }}\\n"


@hookimpl
def pytest_pipeline_ci_providers():
    return Jenkins
"""


def test_a_provider_plugin_is_loaded_from_its_entry_point(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "jenkins_pipeline.py").write_text(PLUGIN, encoding="utf-8")
    dist = site / "jenkins_pipeline-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: jenkins-pipeline\nVersion: 1.0\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text(
        "[pytest_pipeline]\njenkins = jenkins_pipeline\n", encoding="utf-8"
    )
    script = textwrap.dedent(
        """
        import io, os
        from pytest_pipeline import ci, cli
        pm = cli.plugin_manager()
        print(sorted(ci.providers(pm)))
        print(type(ci.detect(pm, {"JENKINS_URL": "http://ci"})).__name__)
        print(ci.get(pm, "jenkins").matrix_output([{"name": "a"}, {"name": "b"}]))
        raise SystemExit(cli.main(["init-ci", "jenkins", "-o", "-", "--python", "3.13"]))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "['azure', 'github', 'gitlab', 'jenkins']",
        "Jenkins",
        "a b",
        "pipeline { /* python 3.13 */ }",
    ]
