"""Event summaries -> Digest: sections by feed tag, order, limits, "Coming up", feed health."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from digest.config import DigestSettings
from digest.events import told_as_past
from digest.models import DatedItem, Digest, EventSummary, FeedHealth, Section
from digest.text import strip_controls

MAX_COMING_UP = 10


def compose_digest(
    settings: DigestSettings,
    summaries: Sequence[EventSummary],
    *,
    period_start: datetime,
    period_end: datetime,
    now: datetime,
    health: Sequence[FeedHealth] = (),
    period: datetime | None = None,
) -> Digest:
    """Return the Digest of the ranked summaries: at most max_events, grouped by feed tag."""
    chosen = list(summaries)[: settings.max_events]
    digest = Digest(
        name=settings.name,
        title=settings.title,
        language=settings.language,
        timezone=settings.timezone,
        period_start=period_start,
        period_end=period_end,
        generated_at=now,
        sections=group_sections(chosen),
        coming_up=coming_up(chosen, now.astimezone(ZoneInfo(settings.timezone))),
        feed_health=tuple(health),
        period=period,
    )
    return scrub_digest(digest)


def scrub_digest(digest: Digest) -> Digest:
    """Return the digest with controls and bidi overrides stripped from every text in it.

    Fetch strips them before storing; rows stored before that (or an LLM's reply, or a
    config title) still reach render, and one character must not cost the whole digest
    (the EPUB writer refuses the book) nor turn text around on the page. Unchanged parts
    are shared, so a clean digest costs one regex scan per text.
    """
    return cast(Digest, _scrub(digest, {}))


def _scrub(value: Any, memo: dict[int, Any]) -> Any:
    if isinstance(value, str):
        return strip_controls(value)
    key = id(value)
    if key in memo:
        return memo[key]
    out = value
    if isinstance(value, tuple):
        items = tuple(_scrub(v, memo) for v in value)
        if any(a is not b for a, b in zip(items, value, strict=True)):
            out = items
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            old = getattr(value, f.name)
            new = _scrub(old, memo)
            if new is not old:
                changes[f.name] = new
        if changes:
            out = dataclasses.replace(value, **changes)
    memo[key] = out
    return out


def group_sections(summaries: Sequence[EventSummary]) -> tuple[Section, ...]:
    """Return sections keyed by each event's main feed tag, in order of their best event.

    Events keep their rank inside a section; a section's place is that of its first event,
    so the top story always opens the digest. Untagged events form a section titled "", and
    so do the events that are not news, after all the others.
    """
    groups: dict[str, list[EventSummary]] = {}
    for summary in summaries:
        tags = summary.event.tags
        if not summary.event.not_news:
            groups.setdefault(tags[0] if tags else "", []).append(summary)
    sections = [Section(title=tag, events=tuple(items)) for tag, items in groups.items()]
    # Not news (a horoscope, a forecast) follows all the news, untitled, even from a tag the
    # news sections have: "last" means after the news, not after its section's news.
    rest = tuple(s for s in summaries if s.event.not_news)
    if rest and sections and sections[-1].title == "":
        sections[-1] = Section(title="", events=sections[-1].events + rest)
    elif rest:
        sections.append(Section(title="", events=rest))
    return tuple(sections)


def coming_up(summaries: Sequence[EventSummary], local_now: datetime) -> tuple[DatedItem, ...]:
    """Return the dated items after the digest's local date, soonest first, each once.

    Once: a sentence naming two days ("on December 17 … on December 18") is listed at its
    first; an event's sources telling of one day, or two events' near-identical sentences
    of one day, are listed once.
    """
    today = local_now.date()
    items: list[tuple[DatedItem, int]] = []
    for n, summary in enumerate(summaries):
        items.extend(
            (item, n)
            for item in summary.dates
            if item.when > today and not told_as_past(item.label)
        )
    items.sort(key=lambda pair: (pair[0].when, pair[0].approximate))
    kept: list[tuple[DatedItem, int]] = []
    seen: set[str] = set()
    for item, event in items:
        words = _words(item.label)
        key = " ".join(sorted(words))
        if key in seen or any(
            k.when == item.when and (e == event or _alike(_words(k.label), words)) for k, e in kept
        ):
            continue  # the same sentence, or one event's (or one thing's) day again
        seen.add(key)
        kept.append((item, event))
    return tuple(item for item, _ in kept[:MAX_COMING_UP])


SAME_ITEM = 0.6  # share of words two labels of one day have in common when they tell one thing


def _words(label: str) -> frozenset[str]:
    return frozenset(re.findall(r"[^\W_]+", label.casefold()))


def _alike(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a and b) and len(a & b) / min(len(a), len(b)) >= SAME_ITEM
