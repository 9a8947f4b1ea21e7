"""Does a publish command run code given as a string, instead of naming its files?

``sh -c 'twine upload dist/*'``, ``python -c '...'``, ``perl -e '...'``, ``bash`` reading
its standard input, ``xargs`` building the command from its standard input: whatever they
upload is named inside code publish does not run, so it cannot check those files.
:func:`find` names the argument that does so, for ``publishable_files`` to refuse.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Interpreter:
    """How one program is told to run code rather than a script file."""

    code: str
    """Short options that make it run code given as a string (``c`` of ``sh -c``)."""
    stdin: str = ""
    """Short options that make it read code from standard input (``s`` of ``sh -s``)."""
    takes_value: str = ""
    """Short options whose value is the next argument when not attached (``-W arg``)."""
    module: str = ""
    """The short option that runs an installed module (``python -m twine``): no code."""
    long_code: tuple[str, ...] = ()
    long_value: tuple[str, ...] = ()
    plus_options: bool = False
    """Options may also start with ``+`` (``sh +x``)."""


_SHELL = Interpreter(code="c", stdin="s", takes_value="oO", plus_options=True)
_PYTHON = Interpreter(code="c", takes_value="WX", module="m", long_value=("--check-hash-based-pycs",))
INTERPRETERS: dict[str, Interpreter] = {
    **dict.fromkeys(("sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "yash", "posh"), _SHELL),
    "fish": Interpreter(code="c", long_code=("--command",)),
    **dict.fromkeys(("csh", "tcsh"), Interpreter(code="c")),
    "python": _PYTHON,
    "perl": Interpreter(code="eE"),
    "ruby": Interpreter(code="e", takes_value="Ir"),
    "node": Interpreter(
        code="ep",
        takes_value="r",
        long_code=("--eval", "--print"),
        long_value=("--require", "--import", "--loader", "--experimental-loader"),
    ),
    "php": Interpreter(code="rBRE"),
    "lua": Interpreter(code="e", takes_value="l"),
}
_PYTHON_NAME = re.compile(r"^(python|pypy)(\d+(\.\d+)*)?[dmtu]*$")
_ALIASES = {"nodejs": "node"}

STDIN = "-"
"""What :func:`takes_code` answers for code read from standard input."""

WRAPPERS = frozenset({"env", "nice", "nohup", "sudo", "doas", "exec", "command", "time", "setsid", "stdbuf"})
"""Programs that run the command after them: an interpreter there starts a command too."""


def program_name(arg: str) -> str:
    """``/usr/bin/python3.12`` -> ``python``; ``bash.exe`` -> ``bash``."""
    name = arg.replace("\\", "/").rsplit("/", 1)[-1].lower().removesuffix(".exe")
    if _PYTHON_NAME.match(name):
        return "python"
    return _ALIASES.get(name, name)


def takes_code(interpreter: Interpreter, args: Sequence[str]) -> str | None:
    """The option by which ``interpreter`` is given code in ``args`` (its arguments), or
    :data:`STDIN` when it reads code from standard input; None when it runs a script file
    or a module."""
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == STDIN:
            return STDIN
        if arg == "--":
            return None if index + 1 < len(args) else STDIN
        if arg.startswith("--"):
            name = arg.split("=", 1)[0]
            if name in interpreter.long_code:
                return name
            if name in interpreter.long_value and "=" not in arg:
                index += 1
            index += 1
            continue
        if len(arg) > 1 and (arg[0] == "-" or (arg[0] == "+" and interpreter.plus_options)):
            for position, letter in enumerate(arg[1:], start=1):
                if letter in interpreter.code:
                    return arg
                if letter in interpreter.stdin:
                    return STDIN
                if letter == interpreter.module:
                    return None
                if letter in interpreter.takes_value:
                    if position == len(arg) - 1:
                        index += 1  # its value is the next argument
                    break
            index += 1
            continue
        return None  # a script file: what it publishes is named on the command line or not at all
    return STDIN


def find(command: Sequence[str]) -> str | None:
    """One line naming the argument by which ``command`` runs code publish cannot read
    (and what to do instead), or None."""
    for index, arg in enumerate(command):
        name = program_name(arg)
        if name == "xargs":
            return (
                "`xargs` builds the command from its standard input, so publish cannot see which files "
                "it uploads; name the package files as plain arguments"
            )
        interpreter = INTERPRETERS.get(name)
        if interpreter is None:
            continue
        rest = command[index + 1 :]
        how = takes_code(interpreter, rest)
        if how is None:
            continue
        if how == STDIN:
            # Only where a command starts: a word such as `python` elsewhere (an option's
            # value) with nothing after it is no program reading its standard input.
            before = command[index - 1] if index else ""
            if index and program_name(before) not in WRAPPERS and "=" not in before:
                continue
            return (
                f"`{name}` reads its code from standard input, so publish cannot see which files it "
                "uploads; run the upload command itself and name the package files as plain arguments"
            )
        after = rest[list(rest).index(how) + 1 :]
        code = after[0] if after else ""
        shown = shlex.quote(code[:60] + ("…" if len(code) > 60 else ""))
        return (
            f"`{name} {how}` runs code given on its command line ({shown}), so publish cannot see which "
            "files it uploads; run the upload command itself and name the package files as plain arguments"
        )
    return None
