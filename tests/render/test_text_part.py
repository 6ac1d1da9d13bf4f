"""The plain-text part's layout: where each "Coming up" line starts."""

from __future__ import annotations

import re

from factories import make_digest

from digest.config.settings import DigestSettings
from digest.render.outputs import render_digest


def test_coming_up_items_start_at_the_margin_and_continue_indented() -> None:
    digest = make_digest("en")
    assert len(digest.coming_up) >= 2
    settings = DigestSettings(name=digest.name, title=digest.title, feeds=(), timezone="UTC")
    text = render_digest(digest, settings, formats=("html",)).text
    lines = text.splitlines()
    start = lines.index("COMING UP") + 2  # the heading, then its rule
    block = lines[start : lines.index("", start)]
    # One item per line at the margin (its date first); only a wrapped rest is indented.
    starts = [line for line in block if not line.startswith(" ")]
    assert len(starts) == len(digest.coming_up)
    for line, item in zip(starts, digest.coming_up, strict=True):
        # The dash keeps the date apart from the label ("Sun 11 Nov The next meeting" read
        # as one phrase when the wrap squeezed two spaces into one).
        date = f"{item.when:%a} {item.when.day} {item.when:%b}"
        assert re.match(rf"{date}( {item.when.year})? — \S", line), line
    assert all(line.startswith("    ") and line[4] != " " for line in block if line not in starts)
    assert all(len(line) <= 72 for line in block)
