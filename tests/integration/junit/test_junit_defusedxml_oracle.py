"""defusedxml as the oracle for the reader's safety rules.

The merger reads with expat directly, for speed (defusedxml's ``iterparse`` builds an
element per node and was about 2.5x slower than bare expat on 100,000 testcases), so it
re-applies defusedxml's guards itself. This test holds it to defusedxml's judgement:
whatever defusedxml refuses as unsafe, the reader refuses too, and what defusedxml
accepts as a well-formed, entity-free JUnit file, the reader reads.
"""

from __future__ import annotations

from pathlib import Path

import defusedxml
import defusedxml.ElementTree as DET
import pytest
from test_junit_untrusted import BILLION_LAUGHS, GOOD, external_entity, quadratic_blowup

from pytest_pipeline.junit import summarize

PARAMETER_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE t [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]><testsuites/>'
)
UNPARSED_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE t [<!NOTATION n SYSTEM "x"><!ENTITY u SYSTEM "x.bin" NDATA n>]>'
    "<testsuites/>"
)
DOCTYPE_ONLY = '<?xml version="1.0"?><!DOCTYPE testsuites>' + GOOD.split("?>", 1)[-1]


def _unsafe_inputs(tmp_path: Path) -> list[tuple[str, str]]:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read me", encoding="utf-8")
    return [
        ("billion-laughs", BILLION_LAUGHS),
        ("quadratic-blowup", quadratic_blowup()),
        ("external-entity", external_entity(secret)),
        ("parameter-entity", PARAMETER_ENTITY),
        ("unparsed-entity", UNPARSED_ENTITY),
    ]


def test_what_defusedxml_refuses_the_reader_refuses(tmp_path: Path) -> None:
    for name, text in _unsafe_inputs(tmp_path):
        with pytest.raises(defusedxml.DefusedXmlException):
            DET.fromstring(text)
        path = tmp_path / f"{name}.xml"
        path.write_text(text, encoding="utf-8")
        summary = summarize([path])
        assert [problem.path for problem in summary.problems] == [str(path)], name
        assert summary.total().tests == 0, name
        assert "do not read me" not in repr(summary.to_dict()), name


@pytest.mark.parametrize("text", [GOOD, DOCTYPE_ONLY], ids=["plain", "doctype-without-entities"])
def test_what_defusedxml_accepts_the_reader_reads(tmp_path: Path, text: str) -> None:
    root = DET.fromstring(text)
    expected = len(root.findall(".//testcase"))
    path = tmp_path / "results.xml"
    path.write_text(text, encoding="utf-8")
    summary = summarize([path])
    assert summary.problems == []
    assert summary.total().tests == expected > 0
