"""Wire fetch → parse → full text → extract/clean → dedup → store, one feed at a time.

Each feed is stored as soon as it is processed, in one transaction, followed by its state:
a crash loses at most the feed in flight, and a re-run only repeats it (duplicates are
ignored by the store). A bad feed becomes a Failure and an unhealthy FeedHealth; the others go on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urljoin

import httpx

from digest.config import Settings
from digest.dedup import FingerprintIndex, canonical_url, fingerprint
from digest.errors import DigestError, ExtractError
from digest.extract import clean_text, extract_article, html_to_text
from digest.fetch import Fetcher, make_client, next_feed_state, run_sync
from digest.models import (
    Article,
    Entry,
    Failure,
    FeedHealth,
    FeedSource,
    FeedState,
    FetchResult,
    IngestReport,
    ParsedFeed,
)
from digest.parse import parse_feed
from digest.store import Store
from digest.text import detect_language

Progress = Callable[[str], None]
FINGERPRINT_HORIZON = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    """What one feed's pass produced (internal to ingest, kept typed)."""

    source: FeedSource
    state: FeedState
    entries: int = 0
    new_articles: int = 0
    duplicates: int = 0
    not_modified: bool = False
    failure: Failure | None = None


def is_due(state: FeedState, now: datetime) -> bool:
    """Return True when a feed is enabled and its backoff (next_check_at) has passed."""
    return not state.disabled and (state.next_check_at is None or state.next_check_at <= now)


def fetch_and_store(
    settings: Settings,
    store: Store,
    sources: Sequence[FeedSource],
    now: datetime,
    *,
    client: httpx.AsyncClient | None = None,
    on_progress: Progress | None = None,
    force: bool = False,
) -> IngestReport:
    """Return what fetching, parsing and storing every due feed did."""
    return run_sync(
        ingest_async(
            settings, store, sources, now, client=client, on_progress=on_progress, force=force
        )
    )


async def ingest_async(
    settings: Settings,
    store: Store,
    sources: Sequence[FeedSource],
    now: datetime,
    *,
    client: httpx.AsyncClient | None = None,
    on_progress: Progress | None = None,
    force: bool = False,
) -> IngestReport:
    """Return the IngestReport of one pass (the async core of fetch_and_store)."""
    progress = on_progress or (lambda _msg: None)
    unique = list({s.url: s for s in sources}.values())
    states = {s.url: store.feed_state(s.url) for s in unique}
    index = FingerprintIndex(store.recent_fingerprints(now - FINGERPRINT_HORIZON))
    due = [s for s in unique if force or is_due(states[s.url], now)]
    for s in unique:
        if s not in due:
            progress(f"{s.label}: skipped (disabled or backing off)")
    own = client is None
    http = client or make_client(settings.fetch)
    try:
        fetcher = Fetcher(settings.fetch, http)
        tasks = [
            _one_feed(fetcher, settings, store, index, s, states[s.url], now, progress) for s in due
        ]
        outcomes = {}
        for done in asyncio.as_completed(tasks):
            outcome = await done
            outcomes[outcome.source.url] = outcome
            progress(_describe(outcome))
    finally:
        if own:
            await http.aclose()
    return _report(unique, states, outcomes)


def _describe(o: FeedOutcome) -> str:
    if o.failure is not None:
        return str(o.failure)
    if o.not_modified:
        return f"{o.source.label}: not modified"
    return f"{o.source.label}: {o.entries} entries, {o.new_articles} new"


async def _one_feed(
    fetcher: Fetcher,
    settings: Settings,
    store: Store,
    index: FingerprintIndex,
    source: FeedSource,
    state: FeedState,
    now: datetime,
    progress: Progress,
) -> FeedOutcome:
    result = await fetcher.fetch(source.url, state)
    new_state = next_feed_state(state, result, now, settings.fetch)
    if not result.ok:
        store.save_feed_state(new_state)
        message = result.error or f"HTTP {result.status}"
        return FeedOutcome(source, new_state, failure=Failure("fetch", source.url, message))
    if result.not_modified:
        store.save_feed_state(new_state)
        return FeedOutcome(source, new_state, not_modified=True)
    try:
        parsed = await asyncio.to_thread(parse_feed, result, source, now)
    except DigestError as exc:
        failed = _failed_state(state, now, settings, exc.message)
        store.save_feed_state(failed)
        return FeedOutcome(source, failed, failure=Failure(exc.stage, source.url, exc.message))
    known = store.stored_guids(source.url)
    fresh = [e for e in parsed.entries if e.guid not in known]
    articles = await asyncio.gather(
        *(_article(fetcher, settings, source, parsed, e, now, progress) for e in fresh)
    )
    unique = _unique(articles, index)
    new = store.add_articles(unique)
    new_state = replace(new_state, title=parsed.title or state.title)
    store.save_feed_state(new_state)
    duplicates = len(parsed.entries) - len(new)
    return FeedOutcome(source, new_state, len(parsed.entries), len(new), duplicates)


def _failed_state(state: FeedState, now: datetime, settings: Settings, message: str) -> FeedState:
    # A feed that answers 200 with something unparseable counts as a failing fetch.
    return next_feed_state(
        state, FetchResult(url=state.url, status=0, error=message), now, settings.fetch
    )


def _unique(articles: Sequence[Article | None], index: FingerprintIndex) -> list[Article]:
    seen: set[str] = set()
    kept: list[Article] = []
    for article in articles:
        if article is None or article.url in seen:
            continue
        seen.add(article.url)
        kept.append(replace(article, fingerprint=index.resolve(article.fingerprint)))
    return kept


def wants_full_text(source: FeedSource, feed_text: str, min_chars: int) -> bool:
    """Return True when the article page should be fetched for this entry's text."""
    if source.full_text == "never":
        return False
    return source.full_text == "always" or len(feed_text) < min_chars


async def _article(
    fetcher: Fetcher,
    settings: Settings,
    source: FeedSource,
    parsed: ParsedFeed,
    entry: Entry,
    now: datetime,
    progress: Progress,
) -> Article | None:
    feed_html = (
        entry.content_html
        if len(entry.content_html) >= len(entry.summary_html)
        else entry.summary_html
    )
    text = clean_text(html_to_text(feed_html), entry.title)
    url = entry.url
    page_language = None
    if entry.url and wants_full_text(source, text, settings.fetch.full_text_min_chars):
        page = await fetcher.fetch_page(entry.url)
        if page.error is not None:
            # Not a Failure: the feed's own text is kept and the digest is not incomplete.
            progress(f"{entry.url}: full text not fetched ({page.error}); feed text kept")
        if page.body is not None:
            try:
                extracted = await asyncio.to_thread(
                    extract_article, page.body, page.final_url or url
                )
            except ExtractError as exc:
                progress(f"{exc}; feed text kept")
                extracted = None
            if extracted is not None:
                if len(extracted.text) > len(text):
                    text = clean_text(extracted.text, entry.title)
                    page_language = extracted.language
                if extracted.canonical_url:
                    url = urljoin(page.final_url or url, extracted.canonical_url)
    title = entry.title or text[:80].rsplit(" ", 1)[0]
    if not title and not text:
        return None
    language = entry.language or source.language or parsed.language or page_language
    return Article(
        feed_url=source.url,
        source=source.name or parsed.title or source.url,
        guid=entry.guid,
        url=canonical_url(url) if url else f"{source.url}#{entry.guid}",
        title=title,
        published=entry.published or now,
        text=text,
        language=language or detect_language(f"{title}\n{text}"),
        fingerprint=fingerprint(text or title),
        fetched=now,
        tags=source.tags,
        image_url=entry.image_url,
        weight=source.weight,
    )


def _report(
    sources: Sequence[FeedSource], states: dict[str, FeedState], outcomes: dict[str, FeedOutcome]
) -> IngestReport:
    health: list[FeedHealth] = []
    for s in sources:
        o = outcomes.get(s.url)
        state = o.state if o else states[s.url]
        ok = o.failure is None if o else state.error_count == 0 and not state.disabled
        health.append(
            FeedHealth(
                url=s.url,
                name=s.name or state.title or s.url,
                ok=ok,
                error=str(o.failure.message) if o and o.failure else state.last_error,
                last_success_at=state.last_success_at,
                error_count=state.error_count,
                next_check_at=state.next_check_at,
                disabled=state.disabled,
            )
        )
    done = list(outcomes.values())
    return IngestReport(
        health=tuple(health),
        entries=sum(o.entries for o in done),
        new_articles=sum(o.new_articles for o in done),
        duplicates=sum(o.duplicates for o in done),
        not_modified=sum(1 for o in done if o.not_modified),
        failures=tuple(o.failure for o in done if o.failure is not None),
    )


def preview_article(
    settings: Settings,
    source: FeedSource,
    parsed: ParsedFeed,
    entry: Entry,
    now: datetime,
    *,
    client: httpx.AsyncClient | None = None,
    on_progress: Progress | None = None,
) -> Article | None:
    """Return the Article an entry would become (full text and cleaning included), unstored."""

    async def work() -> Article | None:
        http = client or make_client(settings.fetch)
        try:
            fetcher = Fetcher(settings.fetch, http)
            return await _article(
                fetcher, settings, source, parsed, entry, now, on_progress or (lambda _m: None)
            )
        finally:
            if client is None:
                await http.aclose()

    return run_sync(work())
