"""Right-to-left text for the PDF: Arabic shaping and bidi reordering of wrapped lines.

ReportLab draws a line's glyphs in the order they are stored; its own bidi support needs
`rlbidi`, which we do not have. So the PDF does the two steps itself, and only for text that
holds right-to-left letters (a regular-expression check first; the common case costs nothing):

1. Shaping, before line breaking: `shape()` turns each run of Arabic letters into its joined
   presentation forms (arabic-reshaper), so widths are measured on the glyphs that are drawn.
2. Reordering, after line breaking: Paragraph wraps the text in logical order, then, when a
   line is drawn, `visual_line()` reorders that line alone with the Unicode bidi algorithm
   (python-bidi resolves the embedding levels; rules L1 and L2 and mirroring are applied
   here). Reordering per wrapped line is what the algorithm prescribes, so a multi-line
   Hebrew or Arabic paragraph reads top to bottom, and each style run (bold, font, link)
   keeps its own characters.

Limits: levels are resolved per line rather than per paragraph, which can only differ for
neutral characters (spaces, punctuation) at a line's ends; a paragraph's base direction is
that of its first strong letter, but it keeps its style's alignment (a Hebrew headline in a
left-aligned style stays left-aligned, and justified lines stay justified); the levels are
read from python-bidi's debug output (checked: one per character, else no reordering);
shaping is arabic-reshaper's presentation forms, not OpenType shaping (no marks positioning,
no Persian/Urdu-specific forms beyond what it knows); `visual_text()`, for single lines drawn
straight on the canvas, reorders the whole string at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TypeVar

from arabic_reshaper import ArabicReshaper
from bidi import get_base_level, get_display
from bidi.mirror import MIRRORED

# Hebrew, Arabic, Syriac, Thaana, NKo, Samaritan and their presentation forms.
RTL = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff]")
_HYPHENS = "-\u00ad\u2010"
_LEVEL = re.compile(r"Level\(\s*(\d+),?\s*\)")

T = TypeVar("T")


def has_rtl(text: str) -> bool:
    """Return True when text holds a right-to-left letter (the cheap check)."""
    return RTL.search(text) is not None


@lru_cache(maxsize=1)
def _reshaper() -> ArabicReshaper:
    # Keep harakat (vowel marks) and the lam-alef ligatures; they are in DejaVu Sans.
    return ArabicReshaper(configuration={"delete_harakat": False})


@lru_cache(maxsize=4096)  # one call per word: feeds repeat their words
def shape(text: str) -> str:
    """Return text with Arabic letters joined (presentation forms); other text unchanged."""
    if _ARABIC.search(text) is None:
        return text
    shaped: str = _reshaper().reshape(text)
    return shaped


def visual_text(text: str) -> str:
    """Return one line of logical text shaped and in display order (for canvas strings)."""
    if not has_rtl(text):
        return text
    display: str = get_display(shape(text))
    return display


def base_level(text: str) -> int:
    """Return 1 when the paragraph's first strong letter is right-to-left, else 0."""
    level: int = get_base_level(text)
    return level


def _levels(text: str, base: int) -> list[int] | None:
    """Return the resolved embedding level of every character, or None if unavailable."""
    # python-bidi's Rust core only returns display strings; its debug form lists the levels
    # it resolved (one `Level(n)` per UTF-8 byte, after the text and before `paragraphs`).
    info = str(get_display(text, base_dir="R" if base else "L", debug=True))
    start, end = info.rfind("\n    levels: ["), info.rfind("\n    paragraphs:")
    if start < 0 or end < start:
        return None
    per_byte = [int(n) for n in _LEVEL.findall(info, start, end)]
    if len(per_byte) != len(text.encode("utf-8")):
        return None
    levels, offset = [], 0
    for ch in text:
        levels.append(per_byte[offset])
        offset += len(ch.encode("utf-8"))
    return levels


def visual_order(text: str, base: int) -> tuple[list[int], list[int]] | None:
    """Return (logical index per visual position, level per logical index) for one line.

    None when the line needs no reordering (no right-to-left level in an LTR paragraph).
    """
    levels = _levels(text, base)
    if levels is None:
        return None
    # A hyphen ending a broken line belongs to the word before it, whatever its direction.
    if len(text) > 1 and text[-1] in _HYPHENS and not text[-2].isspace():
        levels[-1] = levels[-2]
    # L1: whitespace at the end of the line goes back to the paragraph level.
    i = len(text)
    while i > 0 and text[i - 1].isspace():
        i -= 1
        levels[i] = base
    top = max(levels, default=0)
    odd = [level for level in levels if level % 2]
    if not odd:
        return None
    order = list(range(len(text)))
    # L2: from the highest level down to the lowest odd one, reverse every run at or above it.
    for level in range(top, min(odd) - 1, -1):
        i = 0
        while i < len(order):
            if levels[order[i]] < level:
                i += 1
                continue
            j = i
            while j < len(order) and levels[order[j]] >= level:
                j += 1
            order[i:j] = order[i:j][::-1]
            i = j
    return order, levels


def visual_line(
    runs: Sequence[T], text_of: Callable[[T], str], make: Callable[[T, str], T], base: int
) -> list[T]:
    """Return a line's style runs in display order, each holding its reordered characters.

    runs are in logical order; text_of reads a run's text and make copies a run with new
    text. Runs without text (anchors, images) stay where they were relative to their
    neighbours' first character; characters at odd levels are mirrored ("(" becomes ")").
    """
    owner: list[int] = []
    for k, run in enumerate(runs):
        owner += [k] * len(text_of(run))
    text = "".join(text_of(run) for run in runs)
    found = visual_order(text, base)
    if found is None:
        return list(runs)
    order, levels = found
    empty = {k for k, run in enumerate(runs) if not text_of(run)}
    out: list[T] = []
    current, chars = -1, list[str]()
    for i in order:
        k = owner[i]
        if k != current:
            if chars:
                out.append(make(runs[current], "".join(chars)))
            out += [runs[e] for e in sorted(empty) if e < k]
            empty -= {e for e in empty if e < k}
            current, chars = k, []
        ch = text[i]
        chars.append(MIRRORED.get(ch, ch) if levels[i] % 2 else ch)
    if chars:
        out.append(make(runs[current], "".join(chars)))
    out += [runs[e] for e in sorted(empty)]
    return out
