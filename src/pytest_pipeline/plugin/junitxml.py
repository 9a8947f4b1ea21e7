"""Rewrite pytest's own ``--junitxml`` file: one ``<testsuite>`` per stage.

pytest writes one suite. After it has written the file we regroup its testcases by
stage, each suite carrying ``<property name="stage">`` (and ``cell`` when the
orchestrator names one), type the errors of blocked tests, and add surefire's
``flakyFailure``/``rerunFailure`` elements for the attempts pytest-rerunfailures
retried. The xunit2 result still validates against pytest's schema (junit-10.xsd);
per-testcase ``<properties>`` are added only for xunit1/legacy, where they are valid.

The input is pytest's own output, written a moment ago by this very process, so the
standard library parser is fine here (reading untrusted files is the merger's job).

PYTEST_DONT_REWRITE: the pytest plugin imports this module in every test run; see plugin.py.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pytest_pipeline.fileio import write_text_atomic

RERUN_TYPE = "pytest_pipeline.rerun"
NOT_READY_TYPE = "pytest_pipeline.not_ready"


@dataclass
class CaseInfo:
    """What the plugin knows about one testcase of the file."""

    stage: str
    error_type: str | None = None
    error_message: str | None = None
    failed_attempts: list[str] = field(default_factory=list)
    passed: bool = False


def case_key(nodeid: str, prefix: str | None) -> tuple[str, str]:
    """The (classname, name) pytest's LogXML writes for ``nodeid``."""
    try:  # the exact function pytest uses, so both sides agree (pytest 8 and 9)
        from _pytest.junitxml import bin_xml_escape, mangle_test_address

        names = mangle_test_address(nodeid)
        name = str(bin_xml_escape(names[-1]))
    except ImportError:  # pragma: no cover - a pytest without these helpers
        path, bracket, params = nodeid.partition("[")
        names = path.split("::")
        names[0] = re.sub(r"\.py$", "", names[0].replace("/", "."))
        names[-1] += bracket + params
        name = names[-1]
    classnames = names[:-1]
    if prefix:
        classnames.insert(0, prefix)
    return ".".join(classnames), name


def _properties(parent: ET.Element, values: Sequence[tuple[str, str]], *, first: bool) -> None:
    if not values:
        return
    props = parent.find("properties")
    if props is None:
        props = ET.Element("properties")
        if first:
            parent.insert(0, props)
        else:
            parent.append(props)
    for name, value in values:
        ET.SubElement(props, "property", name=name, value=value)


def _decorate(
    case: ET.Element, info: CaseInfo, per_case: Sequence[tuple[str, str]], *, attempts: bool
) -> None:
    if info.error_type:
        for error in case.iter("error"):
            error.set("type", info.error_type)
            if info.error_message:
                error.set("message", info.error_message)
    tag = "flakyFailure" if info.passed else "rerunFailure"
    for message in info.failed_attempts if attempts else ():
        ET.SubElement(case, tag, type=RERUN_TYPE, message=message)
    _properties(case, per_case, first=True)


def _suite(
    name: str, cases: list[ET.Element], template: Mapping[str, str], wall: float | None = None
) -> ET.Element:
    failures = sum(len(case.findall("failure")) for case in cases)
    errors = sum(len(case.findall("error")) for case in cases)
    skipped = sum(len(case.findall("skipped")) for case in cases)
    seconds = wall if wall is not None else sum(float(case.get("time") or 0) for case in cases)
    suite = ET.Element(
        "testsuite",
        name=name,
        errors=str(errors),
        failures=str(failures),
        skipped=str(skipped),
        tests=str(len(cases)),
        time=f"{seconds:.3f}",  # junit-10.xsd allows at most three decimals
    )
    for key in ("timestamp", "hostname"):
        if key in template:
            suite.set(key, template[key])
    return suite


def regroup(
    path: Path,
    *,
    stages: Sequence[str],
    cases: Mapping[tuple[str, str], CaseInfo],
    suite_name: str,
    family: str,
    cell: str | None,
    wall_times: Mapping[str, float] | None = None,
) -> None:
    """Rewrite ``path`` in place (atomically) with one suite per stage of ``stages``.
    A stage's suite ``time`` is its wall time from ``wall_times`` where given (tests
    under xdist overlap), else the sum of its testcases'.

    Every stage of ``stages`` gets a suite, empty ones included, so a reader can tell
    "selected and ran nothing" from "not selected". Testcases the plugin knows nothing
    about (an internal error) go to a last suite named ``suite_name`` without a stage.
    """
    root = ET.parse(path).getroot()
    old_suites = root.findall("testsuite") if root.tag == "testsuites" else [root]
    template = dict(old_suites[0].attrib) if old_suites else {}
    global_props = [
        (prop.get("name", ""), prop.get("value", ""))
        for suite in old_suites
        for prop in suite.findall("properties/property")
    ]
    per_case_extra = family in ("xunit1", "legacy")
    all_cases = [case for suite in old_suites for case in suite.findall("testcase")]
    keys = [(case.get("classname", ""), case.get("name", "")) for case in all_cases]
    # pytest writes one testcase for every attempt that rerunfailures retried (it looks
    # like a pass there), then the final attempt's: one, or two when a failed call is
    # followed by a teardown error. Drop the retried attempts' testcases and put one
    # flakyFailure/rerunFailure per retried attempt on the first remaining one.
    left = Counter(keys)
    dropped: Counter[tuple[str, str]] = Counter()
    decorated: set[tuple[str, str]] = set()
    groups: dict[str | None, list[ET.Element]] = {stage: [] for stage in stages}
    for case, key in zip(all_cases, keys, strict=True):
        info = cases.get(key)
        if info is None:
            groups.setdefault(None, []).append(case)
            continue
        left[key] -= 1
        if dropped[key] < len(info.failed_attempts) and left[key] > 0:
            dropped[key] += 1
            continue
        extra = [("stage", info.stage)] + ([("cell", cell)] if cell else [])
        _decorate(case, info, extra if per_case_extra else (), attempts=key not in decorated)
        decorated.add(key)
        groups.setdefault(info.stage, []).append(case)

    new_root = ET.Element("testsuites", name=root.get("name", "pytest tests"))
    totals = {"tests": 0, "failures": 0, "errors": 0}
    seconds = 0.0
    for stage, members in groups.items():
        if stage is None:
            suite = _suite(suite_name, members, template)
            _properties(suite, global_props, first=False)
        else:
            suite = _suite(f"{suite_name}: {stage}", members, template, (wall_times or {}).get(stage))
            props = [*global_props, ("stage", stage)] + ([("cell", cell)] if cell else [])
            _properties(suite, props, first=False)
        suite.extend(members)
        new_root.append(suite)
        for name in totals:
            totals[name] += int(suite.get(name, "0"))
        seconds += float(suite.get("time", "0"))
    for name, value in totals.items():
        new_root.set(name, str(value))
    new_root.set("time", f"{seconds:.3f}")
    text = '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(new_root, encoding="unicode")
    write_text_atomic(path, text)
