"""Store a fetch pass's feeds from one thread: near duplicates resolved, feeds batched.

SQLite has one writer and the event loop must never wait for it: every write of a pass goes to
one thread (workers.Batcher), which takes the feeds queued while it was busy and commits them
in one transaction (a feed alone when the pass is quiet); pending pages tried again
(digest/fetch/pending.py) are stored the same way. The near-duplicate index is read
from the store the first time a pass has articles to store (a pass of 304s never needs it)
and kept on the Store, so the next pass of the same process (the service) reads only the
articles stored since.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from digest.fetch.fingerprint import fingerprint
from digest.fetch.lsh import FingerprintIndex
from digest.fetch.workers import Batcher
from digest.models import Article, FeedState
from digest.store import STALE_FINGERPRINT, Store

HORIZON = timedelta(days=7)  # a copy of a text older than this is a new text again
PAGE_ATTEMPTS = 3  # later passes that try a pending page before its feed text is kept for good


@dataclass(frozen=True, slots=True)
class FeedWrite:
    """One feed's part of a pass to store: its next state and its fresh articles."""

    state: FeedState
    articles: tuple[Article, ...] = ()


@dataclass(frozen=True, slots=True)
class PageWrite:
    """A pending page tried again: the stored article with the page's text, or failed again."""

    article: Article
    fetched: bool


class Storage:
    """A pass's writes, done in one thread: `save` returns how many articles were new."""

    def __init__(self, store: Store, now: datetime, page_attempts: int = PAGE_ATTEMPTS) -> None:
        self.store, self.now, self.page_attempts = store, now, page_attempts
        self.index: FingerprintIndex | None = None
        self.batcher: Batcher[FeedWrite | PageWrite, int] = Batcher(self.write)

    async def save(self, state: FeedState, items: Sequence[Article] = ()) -> int:
        """Return how many of items were new, once they and the feed's state are stored."""
        return await self.batcher.run(FeedWrite(state, tuple(items)))

    async def save_page(self, article: Article, *, fetched: bool) -> None:
        """Store a pending article's page text (fetched) or count its failed attempt."""
        await self.batcher.run(PageWrite(article, fetched))

    def close(self) -> None:
        """Finish the queued writes and stop the thread."""
        self.batcher.close()

    def write(self, writes: Sequence[FeedWrite | PageWrite]) -> list[int]:
        """Return how many articles of each write were new (0 for a page), all stored."""
        feeds = [w for w in writes if isinstance(w, FeedWrite)]
        pages = [w for w in writes if isinstance(w, PageWrite)]
        new = iter(self.write_feeds(feeds) if feeds else [])
        if pages:
            self.write_pages(pages)
        return [next(new) if isinstance(w, FeedWrite) else 0 for w in writes]

    def write_feeds(self, writes: Sequence[FeedWrite]) -> list[int]:
        """Return how many articles of each write were new, stored in one transaction."""
        if any(w.articles for w in writes):
            # One lookup for the whole transaction, split back into its writes.
            items = iter(self.resolve(self.dedup_index(), [a for w in writes for a in w.articles]))
            writes = [
                replace(w, articles=tuple(next(items) for _ in w.articles)) if w.articles else w
                for w in writes
            ]
        stored = self.store.store_feeds([(w.state, w.articles) for w in writes])
        if self.index is not None and any(stored):
            self.index.last_id = max(self.index.last_id, *(max(ids) for ids in stored if ids))
        return [len(ids) for ids in stored]

    def write_pages(self, writes: Sequence[PageWrite]) -> None:
        """Store the pages fetched (fingerprints resolved as a fresh article's) and the failures."""
        fetched = [w.article for w in writes if w.fetched]
        if fetched:
            fetched = list(self.resolve(self.dedup_index(), fetched))
        failed = [w.article.id for w in writes if not w.fetched and w.article.id is not None]
        self.store.save_pages(fetched, failed, self.page_attempts)

    def resolve(self, index: FingerprintIndex, items: Sequence[Article]) -> tuple[Article, ...]:
        """Return items with each fingerprint replaced by its first near duplicate's."""
        fps = index.resolve_many([a.fingerprint for a in items], self.now.timestamp())
        # dataclasses.replace costs more than the lookup: only for the copies.
        return tuple(
            a if fp == a.fingerprint else replace(a, fingerprint=fp)
            for a, fp in zip(items, fps, strict=True)
        )

    def dedup_index(self) -> FingerprintIndex:
        """Return the near-duplicate index, up to date with the store (read once per pass)."""
        if self.index is None:
            self.index = load_index(self.store, self.now)
        return self.index


def load_index(store: Store, now: datetime) -> FingerprintIndex:
    """Return the store's index of recent fingerprints: the kept one, extended, or a new one."""
    since = now - HORIZON
    kept = store.fingerprint_cache
    index = kept if isinstance(kept, FingerprintIndex) else FingerprintIndex()
    index.expire(since.timestamp())
    rows = store.fingerprints_since(since, after_id=index.last_id)
    if any(fp.startswith(STALE_FINGERPRINT) for _, fp, _ in rows):
        # Stored before the hashing changed (schema v5): recomputed once, then read again.
        store.refresh_fingerprints(fingerprint)
        rows = store.fingerprints_since(since, after_id=index.last_id)
    index.add_known((fp, fetched.timestamp()) for _, fp, fetched in rows)
    if rows:
        index.last_id = max(index.last_id, rows[-1][0])
    store.fingerprint_cache = index
    return index
