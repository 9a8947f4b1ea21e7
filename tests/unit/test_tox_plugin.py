"""The tox plugin's cheap parts (``tox -e matrix`` itself runs in the e2e tests)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pytest_pipeline import tox_plugin


@pytest.mark.parametrize(
    ("argv", "environ", "expected"),
    [
        (["tox", "-e", "ALL"], {}, True),
        (["tox", "run", "--env", "py312,ALL"], {}, True),
        (["tox", "-e=ALL"], {}, True),
        (["tox"], {"TOXENV": "ALL"}, True),
        (["tox", "-e", "matrix"], {}, False),
        (["tox", "-e", "ALLX"], {}, False),
        (["tox"], {}, False),
    ],
)
def test_asks_for_all(argv: list[str], environ: dict[str, str], expected: bool) -> None:
    assert tox_plugin._asks_for_all(argv, environ) is expected


def test_no_matrix_env_for_our_own_tox_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["tox", "-e", "matrix"])
    assert tuple(tox_plugin.tox_extend_envs()) == ("matrix",)
    monkeypatch.setenv(tox_plugin.NO_TOX_MATRIX_ENV, "1")
    assert tuple(tox_plugin.tox_extend_envs()) == ()


def test_import_is_light() -> None:
    code = (
        "import sys, pytest_pipeline.tox_plugin; "
        "heavy = [m for m in ('pytest_pipeline.runner', 'pytest_pipeline.cli', 'rich', "
        "'pytest_pipeline.matrix') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
