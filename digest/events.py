"""Articles -> ranked key events: cross-source clustering, ranking, continuing stories.

`find_events` groups a period's articles into events (the same story told by one or more
sources), marks events that continue one shown in an earlier digest, and ranks them.
`find_events_baseline` is the foundation's title baseline, kept for evaluation.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime

from digest.models import Article, Event, EventSummary, PastEvent
from digest.text import tokenize

# Recency half-life for ranking: a story from 12 h ago counts half as much as a fresh one.
RECENCY_HALF_LIFE_HOURS = 12.0
# Share of a past event's terms that a new event must repeat to count as its continuation.
CONTINUES_MIN_OVERLAP = 0.4
TERMS_PER_EVENT = 12

_TITLE_NOISE = re.compile(r"\s+[-–—|]\s+[^-–—|]{2,40}$")  # " - Reuters", " | BBC News"
_NON_WORD = re.compile(r"[^\w]+")


def event_key(articles: Sequence[Article]) -> str:
    """Return a stable key: a hash of the earliest article's URL (ties broken by URL)."""
    first = min(articles, key=lambda a: (a.published, a.url))
    return hashlib.sha1(first.url.encode("utf-8")).hexdigest()[:16]


def normalise_title(title: str) -> str:
    """Return the title lower-cased, without a trailing " - Source" and punctuation."""
    return _NON_WORD.sub(" ", _TITLE_NOISE.sub("", title).lower()).strip()


def _title_words(title: str) -> frozenset[str]:
    return frozenset(normalise_title(title).split())


def find_events_baseline(articles: Sequence[Article]) -> tuple[Event, ...]:
    """Return events of articles with the same or nearly the same title, others alone."""
    groups: list[list[Article]] = []
    words: list[frozenset[str]] = []
    for article in sorted(articles, key=lambda a: (a.published, a.url)):
        mine = _title_words(article.title)
        for i, theirs in enumerate(words):
            union = len(mine | theirs)
            if mine and union and len(mine & theirs) / union >= 0.8:
                groups[i].append(article)
                break
        else:
            groups.append([article])
            words.append(mine)
    events = [Event(key=event_key(g), articles=tuple(g)) for g in groups]
    return tuple(sorted(events, key=lambda e: (-len(e.sources), -e.last_seen.timestamp())))


def cluster_articles(articles: Sequence[Article]) -> list[list[Article]]:
    """Return the articles grouped into stories (for now: the title baseline)."""
    return [list(e.articles) for e in find_events_baseline(articles)]


def event_terms(articles: Sequence[Article], limit: int = TERMS_PER_EVENT) -> tuple[str, ...]:
    """Return the event's most frequent stemmed title and lead terms, most frequent first."""
    counts: Counter[str] = Counter()
    for article in articles:
        lead = article.text[:600]
        counts.update(set(tokenize(f"{article.title} {article.title} {lead}", article.language)))
    return tuple(t for t, _ in counts.most_common(limit))


def _score(event: Event, now: datetime, tag_weights: Mapping[str, float]) -> float:
    """Return the rank score: distinct sources, feed weight, tag weight and recency."""
    hours = max(0.0, (now - event.last_seen).total_seconds() / 3600.0)
    recency = 0.5 ** (hours / RECENCY_HALF_LIFE_HOURS)
    feed_weight = max(a.weight for a in event.articles)
    tag_weight = max((tag_weights.get(t, 1.0) for t in event.tags), default=1.0)
    breadth = 1.0 + math.log2(len(event.sources)) + 0.1 * math.log2(len(event.articles))
    return round(float(breadth * feed_weight * tag_weight * (0.5 + 0.5 * recency)), 6)


def _continuation(event: Event, terms: set[str], past: Sequence[PastEvent]) -> PastEvent | None:
    """Return the past event this one continues (shared article or shared terms), if any."""
    urls = {a.url for a in event.articles}
    best, best_overlap = None, 0.0
    for old in past:
        if urls & set(old.article_urls):
            return old
        if old.terms:
            overlap = len(terms & set(old.terms)) / min(len(old.terms), len(terms) or 1)
            if overlap >= CONTINUES_MIN_OVERLAP and overlap > best_overlap:
                best, best_overlap = old, overlap
    return best


def _mark(event: Event, past: Sequence[PastEvent]) -> Event:
    terms = set(event_terms(event.articles))
    old = _continuation(event, terms, past)
    if old is None:
        return event
    seen = set(old.article_urls)
    new_ids = tuple(a.id for a in event.articles if a.url not in seen and a.id is not None)
    return Event(
        key=old.key,
        articles=event.articles,
        score=event.score,
        developing_since=min(old.first_seen, event.first_seen),
        continues=old.key,
        new_article_ids=new_ids,
    )


def find_events(
    articles: Sequence[Article],
    *,
    now: datetime,
    past: Sequence[PastEvent] = (),
    tag_weights: Mapping[str, float] | None = None,
) -> tuple[Event, ...]:
    """Return the period's events, best first, marking those that continue a past event."""
    weights = tag_weights or {}
    events = []
    for group in cluster_articles(articles):
        event = Event(key=event_key(group), articles=tuple(group))
        event = _mark(event, past)
        events.append(
            Event(
                key=event.key,
                articles=event.articles,
                score=_score(event, now, weights),
                developing_since=event.developing_since,
                continues=event.continues,
                new_article_ids=event.new_article_ids,
            )
        )
    events.sort(key=lambda e: (-e.score, -e.last_seen.timestamp(), e.key))
    return tuple(events)


def past_event_from(summary: EventSummary) -> PastEvent:
    """Return what a later digest needs to recognise this event as continuing."""
    event = summary.event
    return PastEvent(
        key=event.key,
        headline=summary.headline,
        first_seen=event.developing_since or event.first_seen,
        article_urls=tuple(a.url for a in event.articles),
        terms=event_terms(event.articles),
    )
