"""Opening a page in headless Chromium, and reading what it shows.

- :func:`chromium`: the browser's path; a test without it skips (fails under ``CI=true``,
  where ``.ci/run`` installs Debian's ``chromium``).
- :func:`dump_dom`: the DOM after the page loaded (``--dump-dom``), as the browser built it.
- :func:`screenshot`: a PNG of the page (``--screenshot``).
- :class:`Page`: a parsed page: its elements (tag, attributes), its text, and each
  ``data-figure`` element's text.
- :func:`png_colours`: the distinct colours of a PNG (8-bit RGB/RGBA), decoded with
  zlib and struct only.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
         "--disable-extensions", "--disable-background-networking", "--disable-sync", "--disable-component-update")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is not installed (.ci/run installs it: apt-get install -y chromium)")
    pytest.skip("chromium is not installed (apt-get install -y chromium)")


def _run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home)}  # its profile in a folder of the test's own
    return subprocess.run([chromium(), *FLAGS, f"--user-data-dir={home / 'profile'}", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def dump_dom(page: Path, home: Path) -> str:
    proc = _run("--dump-dom", page.resolve().as_uri(), home=home)
    assert proc.returncode == 0 and "<html" in proc.stdout, proc.stderr[-2000:]
    return proc.stdout


def screenshot(page: Path, out: Path, home: Path, size: str = "1100,2400") -> bytes:
    proc = _run(f"--screenshot={out}", f"--window-size={size}", page.resolve().as_uri(), home=home)
    assert proc.returncode == 0 and out.is_file(), proc.stderr[-2000:]
    return out.read_bytes()


class Page(HTMLParser):
    """A page's elements, text and figures (``data-figure`` → the element's text)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.figures: dict[str, str] = {}
        self.title = ""
        self._open: list[tuple[str, str | None, list[str]]] = []
        self._text: list[str] = []
        self.feed(html)
        self.close()

    @property
    def text(self) -> str:
        return "".join(self._text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.elements.append((tag, a))
        if tag not in ("meta", "br", "rect", "line", "input", "img", "link"):
            self._open.append((tag, a.get("data-figure"), []))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            name, figure, text = self._open.pop()
            joined = "".join(text)
            if self._open:
                self._open[-1][2].append(joined)
            if figure is not None:
                self.figures[figure] = joined.strip()
            if name == "title" and not self.title:  # the page's, not an SVG <title>
                self.title = joined
            if name == tag:
                return

    def handle_data(self, data: str) -> None:
        self._text.append(data)
        if self._open:
            self._open[-1][2].append(data)

    def figure(self, key: str) -> int:
        """A counted figure as an int (``1,234`` → 1234)."""
        return int(self.figures[key].replace(",", ""))


def png_colours(data: bytes) -> set[bytes]:
    """The distinct pixel colours of an 8-bit, non-interlaced RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    channels = 0
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, _height, depth, colour, _c, _f, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride = zlib.decompress(idat), width * channels
    prev, colours = bytearray(stride), set[bytes]()
    for y in range(len(raw) // (stride + 1)):
        ftype, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, upleft = prev[i], prev[i - channels] if i >= channels else 0
            if ftype == 1:
                line[i] = (line[i] + left) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + up) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif ftype == 4:
                p = left + up - upleft
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upleft)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else upleft)) & 0xFF
        colours.update(bytes(line[i:i + 3]) for i in range(0, stride, channels * 7))  # every 7th pixel
        prev = line
    return colours
