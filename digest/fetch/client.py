"""Fetch feeds and pages politely: one httpx client, global and per-host limits, size caps.

Only this module (with the guarded connections of digest/fetch/addresses.py) touches the
network. Every fetch ends in a FetchResult (never an exception): an HTTP error, a timeout, an
oversized body or a refused address becomes `FetchResult.error`, so one bad feed never stops
the others. Bodies are read by digest/fetch/bodies.py; digest/fetch/feedstate.py turns a
result into the feed's next FeedState.

Safe by default: every connection (feeds, each redirect hop, pages, robots.txt, images) is
refused on a private, loopback, link-local or metadata address unless `fetch.allow_private`
lists its network, checked on the address actually connected to. `file:` URLs are read only
for the feeds a Fetcher is told are local (those named in the config, or by the operator).
Article pages share a per-pass budget (`fetch.page_budget`) and a per-feed cap
(`fetch.pages_per_feed`); a page refused by either, or timed out, keeps its feed text and
is marked `deferred` (digest/fetch/pending.py tries it again in a later pass).
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import replace
from typing import TypeVar
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego

from digest.config import FetchSettings, Settings
from digest.errors import FetchError
from digest.fetch.addresses import GuardedTransport, Resolver, resolve_host
from digest.fetch.bodies import is_local, read_body, read_file, too_big
from digest.fetch.feedstate import parse_retry_after
from digest.models import FeedSource, FeedState, FetchResult

T = TypeVar("T")

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
PERMANENT = (301, 308)


def make_client(
    settings: FetchSettings,
    *,
    resolve: Resolver | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> httpx.AsyncClient:
    """Return an AsyncClient with digest's User-Agent, timeouts, limits and address guard.

    `resolve` (default: the system resolver) and `ssl_context` (default: certifi's CAs)
    are parameters for tests.
    """
    return httpx.AsyncClient(
        headers={"User-Agent": settings.user_agent},
        timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
        transport=GuardedTransport(settings, resolve or resolve_host, ssl_context),
        # Redirects are followed by hand: to count them, refuse non-http(s) hops and
        # notice a permanent redirect of the feed itself.
        follow_redirects=False,
        trust_env=False,
    )


def local_feeds(settings: Settings) -> frozenset[str]:
    """Return the feeds that may be local files: those named in the config."""
    # Not feeds added from an OPML file (file:///etc/passwd), nor where an added feed moved.
    return frozenset(f.url for f in settings.all_feeds)


class Fetcher:
    """One pass of fetches sharing a client (from make_client), global and per-host limits.

    `local_feeds` are the file: URLs and paths this pass may read: the feeds named in the
    config (or on the command line); any other local URL is refused.
    """

    def __init__(
        self,
        settings: FetchSettings,
        client: httpx.AsyncClient,
        *,
        local_feeds: Collection[str] = (),
    ) -> None:
        self.settings = settings
        self.client = client
        self.local_feeds = frozenset(local_feeds)
        self.slots = asyncio.Semaphore(settings.concurrency)
        self.hosts: dict[str, asyncio.Semaphore] = {}
        self.robots: dict[str, Protego | None] = {}
        self.robots_locks: dict[str, asyncio.Lock] = {}
        self.page_deadline: float | None = None  # set by the pass's first page fetch
        self.pages: dict[str, int] = {}  # pages fetched (or queued) per feed this pass

    def _host_slot(self, url: str) -> asyncio.Semaphore:
        host = (urlsplit(url).hostname or "").lower()
        if host not in self.hosts:
            self.hosts[host] = asyncio.Semaphore(self.settings.per_host)
        return self.hosts[host]

    async def fetch(
        self, url: str, state: FeedState | None = None, *, accept: str = FEED_ACCEPT
    ) -> FetchResult:
        """Return the result of fetching url (conditionally when state has validators)."""
        started = time.monotonic()
        if is_local(url):
            if url not in self.local_feeds:
                why = "local file URL not allowed (only feeds named in the config are read)"
                return FetchResult(url=url, status=0, error=why)
            return read_file(url, self.settings.max_bytes, state)
        try:
            result = await self._follow(url, state, accept)
        except FetchError as exc:
            result = FetchResult(url=url, status=0, error=exc.message)
        except (httpx.InvalidURL, ValueError) as exc:
            # A malformed URL or Location ("http://[x/", a bad IDNA name) is this URL's
            # failure, not an exception for the caller: fetches end in a FetchResult.
            result = FetchResult(url=url, status=0, error=f"bad URL: {exc}")
        return replace(result, elapsed=time.monotonic() - started)

    async def _follow(self, url: str, state: FeedState | None, accept: str) -> FetchResult:
        headers = {"Accept": accept, "Accept-Encoding": "gzip, deflate"}
        if state is not None and state.etag:
            headers["If-None-Match"] = state.etag
        if state is not None and state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        current, permanent = url, None
        all_permanent = True
        for _hop in range(self.settings.max_redirects + 1):
            if urlsplit(current).scheme not in ("http", "https"):
                raise FetchError(url, f"unsupported URL scheme in {current!r}")
            # Each hop's address is checked as it is connected to (digest/fetch/addresses.py).
            async with self._host_slot(current), self.slots:
                try:
                    # The deadline covers the whole response (a server that sends one byte
                    # a second never trips httpx's per-read timeout), not the queueing.
                    async with asyncio.timeout(self.settings.timeout):
                        outcome = await self._get(url, current, headers)
                except TimeoutError:
                    limit = f"{self.settings.timeout:g} s"
                    return FetchResult(url, 0, error=f"timed out after {limit}", deferred=True)
            if isinstance(outcome, FetchResult):
                return replace(outcome, permanent_redirect=permanent)
            status, location = outcome
            all_permanent = all_permanent and status in PERMANENT
            current = urljoin(current, location)
            permanent = current if all_permanent else None
        raise FetchError(url, f"more than {self.settings.max_redirects} redirects")

    async def _get(
        self, url: str, current: str, headers: Mapping[str, str]
    ) -> FetchResult | tuple[int, str]:
        try:
            async with self.client.stream("GET", current, headers=headers) as response:
                if response.is_redirect and "location" in response.headers:
                    return response.status_code, response.headers["location"]
                return await self._read(url, current, response)
        except httpx.TimeoutException as exc:
            return FetchResult(url, 0, error=f"timed out ({type(exc).__name__})", deferred=True)
        except httpx.HTTPError as exc:
            raise FetchError(url, f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc

    async def _read(self, url: str, current: str, response: httpx.Response) -> FetchResult:
        h = response.headers
        head = FetchResult(
            url=url,
            status=response.status_code,
            final_url=current,
            content_type=h.get("content-type"),
            content_location=h.get("content-location"),
            etag=h.get("etag"),
            last_modified=h.get("last-modified"),
            retry_after=parse_retry_after(h.get("retry-after")),
        )
        if response.status_code == 304:
            return head
        if response.status_code >= 400 or response.status_code < 200:
            return replace(head, error=f"HTTP {response.status_code}")
        declared = h.get("content-length", "")
        if declared.isdigit() and int(declared) > self.settings.max_bytes:
            return replace(head, error=too_big(self.settings.max_bytes))
        encoding = h.get("content-encoding", "identity").strip().lower()
        if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
            return replace(head, error=f"unsupported content encoding {encoding!r}")
        try:
            body = await read_body(response, encoding, self.settings.max_bytes)
        except FetchError as exc:
            return replace(head, error=exc.message)
        return replace(head, body=body)

    async def allowed_by_robots(self, url: str) -> bool:
        """Return True when the site's robots.txt lets digest's User-Agent fetch url."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        lock = self.robots_locks.setdefault(origin, asyncio.Lock())
        async with lock:
            if origin not in self.robots:
                # Checked like the page: a public site's robots.txt may redirect to a
                # private or link-local address. A refused robots.txt counts as absent.
                result = await self.fetch(origin + "/robots.txt", accept="text/plain")
                parsed = None
                if result.status == 200 and result.body is not None:
                    parsed = Protego.parse(result.body.decode("utf-8", "replace"))
                self.robots[origin] = parsed
        rules = self.robots[origin]
        return rules is None or bool(rules.can_fetch(url, self.settings.user_agent))

    async def fetch_page(self, url: str, feed: str = "") -> FetchResult:
        """Return an article page (robots.txt honoured), within the pass's page budget and
        the per-feed cap (counted for `feed`); a page refused by either is an error result."""
        try:
            scheme = urlsplit(url).scheme
        except ValueError as exc:
            return FetchResult(url=url, status=0, error=f"bad URL: {exc}")
        if is_local(url) or scheme not in ("http", "https"):
            return FetchResult(url=url, status=0, error="only http(s) pages are fetched")
        if feed:
            self.pages[feed] = self.pages.get(feed, 0) + 1
            if self.pages[feed] > self.settings.pages_per_feed:
                cap = self.settings.pages_per_feed
                why = f"over {cap} pages for this feed"
                return FetchResult(url=url, status=0, error=why, deferred=True)
        if self.page_deadline is None:
            self.page_deadline = time.monotonic() + self.settings.page_budget
        left = self.page_deadline - time.monotonic()
        try:
            if left <= 0:
                raise TimeoutError
            # Queueing for a slot counts too: that is where a pass of slow pages waits.
            async with asyncio.timeout(left):
                if not await self.allowed_by_robots(url):
                    return FetchResult(url=url, status=0, error="disallowed by robots.txt")
                return await self.fetch(url, accept=PAGE_ACCEPT)
        except TimeoutError:
            budget = f"{self.settings.page_budget:g} s"
            why = f"page budget ({budget}) used up"
            return FetchResult(url=url, status=0, error=why, deferred=True)

    def page_room(self, feed: str) -> bool:
        """Return True when a page of feed may start now: budget left, feed under its cap."""
        if self.pages.get(feed, 0) >= self.settings.pages_per_feed:
            return False
        return self.page_deadline is None or self.page_deadline > time.monotonic()


async def _with_client(
    settings: FetchSettings,
    client: httpx.AsyncClient | None,
    work: Callable[[Fetcher], Awaitable[T]],
    local_feeds: Collection[str] = (),
) -> T:
    if client is not None:
        return await work(Fetcher(settings, client, local_feeds=local_feeds))
    async with make_client(settings) as own:
        return await work(Fetcher(settings, own, local_feeds=local_feeds))


async def fetch_all(
    urls_and_states: Sequence[tuple[str, FeedState]],
    settings: FetchSettings,
    *,
    client: httpx.AsyncClient | None = None,
) -> list[FetchResult]:
    """Return one FetchResult per (url, state), fetched concurrently, in the same order.

    The caller names these feeds, so local ones among them are read.
    """

    async def work(fetcher: Fetcher) -> list[FetchResult]:
        return list(await asyncio.gather(*(fetcher.fetch(u, s) for u, s in urls_and_states)))

    return await _with_client(settings, client, work, [u for u, _ in urls_and_states])


def run_sync(coro: Awaitable[T]) -> T:
    """Return the coroutine's result, running it in a fresh thread if a loop is running here."""

    async def main() -> T:
        return await coro

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    box: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            box.append(asyncio.run(main()))
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return box[0]


def fetch_feeds(
    sources: Sequence[FeedSource],
    states: Mapping[str, FeedState],
    settings: FetchSettings,
    *,
    client: httpx.AsyncClient | None = None,
) -> list[tuple[FeedSource, FetchResult]]:
    """Return each source with its fetch result (synchronous wrapper over fetch_all)."""
    pairs = [(s.url, states.get(s.url) or FeedState(url=s.url)) for s in sources]
    results = run_sync(fetch_all(pairs, settings, client=client))
    return list(zip(sources, results, strict=True))


def fetch_page(
    url: str, settings: FetchSettings, *, client: httpx.AsyncClient | None = None
) -> FetchResult:
    """Return one article page's FetchResult (robots.txt and address checks included)."""

    async def work(fetcher: Fetcher) -> FetchResult:
        return await fetcher.fetch_page(url)

    return run_sync(_with_client(settings, client, work))
