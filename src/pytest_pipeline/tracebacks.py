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

import functools
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
    return list(_own_files(classname, file))


@functools.lru_cache(maxsize=1024)  # a merge asks once per failure; classnames repeat
def _own_files(classname: str, file: str | None) -> tuple[str, ...]:
    if file:
        return (_normalised(file),)
    parts = [part for part in classname.split(".") if part]
    return tuple("/".join(parts[:end]) + ".py" for end in range(len(parts), 0, -1))


def _pytest_frames(text: str) -> list[re.Match[str]]:
    """``list(_PYTEST_FRAME.finditer(text))``, faster: the pattern matches at most once per
    line, at its start, and only a line holding ``.py:`` can match, so only those lines are
    tried (a regex search would try every position of a long traceback)."""
    found = []
    position = text.find(".py:")
    while position >= 0:
        match = _PYTEST_FRAME.match(text, text.rfind("\n", 0, position) + 1)
        if match is not None:
            found.append(match)
        line_end = text.find("\n", position)
        if line_end < 0:
            break
        position = text.find(".py:", line_end)
    return found


def _start(match: re.Match[str]) -> int:
    return match.start()


def failure_line(text: str, classname: str, file: str | None = None) -> int | None:
    """The line of the last traceback frame in the test's own file, or None when the
    text names no frame there (a crash report, a custom message, a collection error)."""
    if not text or ".py" not in text:
        return None
    matches = _pytest_frames(text)
    if 'File "' in text:  # what every native frame starts with
        native = list(_NATIVE_FRAME.finditer(text))
        if native:
            matches = sorted(matches + native, key=_start)
    frames = [(_normalised(match["path"]), match["line"]) for match in matches]
    for own in _own_files(classname, file):
        suffix = "/" + own
        for path, line in reversed(frames):  # the last frame in that file
            if path == own or path.endswith(suffix):
                return int(line)
    return None


def _normalised(path: str) -> str:
    """Forward slashes, no leading ``./``: how the paths are compared."""
    path = path.strip().replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path
