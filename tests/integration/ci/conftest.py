"""check-jsonschema against the CIs' published schemas, shared by the CI tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

SchemaCheck = Callable[..., "subprocess.CompletedProcess[str]"]

SCHEMA_ARGS = {
    "github": ["--builtin-schema", "vendor.github-workflows"],
    # The Azure schema's patterns need a non-unicode regex engine; its ${{ }} template
    # syntax and GitLab's !reference tags need check-jsonschema's data transforms.
    "azure": [
        "--builtin-schema",
        "vendor.azure-pipelines",
        "--data-transform",
        "azure-pipelines",
        "--regex-variant",
        "nonunicode",
    ],
    "gitlab": ["--builtin-schema", "vendor.gitlab-ci", "--data-transform", "gitlab-ci"],
}


@pytest.fixture
def check_schema() -> SchemaCheck:
    return run_check_schema


def run_check_schema(provider: str, *files: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema with every proxy pointing at a closed port: it must not need the network."""
    dead = "http://127.0.0.1:9"
    env = {**os.environ, "HTTP_PROXY": dead, "HTTPS_PROXY": dead, "http_proxy": dead, "https_proxy": dead}
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--no-cache", *SCHEMA_ARGS[provider], *map(str, files)],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
