"""The cap on a cell's log: the head as it comes, the tail of each command, a note between."""

from __future__ import annotations

import errno
import io
from typing import Any

import pytest

from pytest_pipeline.runner.process import CappedLog


def capped(log: io.BytesIO, *chunks: bytes, head: int = 10, tail: int = 8) -> bytes:
    sink = CappedLog(log, head=head, tail=tail)
    for chunk in chunks:
        sink.write(chunk)
    sink.close()
    return log.getvalue()


def test_output_within_the_limits_is_kept_whole() -> None:
    assert capped(io.BytesIO(), b"abc\n", b"def\n", head=10, tail=8) == b"abc\ndef\n"


def test_the_head_and_the_tail_are_kept_and_the_cut_is_counted() -> None:
    text = capped(io.BytesIO(), b"head1\nhead2\n", b"x" * 1000 + b"\n", b"tail1\ntail2\n", head=12, tail=14)
    # The 14 bytes of tail begin in the middle of the x line: that half line is cut too.
    assert text == (
        b"head1\nhead2\n\n[pytest-pipeline: 1,001 bytes of output cut here; the log keeps its first "
        b"12 bytes and the last 14 bytes of each command's output]\ntail1\ntail2\n"
    )


def test_a_tail_that_starts_a_line_keeps_it() -> None:
    assert capped(io.BytesIO(), b"a\nb\nc\n", head=0, tail=4).endswith(b"output]\nb\nc\n")


def test_the_head_counts_what_the_log_already_holds() -> None:
    log = io.BytesIO()
    log.write(b"$ pip install x\n" + b"i" * 4)  # 20 bytes of an earlier command
    text = capped(log, b"abcdefghij\n" * 3, head=25, tail=11)
    assert text.startswith(b"$ pip install x\niiiiabcde\n[pytest-pipeline: ")
    assert text.endswith(b"]\nabcdefghij\n")


def test_a_write_error_names_the_log() -> None:
    class Full(io.BytesIO):
        name = "reports/cells/py/log.txt"

        def write(self, data: Any) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    sink = CappedLog(Full(), head=10, tail=10)
    with pytest.raises(OSError, match="No space left") as info:
        sink.write(b"hello")
    assert (info.value.errno, info.value.filename) == (errno.ENOSPC, "reports/cells/py/log.txt")
