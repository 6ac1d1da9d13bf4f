"""Fetch feeds and pages politely: one httpx client, global and per-host limits, size caps.

Only this module (with the DNS look-up in digest/fetch/addresses.py) touches the network. Every
fetch ends in a FetchResult (never an exception): an HTTP error, a timeout or an oversized
body becomes `FetchResult.error`, so one bad feed never stops the others. Bodies are read by
digest/fetch/bodies.py; digest/fetch/feedstate.py turns a result into the feed's next FeedState.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import TypeVar
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego

from digest.config import FetchSettings
from digest.errors import FetchError
from digest.fetch.addresses import Resolver, check_public, resolve_host
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


def make_client(settings: FetchSettings) -> httpx.AsyncClient:
    """Return an AsyncClient with digest's User-Agent, timeouts and connection limits."""
    return httpx.AsyncClient(
        headers={"User-Agent": settings.user_agent},
        timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
        limits=httpx.Limits(
            max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency
        ),
        # Redirects are followed by hand: to count them, check each hop's address and
        # notice a permanent redirect of the feed itself.
        follow_redirects=False,
        trust_env=False,
    )


class Fetcher:
    """One pass of fetches sharing a client, a global limit and per-host limits."""

    def __init__(
        self,
        settings: FetchSettings,
        client: httpx.AsyncClient,
        *,
        resolve: Resolver | None = None,
    ) -> None:
        self.settings = settings
        self.client = client
        # Injected so tests can tell a "public" loopback host from a private one.
        self.resolve = resolve or resolve_host
        self.slots = asyncio.Semaphore(settings.concurrency)
        self.hosts: dict[str, asyncio.Semaphore] = {}
        self.robots: dict[str, Protego | None] = {}
        self.robots_locks: dict[str, asyncio.Lock] = {}

    def _host_slot(self, url: str) -> asyncio.Semaphore:
        host = (urlsplit(url).hostname or "").lower()
        if host not in self.hosts:
            self.hosts[host] = asyncio.Semaphore(self.settings.per_host)
        return self.hosts[host]

    async def fetch(
        self,
        url: str,
        state: FeedState | None = None,
        *,
        accept: str = FEED_ACCEPT,
        check_address: bool = False,
    ) -> FetchResult:
        """Return the result of fetching url (conditionally when state has validators)."""
        started = time.monotonic()
        if is_local(url):
            if check_address:
                return FetchResult(url=url, status=0, error="local file URL not allowed")
            return read_file(url, self.settings.max_bytes, state)
        try:
            result = await self._follow(url, state, accept, check_address)
        except FetchError as exc:
            result = FetchResult(url=url, status=0, error=exc.message)
        except (httpx.InvalidURL, ValueError) as exc:
            # A malformed URL or Location ("http://[x/", a bad IDNA name) is this URL's
            # failure, not an exception for the caller: fetches end in a FetchResult.
            result = FetchResult(url=url, status=0, error=f"bad URL: {exc}")
        return replace(result, elapsed=time.monotonic() - started)

    async def _follow(
        self, url: str, state: FeedState | None, accept: str, check_address: bool
    ) -> FetchResult:
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
            if check_address and self.settings.block_private_addresses:
                await check_public(current, self.resolve)
            async with self._host_slot(current), self.slots:
                try:
                    # The deadline covers the whole response (a server that sends one byte
                    # a second never trips httpx's per-read timeout), not the queueing.
                    async with asyncio.timeout(self.settings.timeout):
                        outcome = await self._get(url, current, headers)
                except TimeoutError as exc:
                    limit = f"{self.settings.timeout:g} s"
                    raise FetchError(url, f"timed out after {limit}") from exc
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
            raise FetchError(url, f"timed out ({type(exc).__name__})") from exc
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
                result = await self.fetch(
                    origin + "/robots.txt", accept="text/plain", check_address=True
                )
                parsed = None
                if result.status == 200 and result.body is not None:
                    parsed = Protego.parse(result.body.decode("utf-8", "replace"))
                self.robots[origin] = parsed
        rules = self.robots[origin]
        return rules is None or bool(rules.can_fetch(url, self.settings.user_agent))

    async def fetch_page(self, url: str) -> FetchResult:
        """Return an article page, honouring robots.txt and blocking private addresses."""
        try:
            scheme = urlsplit(url).scheme
        except ValueError as exc:
            return FetchResult(url=url, status=0, error=f"bad URL: {exc}")
        if is_local(url) or scheme not in ("http", "https"):
            return FetchResult(url=url, status=0, error="only http(s) pages are fetched")
        if self.settings.block_private_addresses:
            try:
                await check_public(url, self.resolve)
            except FetchError as exc:
                return FetchResult(url=url, status=0, error=exc.message)
        if not await self.allowed_by_robots(url):
            return FetchResult(url=url, status=0, error="disallowed by robots.txt")
        return await self.fetch(url, accept=PAGE_ACCEPT, check_address=True)


async def _with_client(
    settings: FetchSettings,
    client: httpx.AsyncClient | None,
    work: Callable[[Fetcher], Awaitable[T]],
) -> T:
    if client is not None:
        return await work(Fetcher(settings, client))
    async with make_client(settings) as own:
        return await work(Fetcher(settings, own))


async def fetch_all(
    urls_and_states: Sequence[tuple[str, FeedState]],
    settings: FetchSettings,
    *,
    client: httpx.AsyncClient | None = None,
) -> list[FetchResult]:
    """Return one FetchResult per (url, state), fetched concurrently, in the same order."""

    async def work(fetcher: Fetcher) -> list[FetchResult]:
        return list(await asyncio.gather(*(fetcher.fetch(u, s) for u, s in urls_and_states)))

    return await _with_client(settings, client, work)


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
