"""``dist``: the extra pytest arguments of a test that runs once in-process and once under
pytest-xdist (``-n 2``), where collection happens on the workers, not in the controller."""

from __future__ import annotations

import importlib.util

import pytest

XDIST = pytest.mark.skipif(importlib.util.find_spec("xdist") is None, reason="pytest-xdist is not installed")


@pytest.fixture(
    params=[pytest.param((), id="in-process"), pytest.param(("-n", "2"), id="xdist", marks=XDIST)]
)
def dist(request: pytest.FixtureRequest) -> tuple[str, ...]:
    return request.param  # type: ignore[no-any-return]
