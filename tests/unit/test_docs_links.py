"""The README's and the docs' relative links lead somewhere: the file exists and, for
``page.md#anchor``, the page has that heading. The anchors are GitHub's (which MyST makes
too, ``myst_heading_anchors``), so a link works on GitHub, in a checkout and in the built
site. Sphinx checks the docs' links itself; nothing else checks the README's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")


def pages() -> list[Path]:
    docs = sorted(path for path in (ROOT / "docs").rglob("*.md") if "_build" not in path.parts)
    return [ROOT / "README.md", *docs]


def without_code(text: str) -> str:
    text = re.sub(r"^(`{3,}|~{3,}).*?^\1", "", text, flags=re.M | re.S)
    return re.sub(r"`[^`\n]*`", "", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading (and MyST's): lower case, inline code marks and
    punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"^(`{3,}|~{3,}).*?^\1", "", page.read_text(encoding="utf-8"), flags=re.M | re.S)
    return {slug(match) for match in re.findall(r"^#{1,6} (.+)$", text, flags=re.M)}


def links() -> list[tuple[str, str]]:
    found = []
    for page in pages():
        for target in LINK.findall(without_code(page.read_text(encoding="utf-8"))):
            if not re.match(r"^[a-z]+:", target):  # http:, https:, mailto: are not ours to check
                found.append((str(page.relative_to(ROOT)), target))
    return found


LINKS = links()


def test_the_pages_link_to_each_other() -> None:
    assert len(LINKS) >= 50
    assert any(page == "README.md" and target.startswith("docs/") for page, target in LINKS)


@pytest.mark.parametrize(("page", "target"), LINKS, ids=[f"{page} -> {target}" for page, target in LINKS])
def test_a_relative_link_leads_somewhere(page: str, target: str) -> None:
    path_part, _, anchor = target.partition("#")
    source = ROOT / page
    destination = (source.parent / path_part).resolve() if path_part else source
    assert destination.exists(), f"{page}: {target} names no file"
    if anchor:
        assert destination.suffix == ".md", f"{page}: {target}: an anchor into a file that is not a page"
        assert anchor in anchors(destination), f"{page}: {target}: no such heading in {path_part or page}"


def test_slugs_are_githubs() -> None:
    assert slug("`[tool.pytest-pipeline.gate]`") == "toolpytest-pipelinegate"
    assert slug("`pytest-pipeline rerun --failed`: re-run what failed") == (
        "pytest-pipeline-rerun---failed-re-run-what-failed"
    )
    assert slug("bench_merge.py") == "bench_mergepy"
