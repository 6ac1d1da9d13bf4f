"""One digest's period: its stored articles as the digest sees them, its events, their summaries.

The pipeline hands over the period's stored articles and the digest's settings; here they get
the digest's own tags and weights per feed (`as_configured`), its keyword rules, clustering
and ranking (`period_events`), and the digest's summarizer (`choose_summarizer`,
`summarize_period`).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import httpx

from digest.config import DigestSettings, LlmSettings
from digest.errors import StoreError
from digest.events.cluster import find_events_explained
from digest.events.llm import LlmCache, LlmSummarizer
from digest.events.rank import news_first
from digest.events.rules import RulesOutcome, apply_rules
from digest.events.summarize import Summarizer, default_summarizer
from digest.models import (
    Article,
    Event,
    EventExplanation,
    EventSummary,
    Failure,
    FeedSource,
    PastEvent,
)


def as_configured(articles: Sequence[Article], sources: Sequence[FeedSource]) -> list[Article]:
    """Return articles with this digest's tags, weight and name for their feed.

    A feed listed by two digests (say with English tags in one and Russian in the other) is
    stored once; its sections and weight belong to each digest's own feed list.
    """
    by_url = {s.url: s for s in sources}
    out = []
    for a in articles:
        source = by_url.get(a.feed_url)
        if source is None:
            out.append(a)
        else:
            out.append(
                replace(a, tags=source.tags, weight=source.weight, source=source.name or a.source)
            )
    return out


def period_events(
    stored: Sequence[Article],
    d: DigestSettings,
    sources: Sequence[FeedSource],
    *,
    now: datetime,
    past: Sequence[PastEvent],
    explain: bool,
) -> tuple[tuple[Event, ...], tuple[EventExplanation, ...], RulesOutcome]:
    """Return the period's events, news first, why each one's articles were joined, and what
    the digest's keyword rules removed."""
    articles = as_configured(stored, sources)
    ruled = apply_rules(articles, include=d.include, exclude=d.exclude, feeds=sources)
    found, why = find_events_explained(
        list(ruled.kept), now=now, past=past, tag_weights=dict(d.tag_weights), explain=explain
    )
    found, why = news_first(found, why, d.not_news)
    return found, why, ruled


def choose_summarizer(
    llm: LlmSettings | None,
    d: DigestSettings,
    cache: LlmCache,
    client: httpx.Client | None,
    template_dirs: Sequence[Path],
) -> Summarizer:
    """Return the digest's summarizer: extractive, or a model behind the fact guard.

    A model gets client, or a new one when None (`summarize_period` closes it).
    """
    if d.summarizer != "llm" or llm is None:
        return default_summarizer()
    return LlmSummarizer(llm, client or httpx.Client(), cache, template_dirs, d.language)


def summarize_period(
    found: Sequence[Event],
    summarizer: Summarizer,
    *,
    sentences: int,
    now: datetime,
    close: bool,
) -> tuple[list[EventSummary], list[Failure], tuple[tuple[str, int], ...] | None]:
    """Return the events' summaries in order, a failure per event that got none, and a
    model's counts (None for the extractive summarizer). With close, a model's client is
    closed afterwards (it was made for this run)."""
    llm = summarizer if isinstance(summarizer, LlmSummarizer) else None

    def one(event: Event) -> EventSummary | Failure:
        try:
            return summarizer.summarize(event, sentences=sentences, now=now)
        except StoreError:
            raise  # the LLM summarizer's cache is in the database: not one event's failure
        except Exception as exc:  # one bad event must not sink the digest
            subject = event.articles[0].url if event.articles else event.key
            return Failure.unexpected("summarize", subject, exc)

    # A model endpoint answers several events at once; the extractive summary is CPU-bound.
    workers = llm.settings.concurrency if llm else 1
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(one, found))
    finally:
        if llm is not None and close:
            llm.client.close()
    failures = [r for r in results if isinstance(r, Failure)]
    counts = tuple(sorted(llm.counts.items())) if llm else None
    return [r for r in results if isinstance(r, EventSummary)], failures, counts
