"""Text from untrusted files made safe for the page, and the small formatters every
section uses.

Test names, messages, tracebacks, cell names and CI URLs may come from a pull request's
build: all of it goes through :func:`esc`, and a link only ever points to an
``http(s)://`` URL (:func:`safe_url`) or to a file inside the reports folder. Values read
from ``gate.json`` are checked first (see :mod:`pytest_pipeline.report.untrusted`).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import urllib.parse

_UNSAFE_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def esc(value: object) -> str:
    """Text (or an attribute value) that renders as itself.

    Control characters and bidirectional overrides (which can make a test name *display*
    as something else) are shown as ``\\uXXXX`` instead of being interpreted.
    """
    text = _UNSAFE_CHARS.sub(lambda match: f"\\u{ord(match.group()):04x}", str(value))
    return html.escape(text, quote=True)


def esc_block(value: str) -> str:
    """A traceback or captured output: colour codes dropped, then escaped."""
    return esc(_ANSI.sub("", value))


def safe_url(value: object) -> str | None:
    text = str(value or "")
    parsed = urllib.parse.urlsplit(text)
    if parsed.scheme in ("http", "https") and parsed.netloc and not _UNSAFE_CHARS.search(text):
        return text
    return None


def seconds(value: float) -> str:
    """``42 ms``, ``1.23 s``, ``2 min 05 s``: a page that lists single tests and whole
    cells, read rather than copied, so units in words (the terminal tables say ``1.23s``)."""
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 60:
        return f"{value:.2f} s"
    minutes, rest = divmod(round(value), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def when(value: object) -> str:
    """An ISO timestamp shown as ``2026-11-22 01:15:07 UTC``."""
    text = str(value or "")
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc)
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def counted(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def cell_stage(*parts: object) -> str:
    return " · ".join(esc(part) for part in parts if part)
