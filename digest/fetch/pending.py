"""Try again the article pages an earlier pass had no time for.

A page deferred by the page budget, the feed's page cap or a timeout leaves its article
stored with the feed's text and `page_pending` set (digest/fetch/ingest.py). After the
feeds, each pass fetches the pending pages of its feeds, oldest first and at most
RETRIES_PER_PASS, within what is left of the page budget and under the same per-host limits,
robots.txt and address checks. A fetched page's text replaces the feed's through the same
extract and cleaning as a fresh article's; a failed try counts an attempt, and after
storing.PAGE_ATTEMPTS the feed's text is kept for good (a dead page is not retried forever).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from digest.errors import ExtractError
from digest.fetch.articles import with_page
from digest.fetch.client import Fetcher
from digest.fetch.extract import extract_article
from digest.fetch.storing import Storage
from digest.fetch.workers import Workers
from digest.models import Article, Entry
from digest.store import Store

RETRIES_PER_PASS = 200  # pending pages read per pass (oldest first); the rest wait their turn


async def retry_pages(
    fetcher: Fetcher,
    workers: Workers,
    store: Store,
    storage: Storage,
    feed_urls: Sequence[str],
    progress: Callable[[str], None],
) -> int:
    """Return how many pending pages of these feeds were fetched and their text stored."""
    if not feed_urls:
        return 0
    pending = await asyncio.to_thread(store.pending_pages, feed_urls, RETRIES_PER_PASS)
    by_host: dict[str, deque[Article]] = {}
    for article in pending:
        by_host.setdefault((urlsplit(article.url).hostname or "").lower(), deque()).append(article)

    async def drain(queue: deque[Article]) -> int:
        # As many takers per host as the host has connections: a page waits in this queue,
        # not for a connection, so one that never started is not counted as an attempt.
        fetched = 0
        while queue:
            article = queue.popleft()
            if fetcher.page_room(article.feed_url):
                fetched += await retry_page(fetcher, workers, storage, article, progress)
        return fetched

    per_host = fetcher.settings.per_host
    done = await asyncio.gather(*(drain(q) for q in by_host.values() for _ in range(per_host)))
    if pending:
        progress(f"pending pages: {sum(done)} of {len(pending)} fetched")
    return sum(done)


async def retry_page(
    fetcher: Fetcher,
    workers: Workers,
    storage: Storage,
    article: Article,
    progress: Callable[[str], None],
) -> bool:
    """Return True when the article's page was fetched and its text stored; else count a try."""
    page = await fetcher.fetch_page(article.url, feed=article.feed_url)
    improved: Article | None = None
    why = page.error or "no body"
    if page.error is None and page.body is not None:
        # The entry as stored: its title cleans the page's text as a fresh article's does.
        entry = Entry(
            article.feed_url,
            article.guid,
            article.url,
            article.title,
            article.published,
            language=article.language,
        )
        url = page.final_url or article.url
        done = await workers.run(page_article, page.body, url, article, entry)
        improved, why = (done, why) if isinstance(done, Article) else (None, done)
    if improved is None:
        progress(f"{article.url}: pending page not fetched ({why}); feed text kept")
    await storage.save_page(improved or article, fetched=improved is not None)
    return improved is not None


def page_article(body: bytes, url: str, article: Article, entry: Entry) -> Article | str:
    """Return the article with its page's text, as a fresh article gets it, or why not."""
    # Runs in a worker (extraction and the fingerprint are CPU work); a message travels
    # back where an ExtractError could not be unpickled.
    try:
        extracted = extract_article(body, url)
    except ExtractError as exc:
        return exc.message
    return with_page(article, entry, extracted, url)
