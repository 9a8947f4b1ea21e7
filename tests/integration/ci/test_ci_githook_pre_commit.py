"""The pre-commit manifest, checked by pre-commit itself (not only by our reading of it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pipeline_testkit import ROOT, clean_environ

MANIFEST = ROOT / ".pre-commit-hooks.yaml"


def validate_manifest(path: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-manifest", str(path)],
        env=clean_environ(PRE_COMMIT_HOME=str(home)),  # no cache of ours in the user's home
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def test_pre_commit_accepts_the_manifest(tmp_path: Path) -> None:
    result = validate_manifest(MANIFEST, tmp_path / "home")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_check_would_catch_a_broken_manifest(tmp_path: Path) -> None:
    broken = tmp_path / ".pre-commit-hooks.yaml"
    text = MANIFEST.read_text(encoding="utf-8").replace("stages: [pre-push]", "stages: [before-push]")
    broken.write_text(text, encoding="utf-8")
    result = validate_manifest(broken, tmp_path / "home")
    assert result.returncode != 0
    assert "before-push" in result.stdout + result.stderr
