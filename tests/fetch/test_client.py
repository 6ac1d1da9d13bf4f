"""fetch: conditional GET, redirects, local files, Retry-After and the feed-state machine."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme
from httpserver import LOOPBACK, LoopbackServer, Reply, rss

from digest.config.settings import FetchSettings
from digest.fetch.addresses import Resolver, is_allowed, parse_networks
from digest.fetch.client import Fetcher, fetch_all, fetch_feeds, fetch_page, make_client
from digest.fetch.feedstate import next_feed_state, parse_retry_after
from digest.models import FeedSource, FeedState, FetchResult

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
STRICT = FetchSettings(timeout=5.0, connect_timeout=2.0)  # the defaults: no private address
FAST = replace(STRICT, allow_private=LOOPBACK)


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
        "http://[fe80::1]/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "file:///etc/passwd",
        "ftp://example.org/feed",
    ],
)
def test_pages_at_private_or_non_http_addresses_are_refused_by_default(url: str) -> None:
    result = fetch_page(url, STRICT)
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


# 127.0.0.1 plays a public site (allowed); 127.0.0.2, also loopback, plays the private
# network behind it (refused as any private address is).
PUBLIC = replace(STRICT, allow_private=("127.0.0.1/32",))


def _resolver(answers: dict[str, list[list[str]]], calls: list[str]) -> Resolver:
    """Return a resolver giving each host its answers in turn (the last one repeats)."""

    async def resolve(host: str) -> Sequence[str]:
        calls.append(host)
        queue = answers[host]
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return resolve


async def _fetch_page(
    settings: FetchSettings, url: str, resolve: Resolver | None = None
) -> FetchResult:
    async with make_client(settings, resolve=resolve) as client:
        return await Fetcher(settings, client).fetch_page(url)


def test_a_robots_txt_redirect_to_a_private_address_is_not_followed() -> None:
    with LoopbackServer() as server, LoopbackServer("127.0.0.2") as private:
        server.routes["/robots.txt"] = Reply(302, headers={"Location": private.url("/robots")})
        # Were it fetched, this would also forbid the page: the page shows it was not.
        private.routes["/robots"] = Reply(200, b"User-agent: *\nDisallow: /\n")
        server.routes["/story"] = Reply(200, b"<html><body><p>Story</p></body></html>")
        result = asyncio.run(_fetch_page(PUBLIC, server.url("/story")))
        assert server.paths() == ["/robots.txt", "/story"] and private.paths() == []
    assert result.ok and result.body and b"Story" in result.body


@pytest.mark.parametrize("target", ["private", "http://169.254.169.254/x", "file:///etc/passwd"])
def test_every_redirect_hop_of_a_page_is_checked(target: str) -> None:
    with LoopbackServer() as server, LoopbackServer("127.0.0.2") as private:
        location = private.url("/internal") if target == "private" else target
        server.routes["/story"] = Reply(302, headers={"Location": location})
        private.routes["/internal"] = Reply(200, b"<html><body><p>Internal</p></body></html>")
        result = asyncio.run(_fetch_page(PUBLIC, server.url("/story")))
        assert private.paths() == []
    assert not result.ok and result.body is None
    assert "non-public address" in (result.error or "") or "scheme" in (result.error or "")


def test_a_feeds_redirect_to_the_metadata_address_is_refused() -> None:
    with LoopbackServer() as server:
        meta = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
        server.routes["/feed"] = Reply(302, headers={"Location": meta})
        url = server.url("/feed")
        (result,) = asyncio.run(fetch_all([(url, FeedState(url=url))], PUBLIC))
    assert not result.ok and result.body is None
    assert "non-public address 169.254.169.254" in (result.error or ""), result.error


def test_a_feed_on_a_private_address_is_refused_unless_allowed() -> None:
    with LoopbackServer() as server:
        server.routes["/feed"] = Reply(200, rss([]))
        url = server.url("/feed")
        (refused,) = asyncio.run(fetch_all([(url, FeedState(url=url))], STRICT))
        (allowed,) = asyncio.run(fetch_all([(url, FeedState(url=url))], FAST))
        assert server.paths() == ["/feed"]  # only the allowed fetch reached the server
    assert "non-public address 127.0.0.1" in (refused.error or "")
    assert "fetch.allow_private" in (refused.error or "")
    assert allowed.ok and allowed.body


def test_a_rebinding_resolver_cannot_reach_the_private_address() -> None:
    # "localhost" first resolves to the allowed 127.0.0.2 (the public site), then to 127.0.0.1
    # (the private one, and what the system resolver says). A check on one look-up and a
    # connection on another would reach the secret; the pinned connection cannot.
    with LoopbackServer("127.0.0.1") as secret:
        secret.routes["/page"] = Reply(200, b"<html><body><p>secret</p></body></html>")
        with LoopbackServer("127.0.0.2", secret.port) as public:
            public.routes["/page"] = Reply(200, b"<html><body><p>public</p></body></html>")
            settings = replace(STRICT, allow_private=("127.0.0.2/32",))
            calls: list[str] = []
            resolve = _resolver({"localhost": [["127.0.0.2"], ["127.0.0.1"]]}, calls)
            url = f"http://localhost:{secret.port}/page"

            async def twice() -> list[FetchResult]:
                async with make_client(settings, resolve=resolve) as client:
                    first = await Fetcher(settings, client).fetch(url)
                # A new client, so a new connection and a new look-up.
                async with make_client(settings, resolve=resolve) as client:
                    return [first, await Fetcher(settings, client).fetch(url)]

            first, second = asyncio.run(twice())
            assert secret.paths() == []
            assert public.paths() == ["/page"]
    assert first.ok and first.body is not None and b"public" in first.body
    assert not second.ok and "non-public address 127.0.0.1" in (second.error or "")
    assert calls == ["localhost", "localhost"]  # once per connection, never beside it


def test_https_through_a_pinned_address_keeps_sni_and_host(tmp_path: Path) -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("news.example").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    with LoopbackServer(context=server_context) as server:
        server.routes["/feed"] = Reply(200, rss([("A", "https://news.example/a", "x")]))
        url = f"https://news.example:{server.port}/feed"
        resolve = _resolver({"news.example": [["127.0.0.1"]]}, [])

        async def fetch() -> FetchResult:
            async with make_client(PUBLIC, resolve=resolve, ssl_context=client_context) as c:
                return await Fetcher(PUBLIC, c).fetch(url)

        result = asyncio.run(fetch())
        host = server.requests[0][1]["Host"]
    # The certificate is for news.example only: it verified because SNI named the host.
    assert result.ok and result.body and b"news.example/a" in result.body, result.error
    assert host == f"news.example:{server.port}"


def test_local_feed_files_are_read_only_when_named(tmp_path: Path) -> None:
    feed = tmp_path / "f.xml"
    feed.write_bytes(rss([("A", "https://e.org/a", "x")]))

    async def both() -> tuple[FetchResult, FetchResult]:
        async with make_client(STRICT) as client:
            named = await Fetcher(STRICT, client, local_feeds={feed.as_uri()}).fetch(feed.as_uri())
            other = await Fetcher(STRICT, client).fetch("file:///etc/passwd")
            return named, other

    named, other = asyncio.run(both())
    assert named.ok and named.body == feed.read_bytes()
    assert not other.ok and other.body is None and "not allowed" in (other.error or "")


def test_a_malformed_url_is_a_failed_fetch_not_an_exception() -> None:
    result = fetch_page("http://[broken/x", STRICT)
    assert not result.ok and "bad URL" in (result.error or "")


@pytest.mark.parametrize(
    ("address", "allowed", "ok"),
    [
        ("93.184.216.34", (), True),
        ("10.1.2.3", (), False),
        ("10.1.2.3", ("10.0.0.0/8",), True),
        ("10.1.2.3", ("::/96",), False),  # an IPv6 network never admits an IPv4 address
        ("127.0.0.5", ("127.0.0.1/8",), True),  # host bits in the setting are ignored
        ("169.254.169.254", ("10.0.0.0/8",), False),
        ("224.0.0.1", (), False),
        ("::ffff:10.0.0.1", (), False),
    ],
)
def test_which_addresses_are_allowed(address: str, allowed: tuple[str, ...], ok: bool) -> None:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    assert is_allowed(ip, parse_networks(allowed)) is ok


def test_only_the_allowed_addresses_of_a_host_are_connected_to() -> None:
    # A name giving ::1 and 127.0.0.1 (as "localhost" does) with only 127.0.0.1 allowed
    # is fetched over 127.0.0.1; a name giving only refused addresses is refused.
    with LoopbackServer() as server:
        server.routes["/feed"] = Reply(200, rss([]))
        answers = {"both.test": [["::1", "169.254.169.254", "127.0.0.1"]], "none.test": [["::1"]]}
        resolve = _resolver(answers, [])

        async def fetch(host: str) -> FetchResult:
            async with make_client(PUBLIC, resolve=resolve) as client:
                return await Fetcher(PUBLIC, client).fetch(f"http://{host}:{server.port}/feed")

        both, none = asyncio.run(fetch("both.test")), asyncio.run(fetch("none.test"))
        assert server.paths() == ["/feed"]
    assert both.ok and both.body, both.error
    assert not none.ok and "none.test resolves to non-public address ::1" in (none.error or "")


EMBEDDING_PRIVATE = [
    "::7f00:1",  # IPv4-compatible 127.0.0.1
    "::a9fe:a9fe",  # IPv4-compatible 169.254.169.254
    "64:ff9b::a9fe:a9fe",  # NAT64 of the metadata address
    "64:ff9b::7f00:1",  # NAT64 of loopback
    "64:ff9b:1::a9fe:a9fe",  # local-use NAT64
    "2002:a9fe:a9fe::1",  # 6to4 of the metadata address
    "2002:0a00:0001::1",  # 6to4 of 10.0.0.1
    "::ffff:0:7f00:1",  # IPv4-translated 127.0.0.1
    "fec0::1",  # site-local
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "100::1",  # discard-only
    "3fff::1",  # documentation
]


@pytest.mark.parametrize("address", EMBEDDING_PRIVATE)
def test_ipv6_forms_of_private_addresses_are_refused(address: str) -> None:
    # The guard relied on is_global, which calls these IPv6 forms global: a feed host could
    # resolve to one and lead the fetcher to 127.0.0.1 or the cloud metadata address.
    calls: list[str] = []
    resolve = _resolver({"feeds.example": [[address]]}, calls)

    async def both() -> tuple[FetchResult, FetchResult]:
        async with make_client(STRICT, resolve=resolve) as client:
            by_name = await Fetcher(STRICT, client).fetch("http://feeds.example/feed")
            literal = await Fetcher(STRICT, client).fetch(f"http://[{address}]/feed")
            return by_name, literal

    by_name, literal = asyncio.run(both())
    for result in (by_name, literal):
        assert not result.ok and "non-public address" in (result.error or ""), result.error
    assert calls == ["feeds.example"]


@pytest.mark.parametrize(
    "address",
    ["2606:4700:4700::1111", "64:ff9b::5db8:d822", "2002:5db8:d822::1", "::ffff:93.184.216.34"],
)
def test_public_ipv6_and_forms_of_public_ipv4_stay_allowed(address: str) -> None:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    assert is_allowed(ip, ())
