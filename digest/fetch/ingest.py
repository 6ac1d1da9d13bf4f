"""Wire fetch → parse → full text → extract/clean → dedup → store, one feed at a time.

The event loop only fetches: parsing, cleaning and fingerprints run in worker processes (a
thread for small passes, digest/fetch/workers.py), and storage in one thread
(digest/fetch/storing.py), so a slow step never keeps a socket from being read. Each feed is
stored as soon as it is processed, its articles and state in one transaction (shared with the
feeds queued behind it): a crash loses at most the feeds in flight, and a re-run only repeats
them (the store ignores duplicates). A bad feed becomes a Failure and an unhealthy FeedHealth;
the others go on. Articles are built by digest/fetch/articles.py, and each feed's outcome adds
up to the pass's IngestReport in digest/fetch/outcomes.py. Pages a pass had no time for are
stored with the feed's text and tried again in the next passes (digest/fetch/pending.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import httpx

from digest.config import Settings
from digest.errors import DigestError, ExtractError
from digest.fetch.articles import draft_article, prepare_feed, wants_full_text, with_page
from digest.fetch.client import Fetcher, local_feeds, make_client, run_sync
from digest.fetch.extract import extract_article
from digest.fetch.feedstate import is_due, next_feed_state, settings_key
from digest.fetch.outcomes import FeedOutcome, describe_outcome, report_outcomes
from digest.fetch.pending import retry_pages
from digest.fetch.storing import Storage
from digest.fetch.workers import Workers, collector_paused
from digest.models import (
    Article,
    Entry,
    Failure,
    FeedSource,
    FeedState,
    FetchResult,
    IngestReport,
    ParsedFeed,
    Progress,
)
from digest.store import Store


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
    work = ingest_async(
        settings, store, sources, now, client=client, on_progress=on_progress, force=force
    )
    return run_sync(work)


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
    known = {state.url: state for state in store.feed_states()}
    states = {s.url: known.get(s.url) or FeedState(url=s.url) for s in unique}
    keys = {s.url: settings_key(settings.fetch, s) for s in unique}
    due = [s for s in unique if force or is_due(states[s.url], now, keys[s.url])]
    due_urls = {s.url for s in due}  # not `s in due`: a list scan per feed is n² comparisons
    for s in unique:
        if s.url not in due_urls:
            progress(f"{s.label}: skipped (disabled or backing off)")
    added = {f.url for f in store.added_feeds()}
    async with contextlib.AsyncExitStack() as stack:
        # Closed in reverse order on every path, so a failing pool shutdown still
        # closes the client this pass opened (a client passed in stays the caller's).
        stack.enter_context(collector_paused())
        http = await _client(stack, settings, client)
        workers = Workers(len(due))
        stack.callback(workers.close)
        storage = Storage(store, now)
        stack.callback(storage.close)
        fetcher = Fetcher(settings.fetch, http, local_feeds=local_feeds(settings))
        pass_ = _Pass(fetcher, workers, settings, store, storage, now, progress, added)
        outcomes = await pass_.run(due, states)
        # After the feeds, in what is left of the page budget: the pages earlier passes
        # had no time for (a feed answering 304 would never show their items again).
        await retry_pages(fetcher, workers, store, storage, [s.url for s in unique], progress)
    for source, moved_to in pass_.moves:
        move_feed(store, source, moved_to)
        progress(f"{source.label}: moved permanently to {moved_to}; feed updated")
    return report_outcomes(unique, states, outcomes)


async def _client(
    stack: contextlib.AsyncExitStack, settings: Settings, client: httpx.AsyncClient | None
) -> httpx.AsyncClient:
    """Return the caller's client, or a new one that the stack closes."""
    if client is not None:
        return client
    return await stack.enter_async_context(make_client(settings.fetch))


def move_feed(store: Store, source: FeedSource, new_url: str) -> None:
    """Give an added feed its new URL, keeping its state (its articles keep the old one)."""
    state = store.feed_state(source.url)
    store.add_feed(replace(source, url=new_url))
    store.save_feed_state(replace(state, url=new_url))
    store.remove_feed(source.url)


def wants_page(settings: Settings, source: FeedSource, entry: Entry, draft: Article) -> bool:
    """Return True when the entry's page should be fetched for its text (full_text does)."""
    min_chars = settings.fetch.full_text_min_chars
    return bool(entry.url) and wants_full_text(source, draft.text, min_chars)


async def full_text(
    fetcher: Fetcher,
    workers: Workers,
    settings: Settings,
    progress: Progress,
    source: FeedSource,
    entry: Entry,
    draft: Article,
) -> Article:
    """Return the draft, improved with its page's text when the feed carries only a teaser."""
    if not wants_page(settings, source, entry, draft):
        return draft
    try:
        return await _with_page_text(fetcher, workers, progress, source, entry, draft)
    except Exception as exc:
        # A page is an extra, never the feed's failure: an unexpected error from
        # trafilatura, lxml or a worker keeps the feed's own text for this one article
        # (not a Failure, so the feed's other articles are stored and its state stays ok).
        # The stack is logged: a page that keeps failing this way is a bug to report.
        logging.getLogger("digest.fetch").warning(
            "%s: full text failed unexpectedly", entry.url, exc_info=exc
        )
        progress(
            f"{entry.url}: full text failed (unexpected {type(exc).__name__}: {exc}); feed text kept"
        )
        return draft


async def _with_page_text(
    fetcher: Fetcher,
    workers: Workers,
    progress: Progress,
    source: FeedSource,
    entry: Entry,
    draft: Article,
) -> Article:
    # Over the pass's page budget or the feed's page cap, the feed's text is kept.
    page = await fetcher.fetch_page(entry.url, feed=source.url)
    if page.error is not None or page.body is None:
        # Not a Failure: the feed's own text is kept and the digest is not incomplete. A
        # page deferred (no time left, over the cap) is tried again next pass (pending.py).
        later = "; page retried next pass" if page.deferred else ""
        progress(f"{entry.url}: full text not fetched ({page.error}); feed text kept{later}")
        return replace(draft, page_pending=True) if page.deferred else draft
    try:
        extracted = await workers.run(extract_article, page.body, page.final_url or entry.url)
    except ExtractError as exc:
        progress(f"{exc}; feed text kept")
        return draft
    return with_page(draft, entry, extracted, page.final_url or entry.url)


@dataclass
class _Pass:
    """The shared parts of one ingest pass."""

    fetcher: Fetcher
    workers: Workers
    settings: Settings
    store: Store
    storage: Storage
    now: datetime
    progress: Progress
    added: set[str]
    moves: list[tuple[FeedSource, str]] = field(default_factory=list)

    async def run(
        self, due: Sequence[FeedSource], states: Mapping[str, FeedState]
    ) -> dict[str, FeedOutcome]:
        """Return each due feed's outcome, by URL, reporting each as it completes."""
        # Feeds in flight are bounded, not only connections: fetching outruns parsing, and
        # every fetched body waiting for a parser would otherwise sit in memory.
        in_flight = asyncio.Semaphore(2 * self.settings.fetch.concurrency)

        async def bounded(source: FeedSource) -> FeedOutcome:
            async with in_flight:
                try:
                    return await self.one_feed(source, states[source.url])
                except Exception as exc:
                    # Broad: feeds are processed inside this pass, so only here can a
                    # library bug on one feed be kept from ending the pass for the others.
                    return await self.crashed(source, states[source.url], exc)

        outcomes: dict[str, FeedOutcome] = {}
        for done in asyncio.as_completed([bounded(s) for s in due]):
            outcome = await done
            outcomes[outcome.source.url] = outcome
            self.progress(describe_outcome(outcome))
        return outcomes

    async def one_feed(self, source: FeedSource, state: FeedState) -> FeedOutcome:
        result = await self.fetcher.fetch(source.url, state)
        key = settings_key(self.settings.fetch, source)
        new_state = next_feed_state(state, result, self.now, self.settings.fetch, key)
        if not result.ok:
            await self.storage.save(new_state)
            failure = Failure("fetch", source.url, result.error or f"HTTP {result.status}")
            return FeedOutcome(source, new_state, failure=failure)
        self.follow_move(source, result.permanent_redirect)
        if result.not_modified:
            await self.storage.save(new_state)
            return FeedOutcome(source, new_state, not_modified=True)
        # A read: it need not wait behind the storage thread's writes (SQLite WAL).
        known = await asyncio.to_thread(self.store.stored_guids, source.url)
        prepared = await self.workers.run(prepare_feed, result, source, self.now, known)
        if isinstance(prepared, Failure):
            # A feed that answers 200 with something unusable counts as a failing fetch.
            bad = FetchResult(url=source.url, status=0, error=prepared.message)
            failed = next_feed_state(state, bad, self.now, self.settings.fetch, key)
            await self.storage.save(failed)
            return FeedOutcome(source, failed, failure=prepared)
        articles = [a for _, a in prepared.drafts]
        # Only entries that want their page become tasks: a task per entry of a full-text
        # feed was about 1.5 s of a profiled 1,000-feed cold pass's event loop.
        wanted = [
            i for i, (e, a) in enumerate(prepared.drafts) if wants_page(self.settings, source, e, a)
        ]
        pages = await asyncio.gather(
            *(
                full_text(self.fetcher, self.workers, self.settings, self.progress, source, *d)
                for d in (prepared.drafts[i] for i in wanted)
            )
        )
        for i, article in zip(wanted, pages, strict=True):
            articles[i] = article
        titled = replace(new_state, title=prepared.title or state.title)
        new = await self.storage.save(titled, unique_urls(articles))
        count = prepared.entries
        return FeedOutcome(source, new_state, count, new, count - new)

    async def crashed(self, source: FeedSource, state: FeedState, exc: Exception) -> FeedOutcome:
        """Return the outcome of a feed whose processing raised, recording it as an error."""
        failure = Failure.unexpected("ingest", source.url, exc, prefix="unexpected ")
        message = failure.message
        failed = next_feed_state(
            state,
            FetchResult(url=source.url, status=0, error=message),
            self.now,
            self.settings.fetch,
            settings_key(self.settings.fetch, source),
        )
        with contextlib.suppress(DigestError):  # the store itself may be what failed
            await self.storage.save(failed)
        return FeedOutcome(source, failed, failure=failure)

    def follow_move(self, source: FeedSource, moved_to: str | None) -> None:
        """Note a permanent redirect: added feeds move after the pass; config feeds are named."""
        if not moved_to or moved_to == source.url:
            return
        if source.url in self.added:
            self.moves.append((source, moved_to))
        else:
            self.progress(f"{source.label}: moved permanently to {moved_to}; update the feed list")


def unique_urls(articles: Sequence[Article]) -> list[Article]:
    """Return the articles without repeats of a URL (the first of each is kept)."""
    first: dict[str, Article] = {}
    for a in articles:
        first.setdefault(a.url, a)
    return list(first.values())


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
    draft = draft_article(source, parsed, entry, now)
    if draft is None:
        return None
    found = draft
    progress = on_progress or (lambda _m: None)

    async def work() -> Article:
        async with contextlib.AsyncExitStack() as stack:
            http = await _client(stack, settings, client)
            workers = Workers(0)
            stack.callback(workers.close)
            fetcher = Fetcher(settings.fetch, http, local_feeds=local_feeds(settings))
            return await full_text(fetcher, workers, settings, progress, source, entry, found)

    return run_sync(work())
