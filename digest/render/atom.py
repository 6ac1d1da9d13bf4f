"""A digest's Atom feed (feedgen): one entry per published period, newest first.

Each entry carries the digest's HTML as its content and links to the page, the PDF and the
EPUB. Ids are urn:uuid values derived from the digest's name and the period key, so an
entry keeps its id when the period is built again and readers update it in place. Links are
relative (to the feed's own URL), like everything on the archive site.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from feedgen.feed import FeedGenerator

FEED_NAMESPACE = uuid.UUID("1b6a2f0e-94c5-4f1e-8a7b-6a0e3b8f2d41")
MEDIA_TYPES = {".pdf": "application/pdf", ".epub": "application/epub+zip", ".ics": "text/calendar"}


class Period(Protocol):
    """What the feed needs of a published period (render/site.py's SitePeriod)."""

    @property
    def digest(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def language(self) -> str: ...

    @property
    def period_key(self) -> str: ...

    @property
    def stem(self) -> str: ...

    @property
    def period_end(self) -> str: ...

    @property
    def generated_at(self) -> str: ...

    @property
    def headlines(self) -> tuple[str, ...]: ...

    @property
    def files(self) -> tuple[str, ...]: ...


def feed_id(digest: str) -> str:
    """Return the feed's stable id."""
    return f"urn:uuid:{uuid.uuid5(FEED_NAMESPACE, 'digest:' + digest)}"


def entry_id(digest: str, period_key: str) -> str:
    """Return a period's stable entry id."""
    return f"urn:uuid:{uuid.uuid5(FEED_NAMESPACE, f'{digest}|{period_key}')}"


def render_atom(periods: Sequence[Period], content: Callable[[Period], str]) -> bytes:
    """Return the Atom XML of a digest's periods (newest first); content(p) is its HTML."""
    if not periods:
        raise ValueError("render_atom: no periods")
    first = periods[0]
    fg = FeedGenerator()
    fg.id(feed_id(first.digest))
    fg.title(first.title)
    fg.author({"name": "digest"})
    fg.link(href="feed.atom", rel="self", type="application/atom+xml")
    fg.link(href="../index.html", rel="alternate", type="text/html")
    fg.language(first.language)
    fg.generator("digest")
    fg.updated(max(datetime.fromisoformat(p.generated_at) for p in periods))
    for p in periods:
        fe = fg.add_entry(order="append")
        fe.id(entry_id(p.digest, p.period_key))
        fe.title(f"{p.title}: {p.stem[:10]}")  # the local date, as the page names it
        fe.updated(datetime.fromisoformat(p.generated_at))
        fe.published(datetime.fromisoformat(p.period_end))
        fe.link(href=f"{p.stem}.html", rel="alternate", type="text/html")
        for ext in (".pdf", ".epub", ".ics"):
            if ext in p.files:
                fe.link(href=f"{p.stem}{ext}", rel="related", type=MEDIA_TYPES[ext])
        if p.headlines:
            fe.summary(" · ".join(p.headlines))
        fe.content(content(p), type="html")
    data: bytes = fg.atom_str(pretty=True)
    return data
