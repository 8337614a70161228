"""Text from a person, a file or an address, made safe to put inside Streamlit's Markdown.

Streamlit renders most element text as Markdown, with its own extensions (`:red[...]`, `:material/...:`,
emoji shortcodes, `$...$` LaTeX). A CSV column, a file name or a key of a crafted link could otherwise show a
link, bold red text or an image fetched from another host. Every ASCII punctuation character is escaped with a
backslash, which CommonMark then shows as itself; and since GitHub-flavoured Markdown turns bare addresses
into links even so (`http://…`, `www.…`, `name@host`), a zero-width space goes where it would see one.
"""

from __future__ import annotations

import re

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character
_AUTOLINK = re.compile(r"(?i)(?:https?|ftp|mailto|www)(?=[:.])|@")  # where an address would begin
ZERO_WIDTH_SPACE = "\u200b"


def md(text: object) -> str:
    """`text` as Markdown that renders as these characters (on one line), never as a link or formatting."""
    one_line = " ".join(str(text).split())
    return _PUNCTUATION.sub(r"\\\1", _AUTOLINK.sub(lambda m: m.group(0) + ZERO_WIDTH_SPACE, one_line))
