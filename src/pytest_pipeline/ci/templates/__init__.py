"""The workflow files ``init-ci`` writes, kept as YAML next to this module.

They are plain text with ``@@name@@`` placeholders (CI expressions use ``${{ }}`` and
``$(...)``, so no format-string syntax would survive them) and optional blocks between
``# @@begin NAME@@`` and ``# @@end NAME@@`` lines, dropped when the option is off.
"""

from __future__ import annotations

import re
from importlib import resources

from pytest_pipeline.ci.provider import WorkflowOptions

_PLACEHOLDER = re.compile(r"@@([a-z_]+)@@")
_BLOCK = re.compile(r"^[ \t]*# @@(begin|end) ([a-z_]+)@@[ \t]*\n", re.MULTILINE)


def render(name: str, options: WorkflowOptions, extra: dict[str, str] | None = None) -> str:
    """The template ``name`` with ``options`` (and ``extra`` placeholders) filled in."""
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    text = _drop_blocks(text, {"publish": options.publish})
    values = {"python": options.python, "default_branch": options.default_branch, **(extra or {})}

    def substitute(match: re.Match[str]) -> str:
        return values[match.group(1)]  # a KeyError here is a bug in a template

    return _PLACEHOLDER.sub(substitute, text)


def _drop_blocks(text: str, keep: dict[str, bool]) -> str:
    out: list[str] = []
    position = 0
    skipping: str | None = None
    for match in _BLOCK.finditer(text):
        kind, block = match.group(1), match.group(2)
        if skipping is None:
            out.append(text[position : match.start()])
        if kind == "begin" and not keep[block]:
            skipping = block
        elif kind == "end" and skipping == block:
            skipping = None
        position = match.end()
    if skipping is None:
        out.append(text[position:])
    return "".join(out)
