"""Texts kept from result files, kept small: capped pieces, shared budgets, short messages.

A result file may hold tracebacks and captured output of any size. The reader keeps each
text to a cap as it streams (:class:`TextBuffer`), the writer then caps a test's texts
together (:func:`share`); both keep the head and the tail (where a traceback's useful last
lines are) around one visible marker saying how much was cut.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

MESSAGE_SOURCE = 400
"""A short message without a ``message`` attribute is taken from this many leading characters."""
SHORT_MESSAGE = 300


def short_message(message: str, text: str) -> str:
    """First non-blank line of ``message``, else of the start of ``text``, capped."""
    for source in (message, text[:MESSAGE_SOURCE]):
        for raw in source.splitlines():
            line = raw.strip()
            if line:
                return line if len(line) <= SHORT_MESSAGE else line[: SHORT_MESSAGE - 3] + "..."
    return ""


class TextBuffer:
    """Collects one text node in pieces, keeping at most ``limit`` characters.

    With ``tail`` the kept text is the head and the tail (where a traceback's last
    lines, the useful ones, are) around a marker saying how much was cut; without it,
    only the head is kept, silently (used when only a short message is needed).
    """

    __slots__ = ("dropped", "head", "limit", "parts", "size", "tail", "tail_limit")

    def __init__(self, limit: int, *, tail: bool) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.limit = limit
        self.tail_limit = limit // 2 if tail else 0
        self.head: str | None = None
        self.tail = ""
        self.dropped = 0

    def feed(self, data: str) -> None:
        if self.head is None:
            self.size += len(data)
            self.parts.append(data)
            if self.size > self.limit:
                joined = "".join(self.parts)
                self.parts = []
                self.head = joined[: self.limit - self.tail_limit]
                self._feed_tail(joined[len(self.head) :])
        else:
            self._feed_tail(data)

    def _feed_tail(self, data: str) -> None:
        if not self.tail_limit:
            self.dropped += len(data)
            return
        tail = self.tail + data
        if len(tail) > self.tail_limit:
            self.dropped += len(tail) - self.tail_limit
            tail = tail[-self.tail_limit :]
        self.tail = tail

    def value(self) -> str:
        if self.head is None:
            return "".join(self.parts)
        if not self.tail_limit:
            return self.head
        return f"{self.head}\n[... {self.dropped} characters truncated by pytest-pipeline ...]\n{self.tail}"


_MARKER = re.compile(r"\n\[\.\.\. (\d+) characters truncated by pytest-pipeline \.\.\.\]\n")


def capped(text: str, limit: int) -> str:
    """``text`` cut like a :class:`TextBuffer` with a tail would cut it.

    Cutting a text that was cut before (the reader caps each text, the writer then caps
    a test's texts together) counts the characters the earlier marker stood for, so the
    one marker left says how much of the original is missing."""
    if len(text) <= limit:
        return text
    buffer = TextBuffer(limit, tail=True)
    buffer.feed(text)
    if buffer.head is not None and "truncated by pytest-pipeline" in text:
        middle = text[len(buffer.head) : len(text) - len(buffer.tail)]
        for marker in _MARKER.finditer(middle):
            buffer.dropped += int(marker.group(1)) - len(marker.group(0))
    return buffer.value()


def share(texts: Sequence[str], budget: int) -> list[str]:
    """The texts of one test, cut so that together they keep at most ``budget`` characters
    (plus one marker per cut text): texts shorter than an equal share stay whole, the
    longer ones split what is left equally, each keeping its head and its tail."""
    if sum(map(len, texts)) <= budget:
        return list(texts)
    limits = [0] * len(texts)
    left = budget
    by_length = sorted(range(len(texts)), key=lambda index: len(texts[index]))
    for done, index in enumerate(by_length):
        limits[index] = min(len(texts[index]), left // (len(texts) - done))
        left -= limits[index]
    return [capped(text, limit) for text, limit in zip(texts, limits, strict=True)]
