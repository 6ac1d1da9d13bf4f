"""fetch: conditional GET, redirects, local files, Retry-After and the feed-state machine."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from httpserver import LoopbackServer, Reply, rss

from digest.config.settings import FetchSettings
from digest.fetch.addresses import Resolver, resolve_host
from digest.fetch.client import Fetcher, fetch_all, fetch_feeds, fetch_page, make_client
from digest.fetch.feedstate import next_feed_state, parse_retry_after
from digest.models import FeedSource, FeedState, FetchResult

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
FAST = FetchSettings(timeout=5.0, connect_timeout=2.0)


def test_conditional_get_sends_validators_and_reads_304() -> None:
    with LoopbackServer() as server:
        server.routes["/feed"] = lambda h: (
            Reply(304)
            if h.headers.get("If-None-Match") == '"v1"'
            else Reply(
                200, rss([]), {"ETag": '"v1"', "Last-Modified": "Mon, 23 Nov 2026 10:00:00 GMT"}
            )
        )
        url = server.url("/feed")
        first = asyncio.run(fetch_all([(url, FeedState(url=url))], FAST))[0]
        assert first.status == 200 and first.body and first.etag == '"v1"'
        state = next_feed_state(FeedState(url=url), first, NOW, FAST)
        assert state.etag == '"v1"' and state.last_modified and state.last_success_at == NOW
        second = asyncio.run(fetch_all([(url, state)], FAST))[0]
        assert second.not_modified and second.ok and second.body is None
        assert next_feed_state(state, second, NOW, FAST).etag == '"v1"'
        ua = server.requests[0][1]["User-Agent"]
        assert ua.startswith("digest/") and "https://" in ua


def test_permanent_redirect_is_recorded_and_temporary_is_not() -> None:
    with LoopbackServer() as server:
        server.routes["/old"] = Reply(301, headers={"Location": "/new"})
        server.routes["/tmp"] = Reply(302, headers={"Location": "/new"})
        server.routes["/new"] = Reply(200, rss([]))
        pairs = [(server.url(p), FeedState(url=server.url(p))) for p in ("/old", "/tmp")]
        old, tmp = asyncio.run(fetch_all(pairs, FAST))
    assert old.ok and old.permanent_redirect == server.url("/new")
    assert tmp.ok and tmp.permanent_redirect is None and tmp.final_url == server.url("/new")


def test_local_paths_and_file_urls(tmp_path: Path) -> None:
    feed = tmp_path / "f.xml"
    feed.write_bytes(rss([("A", "https://e.org/a", "x")]))
    sources = [FeedSource(str(feed)), FeedSource(feed.as_uri()), FeedSource(str(tmp_path / "no"))]
    results = fetch_feeds(sources, {}, FAST)
    assert [r.ok for _, r in results] == [True, True, False]
    assert results[0][1].body == feed.read_bytes()
    assert "cannot read" in (results[2][1].error or "")


def test_error_backoff_grows_and_disables_after_max_errors() -> None:
    settings = replace(FAST, max_errors=3)
    state = FeedState(url="u")
    failed = FetchResult(url="u", status=500, error="HTTP 500")
    delays = []
    for _ in range(3):
        state = next_feed_state(state, failed, NOW, settings)
        assert state.next_check_at is not None
        delays.append(state.next_check_at - NOW)
    assert delays[0] < delays[1] < delays[2]
    assert state.error_count == 3 and state.disabled and state.last_error == "HTTP 500"
    ok = next_feed_state(replace(state, disabled=False), FetchResult("u", 200, b"x"), NOW, settings)
    assert ok.error_count == 0 and ok.last_error is None and ok.next_check_at is None


def test_gone_disables_at_once_and_retry_after_is_honoured() -> None:
    gone = next_feed_state(FeedState("u"), FetchResult("u", 410, error="HTTP 410"), NOW, FAST)
    assert gone.disabled and gone.error_count == 1
    busy = FetchResult("u", 429, error="HTTP 429", retry_after=86400 * 2)
    later = next_feed_state(FeedState("u"), busy, NOW, FAST)
    assert later.next_check_at == NOW + timedelta(days=2) and not later.disabled


def test_parse_retry_after_accepts_seconds_and_dates() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 25 Nov 2026 12:01:00 GMT", NOW) == 60.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


COMPRESSION = Path(__file__).parents[1] / "data" / "feedparser" / "compression"


def test_compressed_bodies_from_feedparser_suite_are_inflated() -> None:
    cases = {
        "gzip.gz": "gzip",
        "deflate.z": "deflate",
        "deflate-no-headers.z": "deflate",
        "gzip-not-compressed.gz": "gzip",
        "deflate-not-compressed.z": "deflate",
    }
    with LoopbackServer() as server:
        for name, encoding in cases.items():
            body = (COMPRESSION / name).read_bytes()
            server.routes[f"/{name}"] = Reply(200, body, {"Content-Encoding": encoding})
        pairs = [(server.url(f"/{n}"), FeedState(url=server.url(f"/{n}"))) for n in cases]
        results = asyncio.run(fetch_all(pairs, FAST))
    for result in results:
        assert result.ok and result.body is not None, result
        assert b"<feed" in result.body or b"<rss" in result.body, result.url


def test_at_most_per_host_connections_at_once() -> None:
    active, peak = [0], [0]
    lock = threading.Lock()

    def slow(_h: object) -> Reply:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.15)
        with lock:
            active[0] -= 1
        return Reply(200, rss([]))

    with LoopbackServer() as server:
        for i in range(6):
            server.routes[f"/f{i}"] = slow
        pairs = [(server.url(f"/f{i}"), FeedState(url=server.url(f"/f{i}"))) for i in range(6)]
        started = time.monotonic()
        results = asyncio.run(fetch_all(pairs, replace(FAST, concurrency=16, per_host=2)))
    assert all(r.ok for r in results)
    assert peak[0] == 2 and time.monotonic() - started >= 0.45


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://10.1.2.3/",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data",
        "file:///etc/passwd",
        "ftp://example.org/feed",
    ],
)
def test_pages_at_private_or_non_http_addresses_are_refused(url: str) -> None:
    result = fetch_page(url, replace(FAST, block_private_addresses=True))
    assert not result.ok and result.body is None
    assert "non-public address" in (result.error or "") or "only http(s)" in (result.error or "")


def test_an_unchanged_local_feed_is_not_modified(tmp_path: Path) -> None:
    feed = tmp_path / "f.xml"
    feed.write_bytes(rss([("A", "https://e.org/a", "x")]))
    source = FeedSource(str(feed))
    ((_, first),) = fetch_feeds([source], {}, FAST)
    state = next_feed_state(FeedState(source.url), first, NOW, FAST)
    ((_, again),) = fetch_feeds([source], {source.url: state}, FAST)
    assert first.status == 200 and again.not_modified and again.body is None
    feed.write_bytes(rss([("B", "https://e.org/b", "y")]))
    ((_, changed),) = fetch_feeds([source], {source.url: state}, FAST)
    assert changed.status == 200 and b"https://e.org/b" in (changed.body or b"")


def _public_loopback(server: LoopbackServer) -> Resolver:
    """Return a resolver that calls 127.0.0.1 public; other names (localhost) resolve as usual."""

    async def resolve(host: str) -> Sequence[str]:
        # The loopback server stands in for a public site; "localhost" reaches the same
        # server but resolves to loopback, so it plays the private address behind it.
        return ["93.184.216.34"] if host == "127.0.0.1" else await resolve_host(host)

    return resolve


async def _fetch_page_as_public(server: LoopbackServer, path: str) -> FetchResult:
    settings = replace(FAST, block_private_addresses=True)
    async with make_client(settings) as client:
        fetcher = Fetcher(settings, client, resolve=_public_loopback(server))
        return await fetcher.fetch_page(server.url(path))


def test_a_robots_txt_redirect_to_a_private_address_is_not_followed() -> None:
    with LoopbackServer() as server:
        private = f"http://localhost:{server.port}"
        server.routes["/robots.txt"] = Reply(302, headers={"Location": f"{private}/internal"})
        # Were it fetched, this would also forbid the page: the page shows it was not.
        server.routes["/internal"] = Reply(200, b"User-agent: *\nDisallow: /\n")
        server.routes["/story"] = Reply(200, b"<html><body><p>Story</p></body></html>")
        result = asyncio.run(_fetch_page_as_public(server, "/story"))
        assert server.paths() == ["/robots.txt", "/story"]
    assert result.ok and result.body and b"Story" in result.body


@pytest.mark.parametrize("target", ["http://localhost:{port}/internal", "file:///etc/passwd"])
def test_every_redirect_hop_of_a_page_is_checked(target: str) -> None:
    with LoopbackServer() as server:
        server.routes["/story"] = Reply(302, headers={"Location": target.format(port=server.port)})
        server.routes["/internal"] = Reply(200, b"<html><body><p>Internal</p></body></html>")
        result = asyncio.run(_fetch_page_as_public(server, "/story"))
        assert "/internal" not in server.paths()
    assert not result.ok and result.body is None
    assert "non-public address" in (result.error or "") or "scheme" in (result.error or "")


def test_a_malformed_url_is_a_failed_fetch_not_an_exception() -> None:
    result = fetch_page("http://[broken/x", replace(FAST, block_private_addresses=True))
    assert not result.ok and "bad URL" in (result.error or "")
