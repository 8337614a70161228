"""Generated blocks in hand-written pages: what lies between a begin and an end marker is the benchmark's."""

from __future__ import annotations

from pathlib import Path


def has_block(page: str, begin: str, end: str) -> bool:
    return begin in page and end in page


def replace_block(page: str, begin: str, end: str, text: str) -> str:
    """`page` with what lies between `begin` and `end` replaced by a newline and `text` (which ends in one)."""
    if not has_block(page, begin, end):
        raise SystemExit(f"no {begin} ... {end} block to write into")
    head, rest = page.split(begin, 1)
    return f"{head}{begin}\n{text}{end}{rest.split(end, 1)[1]}"


def write_block(path: Path, begin: str, end: str, text: str) -> None:
    """Replace the block between the markers in the file at `path` (SystemExit naming both when it has none)."""
    page = path.read_text(encoding="utf-8")
    if not has_block(page, begin, end):
        raise SystemExit(f"{path}: no {begin} ... {end} block to write into")
    path.write_text(replace_block(page, begin, end, text), encoding="utf-8")
