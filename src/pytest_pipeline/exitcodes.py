"""The documented exit codes of every ``pytest-pipeline`` command.

They line up with pytest's own codes where the meaning is the same (0, 1, 2, 4, 5),
so a CI step that already understands pytest understands these.

PYTEST_DONT_REWRITE: the pytest plugin imports this module in every test run; see plugin.py.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    """Gate open: every required stage in every required cell ran and passed."""
    TESTS_FAILED = 1
    """A required test failed, errored or was blocked by a failure in an earlier stage."""
    INTERRUPTED = 2
    """The run was interrupted (Ctrl-C, SIGTERM, a cancelled job)."""
    INCOMPLETE = 3
    """Something could not run or could not be read: an environment failed, a cell
    crashed, a result file is missing or unreadable, a required interpreter is missing."""
    USAGE_ERROR = 4
    """Bad command line or configuration."""
    NO_TESTS = 5
    """A required stage ran no tests."""
    PUBLISH_REFUSED = 6
    """``pytest-pipeline publish`` refused to run the publish command."""

    @property
    def meaning(self) -> str:
        """The code in a few words: what ``--help``, the HTML report and every table of
        exit codes in the docs say (a test holds the docs to it)."""
        return _MEANINGS[self]


_MEANINGS = {
    ExitCode.OK: "gate open",
    ExitCode.TESTS_FAILED: "tests failed",
    ExitCode.INTERRUPTED: "interrupted",
    ExitCode.INCOMPLETE: "incomplete (could not run or read)",
    ExitCode.USAGE_ERROR: "usage error",
    ExitCode.NO_TESTS: "no tests in a required stage",
    ExitCode.PUBLISH_REFUSED: "publish refused",
}


# When several codes apply, the first one in this order wins. An incomplete picture
# (interrupted, or results missing) is reported before what the partial results say,
# because a failure count taken from half a matrix is not the whole story; an empty
# required stage is the weakest signal.
PRECEDENCE: tuple[ExitCode, ...] = (
    ExitCode.USAGE_ERROR,
    ExitCode.PUBLISH_REFUSED,
    ExitCode.INTERRUPTED,
    ExitCode.INCOMPLETE,
    ExitCode.TESTS_FAILED,
    ExitCode.NO_TESTS,
    ExitCode.OK,
)


def worst(codes: list[ExitCode] | tuple[ExitCode, ...] | set[ExitCode]) -> ExitCode:
    """The code that wins when all of ``codes`` apply (``OK`` for none)."""
    present = set(codes)
    for code in PRECEDENCE:
        if code in present:
            return code
    return ExitCode.OK
