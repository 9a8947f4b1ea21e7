"""Untrusted text on the page: escaped, links only to http(s), durations in words."""

from __future__ import annotations

import pytest

from pytest_pipeline.report.html.text import esc, safe_url, seconds

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_esc_escapes_markup_and_quotes() -> None:
    assert esc(HOSTILE) == (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
    )
    assert esc("it's") == "it&#x27;s"


def test_esc_shows_control_and_bidi_characters_instead_of_interpreting_them() -> None:
    assert esc("a\x00b\x1bc\u202ed") == "a\\u0000b\\u001bc\\u202ed"
    assert esc("tab\tand\nnewline") == "tab\tand\nnewline"


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://github.com/o/r/actions/runs/1", True),
        ("http://ci.example/build/2", True),
        ("javascript:alert(1)", False),
        ("data:text/html,<script>", False),
        ("//evil.example/x", False),
        ("https://ok.example/\x00", False),
        ("", False),
    ],
)
def test_only_http_urls_become_links(url: str, safe: bool) -> None:
    assert (safe_url(url) == url) is safe


@pytest.mark.parametrize(
    ("value", "text"), [(0.0123, "12 ms"), (4.375, "4.38 s"), (125, "2 min 05 s"), (7322, "2 h 02 min")]
)
def test_seconds(value: float, text: str) -> None:
    assert seconds(value) == text
