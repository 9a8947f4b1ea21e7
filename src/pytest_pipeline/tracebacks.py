"""The line where a test failed in its own file, read from the failure text in JUnit.

pytest's default JUnit flavour (xunit2) records no file or line, and xunit1's ``line``
is where the test function starts, not where it failed. The failure text does say
where: pytest names every frame of its traceback as ``path:N:`` at the start of a line
(``--tb=long``, ``short`` and ``line``: ``tests/unit/test_greet.py:27: AssertionError``),
``--tb=native`` as ``File "path", line N``. The last frame in the test's own file is the
line a CI annotation belongs on: the failing assertion, or the call into the code under
test. This reads any pytest JUnit file, other tools' included.

Standard library only: the JUnit merge calls it for every failure it lists.
"""

from __future__ import annotations

import re

# The path may start with a Windows drive ("C:"); it never starts with blanks, which
# keeps the indented source lines of a long traceback out.
_PYTEST_FRAME = re.compile(r"^(?P<path>(?:[A-Za-z]:)?[^\s:][^:\n]*?\.py):(?P<line>\d+):", re.MULTILINE)
_NATIVE_FRAME = re.compile(r'^\s*File "(?P<path>[^"\n]+?\.py)", line (?P<line>\d+)', re.MULTILINE)


def own_files(classname: str, file: str | None = None) -> list[str]:
    """The paths a test's own file may have, most specific first: the JUnit ``file``
    when there is one, else every module path its classname can stand for
    (``tests.unit.test_greet.TestHello`` -> ``tests/unit/test_greet/TestHello.py``,
    ``tests/unit/test_greet.py``, ...; classes and modules look alike in a classname)."""
    if file:
        return [_normalised(file)]
    parts = [part for part in classname.split(".") if part]
    return ["/".join(parts[:end]) + ".py" for end in range(len(parts), 0, -1)]


def failure_line(text: str, classname: str, file: str | None = None) -> int | None:
    """The line of the last traceback frame in the test's own file, or None when the
    text names no frame there (a crash report, a custom message, a collection error)."""
    if not text or ".py" not in text:
        return None
    matches = sorted(
        (match for pattern in (_PYTEST_FRAME, _NATIVE_FRAME) for match in pattern.finditer(text)),
        key=lambda match: match.start(),
    )
    frames = [(_normalised(match["path"]), int(match["line"])) for match in matches]
    for own in own_files(classname, file):
        lines = [line for path, line in frames if path == own or path.endswith("/" + own)]
        if lines:
            return lines[-1]
    return None


def _normalised(path: str) -> str:
    """Forward slashes, no leading ``./``: how the paths are compared."""
    path = path.strip().replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path
