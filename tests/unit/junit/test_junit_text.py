"""Text caps, short messages, XML escaping, names: the pure helpers of the reader and writer."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_pipeline.junit import identity
from pytest_pipeline.junit.render import escape_attr, escape_text, format_time, plain_attr
from pytest_pipeline.junit.text import TextBuffer, capped, share, short_message


def test_text_under_the_cap_is_kept_whole() -> None:
    buffer = TextBuffer(10, tail=True)
    for piece in ("abc", "def", "ghij"):
        buffer.feed(piece)
    assert buffer.value() == "abcdefghij"


def test_text_over_the_cap_keeps_head_and_tail_with_a_marker() -> None:
    buffer = TextBuffer(10, tail=True)
    text = "".join(str(i % 10) for i in range(1000))
    for start in range(0, 1000, 7):
        buffer.feed(text[start : start + 7])
    value = buffer.value()
    assert value.startswith(text[:5])
    assert value.endswith(text[-5:])
    assert "[... 990 characters truncated by pytest-pipeline ...]" in value


def test_text_without_tail_keeps_only_the_head() -> None:
    buffer = TextBuffer(4, tail=False)
    buffer.feed("abcdefgh")
    assert buffer.value() == "abcd"


def test_capped_matches_the_streaming_buffer() -> None:
    text = "x" * 50 + "y" * 50
    assert capped(text, 200) == text
    assert (
        capped(text, 20) == "x" * 10 + "\n[... 80 characters truncated by pytest-pipeline ...]\n" + "y" * 10
    )


def test_capping_a_capped_text_counts_what_the_first_cut_dropped() -> None:
    text = "".join(str(i % 10) for i in range(10_000))
    twice = capped(capped(text, 2000), 1000)
    assert twice.startswith(text[:500])
    assert twice.endswith(text[-500:])
    assert "[... 9000 characters truncated by pytest-pipeline ...]" in twice
    assert twice.count("truncated by pytest-pipeline") == 1


def kept_length(text: str) -> int:
    """Characters of the original a (possibly cut) text still holds."""
    head, marker, tail = text.partition("\n[... ")
    return len(head) + len(tail.partition(" ...]\n")[2]) if marker else len(text)


def test_share_keeps_short_texts_whole_and_splits_the_rest() -> None:
    texts = ["m" * 100, "t" * 10_000, "", "o" * 10_000]
    kept = share(texts, 2100)
    assert kept[0] == texts[0]
    assert kept[2] == ""
    assert [kept_length(text) for text in kept] == [100, 1000, 0, 1000]
    assert kept[1].startswith("t" * 500)
    assert kept[1].endswith("t" * 500)
    assert "[... 9000 characters truncated by pytest-pipeline ...]" in kept[1]
    assert share(["a", "b"], 2) == ["a", "b"]


@given(st.lists(st.text(max_size=300), max_size=8), st.integers(min_value=0, max_value=1200))
def test_share_never_keeps_more_than_the_budget(texts: list[str], budget: int) -> None:
    kept = share(texts, budget)
    assert len(kept) == len(texts)
    if sum(map(len, texts)) <= budget:
        assert kept == texts
    else:
        assert sum(kept_length(text) for text in kept) <= budget


@pytest.mark.parametrize(
    ("message", "text", "expected"),
    [
        ("AssertionError: boom\nassert 0", "", "AssertionError: boom"),
        ("", "\n\n  first line of trace\nsecond", "first line of trace"),
        ("", "", ""),
        ("x" * 400, "", "x" * 297 + "..."),
    ],
)
def test_short_message(message: str, text: str, expected: str) -> None:
    assert short_message(message, text) == expected


def test_escape_attr_leaves_plain_names_alone() -> None:
    name = "test_thing[a-b] [py311]"
    assert escape_attr(name) is name


def test_escape_attr_escapes_markup_whitespace_and_forbidden_characters() -> None:
    assert escape_attr('a<b>&"c"\n\t\r') == "a&lt;b&gt;&amp;&quot;c&quot;&#10;&#9;&#13;"
    assert escape_attr("bell\x07") == "bell#x07"


def test_escape_text_keeps_newlines_and_replaces_forbidden_characters() -> None:
    assert escape_text("a < b\nc\r\x00") == "a &lt; b\nc&#13;#x00"


@pytest.mark.parametrize(("seconds", "text"), [(0.0, "0.000"), (1.23456, "1.235"), (-1.0, "0.000")])
def test_time_has_at_most_three_decimals(seconds: float, text: str) -> None:
    assert format_time(seconds) == text


@pytest.mark.parametrize(
    ("path", "cell"),
    [
        ("pipeline-reports/cells/py311-django42/junit.xml", "py311-django42"),
        ("results-py312/cells/py312/junit.xml", "py312"),
        ("downloads/py310-lint.xml", "py310-lint"),
        ("junit-py39.xml", "junit-py39"),
    ],
)
def test_cell_from_path(path: str, cell: str) -> None:
    assert identity.cell_from_path(Path(path)) == cell


def test_cell_of_a_bare_junit_xml_is_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "py313"
    folder.mkdir()
    monkeypatch.chdir(folder)
    assert identity.cell_from_path(Path("junit.xml")) == "py313"


@pytest.mark.parametrize(("classname", "name"), [("tests.test_a", "test_b[1]"), ("", "test_c")])
def test_display_names_show_the_cell_and_round_trip(classname: str, name: str) -> None:
    shown = identity.display_names("py311", classname, name)
    assert shown[0].startswith("py311")
    assert shown[1].endswith(" [py311]")
    assert identity.original_names("py311", *shown) == (classname, name)


# The writer's fast tests (bytes.translate on ASCII) against the plain definitions.
_TEXTS = st.text(
    alphabet=st.sampled_from(
        ["a", " ", "&", "<", ">", '"', "\t", "\n", "\r", "\x00", "\x1f", "\x7f", "é", "\x85"]
    )
    | st.characters(),
    max_size=40,
)


def _reference_escape(value: str, *, attribute: bool) -> str:
    import re

    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if attribute:
        value = (
            value.replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
        )
    else:
        value = value.replace("\r", "&#13;")
    invalid = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
    return invalid.sub(lambda match: f"#x{ord(match.group()):02X}", value)


@given(_TEXTS)
def test_escaping_matches_its_plain_definition(value: str) -> None:
    assert escape_attr(value) == _reference_escape(value, attribute=True)
    assert escape_text(value) == _reference_escape(value, attribute=False)
    if plain_attr(value):
        assert escape_attr(value) is value
    elif value.isascii():  # exact for ASCII; other text may be tested conservatively
        assert escape_attr(value) != value
