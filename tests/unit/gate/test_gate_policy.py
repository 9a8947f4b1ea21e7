"""[tool.pytest-pipeline.gate] + overrides -> Policy; the quarantine file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from pytest_pipeline.config import from_table
from pytest_pipeline.errors import ConfigError
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.gate import quarantine
from pytest_pipeline.gate.loading import checked_policy
from pytest_pipeline.gate.policy import Policy, from_config
from pytest_pipeline.results import Outcome, TestRef


def make_policy(
    tmp_path: Path, gate: dict[str, Any], overrides: dict[str, Any] | None = None, **kw: Any
) -> Policy:
    source = tmp_path / "pyproject.toml"
    config = from_table({"stages": ["unit", "integration", "smoke"], "gate": gate, **kw}, source)
    return checked_policy(config, overrides)


def test_defaults_require_every_declared_stage_and_cell(tmp_path: Path) -> None:
    policy = make_policy(tmp_path, {})
    assert policy.required_stages == ("unit", "integration", "smoke")
    assert policy.required_cells == ("*",)
    assert policy.flaky == "allow"
    assert policy.missing_interpreters == "auto"
    assert policy.allow_empty_stages == frozenset()
    assert policy.mode == "all"
    assert not policy.allow_pull_request_publish


def test_only_an_undeclared_stage_list_may_leave_built_in_stages_unused(tmp_path: Path) -> None:
    source = tmp_path / "pyproject.toml"
    assert make_policy(tmp_path, {}).unused_stages_ok == frozenset()
    undeclared = from_config(from_table({}, source))
    assert undeclared.required_stages == ("unit", "integration", "smoke")
    assert undeclared.unused_stages_ok == frozenset({"integration", "smoke"})
    explicit = from_config(from_table({"gate": {"required-stages": ["unit", "smoke"]}}, source))
    assert explicit.unused_stages_ok == frozenset()
    assert from_config(from_table({}, source), {"required-stages": ["unit"]}).unused_stages_ok == frozenset()


def test_every_key_read(tmp_path: Path) -> None:
    (tmp_path / "q.toml").write_text("")
    policy = make_policy(
        tmp_path,
        {
            "required-stages": ["unit"],
            "required-cells": "py3*",
            "allow-empty-stages": True,
            "flaky": "fail",
            "missing-interpreters": "fail",
            "quarantine": "q.toml",
            "publish-branches": ["main", "refs/tags/v*"],
            "allow-pull-request-publish": True,
            "reused-results": "refuse",
        },
    )
    assert policy.required_stages == ("unit",)
    assert policy.reused_results == "refuse"
    assert policy.required_cells == ("py3*",)
    assert policy.allow_empty_stages == {"unit", "integration", "smoke"}
    assert (policy.flaky, policy.missing_interpreters) == ("fail", "fail")
    assert policy.quarantine_path == str(tmp_path / "q.toml")
    assert policy.publish_branches == ("main", "refs/tags/v*")
    assert policy.allow_pull_request_publish


def test_overrides_replace_configured_values(tmp_path: Path) -> None:
    policy = make_policy(
        tmp_path,
        {"flaky": "fail", "required-stages": ["unit"]},
        {"flaky": "allow", "required-stages": ["smoke"], "allow-empty-stages": ["smoke"]},
    )
    assert policy.flaky == "allow"
    assert policy.required_stages == ("smoke",)
    assert policy.allow_empty_stages == {"smoke"}


def test_stage_cells_come_from_stage_settings(tmp_path: Path) -> None:
    policy = make_policy(tmp_path, {}, stage={"smoke": {"cells": ["py312*"]}})
    assert policy.stage_runs_in("smoke", "py312-attrs24")
    assert not policy.stage_runs_in("smoke", "py310-attrs23")
    assert policy.stage_runs_in("unit", "py310-attrs23")


@pytest.mark.parametrize(
    ("gate", "overrides", "message"),
    [
        ({"flakey": "allow"}, None, "unknown key 'flakey'"),
        (
            {"flaky": "sometimes"},
            None,
            "[tool.pytest-pipeline.gate] flaky: 'sometimes' is not one of 'allow', 'fail'",
        ),
        ({}, {"flaky": "sometimes"}, "--flaky: 'sometimes' is not one of"),
        (
            {"required-stages": ["e2e"]},
            None,
            "unknown stage 'e2e'; declared stages are unit, integration, smoke",
        ),
        ({"allow-empty-stages": ["perf"]}, None, "unknown stage 'perf'"),
        ({"required-cells": []}, None, "expected a non-empty list of cell globs"),
        ({"required-stages": []}, None, "name at least one stage"),
        ({"required-cells": 3}, None, "expected a list or a string, got an integer 3"),
        ({"mode": "regressions-only"}, None, "'regressions-only' needs a baseline"),
        ({"reused-results": "maybe"}, None, "reused-results: 'maybe' is not one of 'accept', 'refuse'"),
        ({"quarantine": "missing.toml"}, None, "quarantine file"),
        ({"baseline": "missing.json"}, None, "baseline"),
    ],
)
def test_bad_policy_is_a_one_line_usage_error(
    tmp_path: Path, gate: dict[str, Any], overrides: dict[str, Any] | None, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        make_policy(tmp_path, gate, overrides)
    assert message in info.value.message
    assert "\n" not in info.value.message
    assert info.value.code is ExitCode.USAGE_ERROR


# --------------------------------------------------------------------------- quarantine


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "quarantine.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_quarantine_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[[quarantine]]
id = "tests.test_api::test_upload*"
reason = "sandbox times out, #123"
expires = 2026-12-31

[[quarantine]]
id = "tests/test_calc.py::test_div[0]"
reason = "string date, #7"
expires = "2026-07-01"
cells = ["py312-*"]
""",
    )
    entries = quarantine.load(path)
    assert entries[0].expires == dt.date(2026, 12, 31)
    assert entries[1].cells == ("py312-*",)
    upload = TestRef("py310", "unit", "tests.test_api", "test_upload[big]", Outcome.FAILED)
    assert entries[0].matches(upload)
    # brackets are literal, and the pytest node id form matches through the file
    div = TestRef(
        "py312-a", "unit", "tests.test_calc", "test_div[0]", Outcome.FAILED, file="tests/test_calc.py"
    )
    assert entries[1].matches(div)
    assert not entries[1].matches(TestRef("py310", "unit", "tests.test_calc", "test_div[0]", Outcome.FAILED))
    assert not entries[0].matches(TestRef("py310", "unit", "tests.test_api", "test_download", Outcome.FAILED))


def test_quarantine_prefers_an_active_entry(tmp_path: Path) -> None:
    old = quarantine.QuarantineEntry("t::*", "old", dt.date(2020, 1, 1))
    new = quarantine.QuarantineEntry("t::x", "new", dt.date(2030, 1, 1))
    match = quarantine.find((old, new), TestRef("c", "unit", "t", "x", Outcome.FAILED), dt.date(2026, 1, 1))
    assert match.active is new
    assert match.expired is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[quarantine]]\nreason = "r"\nexpires = 2026-01-01\n', "id: required"),
        ('[[quarantine]]\nid = "x"\nexpires = 2026-01-01\n', "reason: required"),
        ('[[quarantine]]\nid = "*::*"\nreason = "r"\nexpires = 2026-01-01\n', "would quarantine every test"),
        ('[[quarantine]]\nid = "*"\nreason = "r"\nexpires = 2026-01-01\n', "would quarantine every test"),
        ('[[quarantine]]\nid = "x"\nreason = "r"\n', "expires: required"),
        ('[[quarantine]]\nid = "x"\nreason = "r"\nexpires = "soon"\n', "'soon' is not a date"),
        (
            '[[quarantine]]\nid = "x"\nreason = "r"\nexpires = 2026-01-01\nowner = "me"\n',
            "unknown key 'owner'",
        ),
        ('[quarantine]\nid = "x"\n', "expected a list"),
        ('[[quarantine]\nid = "x"\n', "is not valid TOML"),
        ('[[skip]]\nid = "x"\n', "unknown top-level key 'skip'"),
    ],
)
def test_bad_quarantine_file(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        quarantine.load(write(tmp_path, text))
    assert message in info.value.message
    assert str(tmp_path / "quarantine.toml") in info.value.message
