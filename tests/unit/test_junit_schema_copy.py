"""tests/data/junit-10.xsd is pytest's JUnit schema, the one in ../shared, unchanged."""

from __future__ import annotations

import pytest

from pipeline_testkit import SHARED_SCHEMA, VENDORED_SCHEMA


def test_the_vendored_schema_is_the_shared_one() -> None:
    if not SHARED_SCHEMA.is_file():
        pytest.skip(f"no {SHARED_SCHEMA} to compare with (../shared beside the clone)")
    assert VENDORED_SCHEMA.read_bytes() == SHARED_SCHEMA.read_bytes()
