"""Safe, streaming read of one JUnit XML file into testcase records.

Result files can come from an untrusted pull-request build, so the reader:

- uses the standard library's expat directly (never lxml, so results do not depend on
  what is installed) and feeds it the file in chunks: memory does not grow with the
  file, and deep nesting cannot hit a ``RecursionError`` (expat is not recursive; our
  own element stack is capped at :data:`~pytest_pipeline.junit.handlers.MAX_DEPTH`);
- refuses any entity declaration (internal or external) and any external entity
  reference, the way ``defusedxml`` does: that stops billion-laughs and quadratic-blowup
  bombs before a single expansion, and never opens a file or URL named by the input;
- refuses a single token (a start tag with its attributes, a comment, ...) larger than
  :data:`MAX_TOKEN` bytes, which expat would otherwise have to hold in memory whole;
- keeps every text it retains (messages, tracebacks, captured output) to a cap, with a
  visible marker where it cut.

Anything unreadable raises :class:`UnreadableInput` with a one-line message; the caller
turns it into an :class:`~pytest_pipeline.results.InputProblem` and keeps going.
"""

from __future__ import annotations

import pyexpat
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pytest_pipeline.junit import identity
from pytest_pipeline.junit.handlers import Handlers
from pytest_pipeline.junit.records import (
    EmptySuite,
    Item,
    NotMerged,
    ResultEntry,
    StageTime,
    TestCaseRecord,
    UnreadableInput,
)

# What callers import from here: read(), its error, and the records it yields (defined in
# pytest_pipeline.junit.records).
__all__ = [
    "MIN_MAX_TEXT",
    "EmptySuite",
    "Item",
    "NotMerged",
    "ResultEntry",
    "StageTime",
    "TestCaseRecord",
    "UnreadableInput",
    "read",
]

MAX_TOKEN = 16 * 1024 * 1024
"""Largest single XML token (bytes) accepted; bigger ones are refused, not buffered."""
CHUNK = 1024 * 1024
MIN_MAX_TEXT = 1024


def _refuse_entities(*_: object) -> None:
    raise UnreadableInput("the file declares XML entities (a possible entity-expansion bomb); refused")


def _refuse_external(*_: object) -> int:
    raise UnreadableInput("the file references an external entity; refused")


def _expat_problem(exc: pyexpat.ExpatError, fed: int, seen_root: bool) -> str:
    code = getattr(exc, "code", None)
    message = pyexpat.errors.messages.get(code, str(exc)) if code is not None else str(exc)
    where = f"line {exc.lineno}, column {exc.offset}"
    if fed == 0:
        return "empty file"
    truncated = (
        pyexpat.errors.codes[pyexpat.errors.XML_ERROR_NO_ELEMENTS],
        pyexpat.errors.codes[pyexpat.errors.XML_ERROR_UNCLOSED_TOKEN],
        pyexpat.errors.codes[pyexpat.errors.XML_ERROR_PARTIAL_CHAR],
    )
    if code in truncated:
        if not seen_root:
            return "no XML element in the file (blank or cut before the root element)"
        return f"truncated: the XML ends before its root element is closed ({where})"
    return f"not well-formed XML: {message} ({where})"


def _looks_binary(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return False  # UTF-16 or UTF-8 byte-order mark: expat decodes these
    if head.startswith((b"<\x00", b"\x00<")):
        return False  # UTF-16 without a mark, recognised by its first '<' (XML 1.0 appendix F)
    return b"\x00" in head


def read(
    path: Path,
    *,
    default_cell: str | None = None,
    default_stage: str = "unit",
    max_text: int | None = None,
) -> Iterator[list[Item]]:
    """Yield the testcases of ``path`` in batches, in file order.

    ``max_text`` keeps outcome texts, rerun details and captured output up to that
    many characters each (head and tail); ``None`` keeps only what a short message
    needs (summaries). Raises :class:`UnreadableInput` (possibly after some batches:
    the caller decides what to do with those), also when the file cannot be opened or read.
    """
    if max_text is not None and max_text < MIN_MAX_TEXT:
        raise ValueError(f"max_text must be at least {MIN_MAX_TEXT} characters, got {max_text}")
    cell = default_cell or identity.cell_from_path(path)
    items: list[Item] = []
    handlers = Handlers(cell, default_stage, max_text, items)
    # No interning of element and attribute names: it costs a hash and a lookup for every
    # name of every element, and a name here is compared once or twice, then dropped.
    parser = pyexpat.ParserCreate(intern=None)
    handlers.parser = parser
    parser.ordered_attributes = True  # a list, cheaper to build than a dict (see Handlers.start)
    parser.buffer_text = True
    parser.buffer_size = 64 * 1024
    parser.StartElementHandler = handlers.start
    parser.EndElementHandler = handlers.end
    parser.CharacterDataHandler = handlers.ignore_text
    parser.EntityDeclHandler = _refuse_entities
    parser.UnparsedEntityDeclHandler = _refuse_entities
    parser.ExternalEntityRefHandler = _refuse_external
    parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        yield from _feed(path, parser, items, handlers)
    finally:
        handlers.parser = None  # break the parser <-> handler cycle: no garbage collector needed


def _cannot_read(exc: OSError) -> UnreadableInput:
    return UnreadableInput(f"cannot be read: {exc.strerror or exc}")


def _feed(path: Path, parser: Any, items: list[Item], handlers: Handlers) -> Iterator[list[Item]]:
    fed = 0
    try:
        # stat first: opening a FIFO would wait for a writer forever
        if not stat.S_ISREG(path.stat().st_mode):
            raise UnreadableInput("not a regular file (a FIFO, device or socket); pass the JUnit file")
        handle = path.open("rb")
    except OSError as exc:
        raise _cannot_read(exc) from None
    with handle:
        feed: Callable[[bytes, bool], int] = parser.Parse
        while True:
            try:
                chunk = handle.read(CHUNK)
            except OSError as exc:
                raise _cannot_read(exc) from None
            if fed == 0 and chunk and _looks_binary(chunk[:512]):
                raise UnreadableInput("binary data, not an XML file")
            try:
                feed(chunk, not chunk)
            except pyexpat.ExpatError as exc:
                raise UnreadableInput(_expat_problem(exc, fed + len(chunk), bool(handlers.suites))) from None
            except RecursionError:  # pragma: no cover - expat is iterative; kept as a guard
                raise UnreadableInput("nesting too deep; refused") from None
            fed += len(chunk)
            if handlers.captures:
                handlers.compact()  # a text that goes on: keep only what its cap keeps
            if fed - max(parser.CurrentByteIndex, 0) > MAX_TOKEN:
                raise UnreadableInput(
                    f"a single XML token is larger than {MAX_TOKEN // (1024 * 1024)} MB; refused"
                )
            if items:
                yield items[:]
                items.clear()
            if not chunk:
                break
