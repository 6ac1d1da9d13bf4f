"""Caps on text that reaches the store and the page: titles, article bodies, quoted sentences.

A hostile or broken feed can send a 1 MB title or a 400 KB run-on sentence; stored and quoted
whole, one such item made a 48 s render, a 122-page PDF and a 1.2 MB email. Text over a cap is
cut at a word boundary and ends with an ellipsis, so a reader sees that something was cut.
"""

from __future__ import annotations

MAX_TITLE_CHARS = 300  # a long headline is ~150 characters
MAX_SOURCE_CHARS = 200  # a feed's own name
MAX_TEXT_CHARS = 100_000  # a long feature is ~60,000 characters
MAX_SENTENCE_CHARS = 600  # a long news sentence is ~300 characters
ELLIPSIS = "…"
# Look this far back from the cap for a space; a longer "word" (a URL, CJK text) is cut hard.
_WORD_SLACK = 0.2


def shorten(text: str, limit: int) -> str:
    """Return text unchanged when at most limit characters, else cut at a word with '…'."""
    if len(text) <= limit:
        return text
    head = text[: limit - len(ELLIPSIS) + 1]
    space = max(head.rfind(" "), head.rfind("\n"))
    cut = space if space >= limit * (1 - _WORD_SLACK) else limit - len(ELLIPSIS)
    return head[:cut].rstrip(" \n\t,;:.-–—") + ELLIPSIS
