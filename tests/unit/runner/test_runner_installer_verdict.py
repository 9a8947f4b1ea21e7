"""The installer's own words for why an install step failed (uv, pip, tox)."""

from __future__ import annotations

import pytest

from pytest_pipeline.runner.installer_verdict import installer_verdict

UV_UNRESOLVABLE = """\
Using Python 3.12.1 environment at: .tox/.pipeline/bad
  \u00d7 No solution found when resolving dependencies:
  \u2570\u2500\u25b6 Because nosuch was not found in the package registry and you require nosuch==0.0.1, we
      can conclude that your requirements are unsatisfiable.
"""


@pytest.mark.parametrize(
    ("output", "verdict"),
    [
        (
            UV_UNRESOLVABLE,
            ": Because nosuch was not found in the package registry and you require nosuch==0.0.1, we"
            " can conclude that your requirements are unsatisfiable.",
        ),
        (
            "Collecting x\nERROR: Could not find a version that satisfies the requirement nosuch==0.0.1\n"
            "ERROR: No matching distribution found for nosuch==0.0.1\n",
            ": ERROR: No matching distribution found for nosuch==0.0.1",
        ),
        (
            "error: Failed to fetch: `https://pypi.org/simple/x/`\n  Caused by: timeout\nmore\n",
            ": error: Failed to fetch: `https://pypi.org/simple/x/` Caused by: timeout",
        ),
        (
            "error: No solution found when resolving dependencies\n  cause: Because nosuch was not found"
            " in the package registry\n",
            ": Because nosuch was not found in the package registry",
        ),
        (
            "ROOT: HandledError| runner 'uv-venv-lock-runner' for environment 'py3.12' is not available"
            " (plugin may not be installed)\n",
            ": runner 'uv-venv-lock-runner' for environment 'py3.12' is not available"
            " (plugin may not be installed)",
        ),
        ("bad: FAIL code 1 (0.52 seconds)\nevaluation failed :(\n", ""),
        ("", ""),
    ],
)
def test_an_install_failure_is_told_in_the_installer_s_own_words(output: str, verdict: str) -> None:
    assert installer_verdict(output) == verdict


def test_the_installer_s_verdict_is_capped_to_one_short_line() -> None:
    verdict = installer_verdict("ERROR: " + "x" * 1000)
    assert len(verdict) <= 2 + 160
    assert verdict.endswith("\u2026")
