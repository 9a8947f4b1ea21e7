"""The HTML report in a real browser: headless Chromium (Debian's ``chromium``, installed by
``.ci/run``) renders it; the DOM holds the grid and the failure, the hostile test name stays
text, and the screenshot shows the grid's pass and fail colours under the verdict banner.

"With JavaScript off": headless Chromium ignores ``--disable-javascript`` and produces no
output with ``--blink-settings=scriptEnabled=false``, so instead the tests show that the page
has no script at all and that its Content-Security-Policy stops one that got in anyway (an
escaping bug): what Chromium renders here is what a browser with JavaScript off renders."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from report_builders import HOSTILE_NAME, MATRIX

from pytest_pipeline import cli
from pytest_pipeline.report.html import COLOURS

Image = pytest.importorskip("PIL.Image", reason="Pillow reads the screenshot (the [test] extra has it)")

TIMEOUT = 120
# Flags that keep Chromium from reaching for the network or its own services on a closed machine.
QUIET = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
BANNER_CLOSED = (0xA4, 0x0E, 0x26)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("chromium is not installed (.ci/run installs it: apt-get install -y chromium)")
    return found


def browse(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium(), *QUIET, f"--user-data-dir={profile}", *args, page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def rows_with(image: object, colour: tuple[int, int, int]) -> list[int]:
    """The y of every pixel row holding at least 8 pixels of exactly ``colour``."""
    width, height = image.size  # type: ignore[attr-defined]
    data = image.convert("RGB").tobytes()  # type: ignore[attr-defined]
    wanted = bytes(colour)
    rows = []
    for y in range(height):
        row = data[y * width * 3 : (y + 1) * width * 3]
        hits = sum(1 for x in range(0, len(row), 3) if row[x : x + 3] == wanted)
        if hits >= 8:
            rows.append(y)
    return rows


def bands(rows: list[int], gap: int = 60) -> list[tuple[int, int]]:
    """Runs of rows no more than ``gap`` apart: separate things on the page."""
    found: list[tuple[int, int]] = []
    for y in rows:
        if found and y - found[-1][1] <= gap:
            found[-1] = (found[-1][0], y)
        else:
            found.append((y, y))
    return found


class Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.text_in: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in ("meta", "br", "link", "img", "input"):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        for tag in set(self.stack):
            self.text_in.setdefault(tag, []).append(data)

    def text(self, tag: str) -> str:
        return "".join(self.text_in.get(tag, ()))


@pytest.fixture
def page(make_reports: Callable[..., Path]) -> Path:
    root = make_reports()
    assert cli.main(["report", "--html"]) == 0
    return root / "report.html"


def test_dom_with_javascript_off_has_the_grid_and_the_failure(page: Path, tmp_path: Path) -> None:
    done = browse(page, tmp_path / "profile", "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    dom = Dom()
    dom.feed(done.stdout)
    assert "script" not in dom.tags
    assert "img" not in dom.tags
    grid = dom.text("table")
    for name in MATRIX:
        assert name in grid
    assert "3.10" in grid
    assert "attrs=23.2" in grid
    assert "unit: " not in grid  # labels are attributes; the visible words are the stage and counts
    assert "1 failed, 1 passed" in grid
    summary = dom.text("summary")
    assert f"tests.unit.test_page::{HOSTILE_NAME}" in summary  # the hostile name, as text
    assert "<img src=x onerror=alert(2)>" in summary
    assert "GATE CLOSED (3)" in dom.text("header")


def test_content_security_policy_stops_a_script_that_got_in(page: Path, tmp_path: Path) -> None:
    html = page.read_text(encoding="utf-8")
    smuggled = tmp_path / "smuggled.html"
    smuggled.write_text(
        html.replace("</body>", '<script>document.body.setAttribute("data-js", "ran")</script></body>'),
        encoding="utf-8",
    )
    control = tmp_path / "control.html"  # the same script without our policy: it runs
    control.write_text(smuggled.read_text(encoding="utf-8").replace("Content-Security-Policy", "x-none"))
    ran = browse(control, tmp_path / "profile", "--dump-dom")
    assert 'data-js="ran"' in ran.stdout
    blocked = browse(smuggled, tmp_path / "profile", "--dump-dom")
    assert blocked.returncode == 0, blocked.stderr[-2000:]
    assert "<table" in blocked.stdout
    assert 'data-js="ran"' not in blocked.stdout


def test_screenshot_shows_the_grid_colours_under_the_banner(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "top.png"
    done = browse(page, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,900")
    assert done.returncode == 0, done.stderr[-2000:]
    image = Image.open(shot)
    assert image.size == (1280, 900)
    banner = rows_with(image, BANNER_CLOSED)
    assert banner, "the closed gate's banner is not on screen"
    assert banner[0] < 20
    below = banner[-1]
    for state in ("passed", "failed", "flaky", "blocked"):
        rows = rows_with(image, rgb(COLOURS[state]))
        assert rows, f"no {state} mark in the first screen"
        assert rows[0] > below, f"{state} colour above the end of the banner"
        # A mark is a 24 px square: a colour that shows up in a few stray pixels is not one.
        assert max(b - a for a, b in bands(rows, gap=1)) >= 16, state
    # The not-run marks of the crashed cell are there too.
    assert rows_with(image, rgb(COLOURS["not-run"]))


def test_full_page_shows_the_failure_below_the_grid(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "page.png"
    done = browse(page, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,3000")
    assert done.returncode == 0, done.stderr[-2000:]
    image = Image.open(shot)
    failed = bands(rows_with(image, rgb(COLOURS["failed"])), gap=120)
    # The grid's marks and badges first, then further down the failure's badge and border.
    assert len(failed) >= 2, failed
    assert failed[1][0] > failed[0][1] + 120
