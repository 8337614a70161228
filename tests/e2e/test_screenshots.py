"""The README's screenshots are made by `bench/screenshots.py` from the running app: the script still drives
today's pages to a finished run at both sizes, and writes pictures of the sizes the README shows."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from bench import screenshots

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header (its IHDR chunk comes first)."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def test_the_screenshot_script_takes_both_readme_pictures(e2e_server, e2e_browser, tmp_path):
    written = screenshots.take(e2e_browser, e2e_server, tmp_path)
    assert [p.name for p in written] == list(screenshots.SHOTS)
    readme = (ROOT / "README.md").read_text()
    for path in written:
        viewport, scale = screenshots.SHOTS[path.name]
        assert png_size(path) == (round(viewport["width"] * scale), round(viewport["height"] * scale))
        assert f"(.github/{path.name})" in readme  # the README shows this picture
        assert png_size(ROOT / ".github" / path.name) == png_size(path)  # and the committed one is today's size
