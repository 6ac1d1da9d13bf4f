"""pending: article pages a pass had no time for keep the feed text and are retried later.

Over a real loopback server: a feed answering 304 once it has been read, pages that are slow
(past a tiny page budget), then fast, or that keep failing.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from httpserver import LOOPBACK, LoopbackServer, Reply, rss

from digest.config.settings import DigestSettings, FetchSettings, Settings
from digest.fetch.ingest import fetch_and_store
from digest.fetch.storing import PAGE_ATTEMPTS, FeedWrite, PageWrite, Storage
from digest.models import Article, FeedSource, FeedState
from digest.store import Store
from digest.store.database import open_store

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _settings(tmp_path: Path, source: FeedSource, **fetch: object) -> Settings:
    return Settings(
        config_path=None,
        data_dir=tmp_path,
        storage_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        outbox_dir=tmp_path / "outbox",
        digests=(DigestSettings(name="t", title="T", feeds=(source,)),),
        fetch=replace(FetchSettings(timeout=5.0, allow_private=LOOPBACK), **fetch),  # type: ignore[arg-type]
    )


def _story(i: int) -> str:
    """Return a distinct paragraph of about 120 words for page i."""
    rng = random.Random(i)
    words = [
        "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(4, 9))) for _ in range(120)
    ]
    return f"Story {i} begins here. " + " ".join(words) + "."


def _page(i: int) -> bytes:
    return f"<html><body><article><p>{_story(i)}</p></article></body></html>".encode()


def _fast(i: int) -> Reply:
    return Reply(200, _page(i), {"Content-Type": "text/html"})


def _slow(i: int) -> Reply:
    def drip() -> Iterator[bytes]:
        for byte in _page(i):
            yield bytes([byte])

    return Reply(200, chunks=drip, chunk_delay=1.0, headers={"Content-Type": "text/html"})


def _conditional(body: bytes) -> Callable[[BaseHTTPRequestHandler], Reply]:
    """Return a feed route that answers 304 to a client holding its ETag."""

    def handle(request: BaseHTTPRequestHandler) -> Reply:
        if request.headers.get("If-None-Match") == '"v1"':
            return Reply(304)
        return Reply(200, body, {"ETag": '"v1"'})

    return handle


def _serve(server: LoopbackServer, count: int, page: Callable[[int], Reply]) -> FeedSource:
    server.routes["/robots.txt"] = Reply(404)
    items = [(f"Story {i}", server.url(f"/page/{i}"), f"Teaser {i}.") for i in range(count)]
    server.routes["/feed"] = _conditional(rss(items))
    for i in range(count):
        server.routes[f"/page/{i}"] = page(i)
    return FeedSource(server.url("/feed"), full_text="always")


def _stored(store: Store) -> list[Article]:
    return sorted(
        store.articles_between(NOW - 2 * 24 * HOUR, NOW + 24 * HOUR), key=lambda a: a.guid
    )


def _attempts(settings: Settings) -> list[int]:
    with sqlite3.connect(settings.storage_url.removeprefix("sqlite:///")) as con:
        return [r[0] for r in con.execute("SELECT page_attempts FROM articles ORDER BY guid")]


def _page_requests(server: LoopbackServer) -> int:
    return sum(p.startswith("/page/") for p in server.paths())


def test_pages_past_the_budget_are_fetched_next_pass_behind_a_304(tmp_path: Path) -> None:
    messages: list[str] = []
    with LoopbackServer() as server:
        source = _serve(server, 3, _slow)
        settings = _settings(tmp_path / "a", source, page_budget=0.5)
        store = open_store(settings.storage_url)
        first = fetch_and_store(settings, store, [source], NOW, on_progress=messages.append)
        teasers = _stored(store)
        for i in range(3):
            server.routes[f"/page/{i}"] = _fast(i)
        second = fetch_and_store(settings, store, [source], NOW + HOUR, on_progress=messages.append)
        retried = _stored(store)
        # What a fresh article gets from the same (now fast) pages, in another database.
        fresh_settings = _settings(tmp_path / "b", source)
        fresh_store = open_store(fresh_settings.storage_url)
        fetch_and_store(fresh_settings, fresh_store, [source], NOW)
        fresh = _stored(fresh_store)
    assert first.new_articles == 3 and first.failures == ()
    assert [a.text for a in teasers] == [f"Teaser {i}." for i in range(3)]
    assert all(a.page_pending for a in teasers)
    assert sum("page retried next pass" in m for m in messages) == 3
    assert second.not_modified == 1 and second.new_articles == 0
    assert "pending pages: 3 of 3 fetched" in messages
    assert [_story(i) in a.text for i, a in enumerate(retried)] == [True] * 3
    assert not any(a.page_pending for a in retried)
    assert [(a.guid, a.text, a.fingerprint) for a in retried] == [
        (a.guid, a.text, a.fingerprint) for a in fresh
    ]
    assert store.pending_pages([source.url], 10) == ()


def test_a_page_that_keeps_failing_is_given_up_after_the_attempts(tmp_path: Path) -> None:
    messages: list[str] = []
    per_pass: list[int] = []
    with LoopbackServer() as server:
        source = _serve(server, 1, _slow)
        settings = _settings(tmp_path, source, page_budget=0.5)
        store = open_store(settings.storage_url)
        fetch_and_store(settings, store, [source], NOW)
        # Still too slow for the budget once, then a server error every time.
        for n in range(1, PAGE_ATTEMPTS + 2):
            if n == 2:
                server.routes["/page/0"] = Reply(503, b"down")
            before = _page_requests(server)
            when = NOW + n * HOUR
            fetch_and_store(settings, store, [source], when, on_progress=messages.append)
            per_pass.append(_page_requests(server) - before)
            if n == PAGE_ATTEMPTS - 1:
                assert _attempts(settings) == [PAGE_ATTEMPTS - 1]
        stored = _stored(store)
    assert per_pass == [1] * PAGE_ATTEMPTS + [0]  # tried in 3 passes, then no more
    assert _attempts(settings) == [PAGE_ATTEMPTS]
    assert [a.text for a in stored] == ["Teaser 0."] and not stored[0].page_pending
    assert any("page budget (0.5 s) used up" in m and "pending page" in m for m in messages)
    assert sum("pending page not fetched (HTTP 503)" in m for m in messages) == PAGE_ATTEMPTS - 1


def test_pending_pages_over_the_feed_cap_wait_without_using_an_attempt(tmp_path: Path) -> None:
    per_pass: list[int] = []
    with LoopbackServer() as server:
        source = _serve(server, 3, _fast)
        settings = _settings(tmp_path, source, pages_per_feed=1)
        store = open_store(settings.storage_url)
        for n in range(3):
            before = _page_requests(server)
            fetch_and_store(settings, store, [source], NOW + n * HOUR)
            per_pass.append(_page_requests(server) - before)
            if n == 1:
                assert sum(a.page_pending for a in _stored(store)) == 1
        stored = _stored(store)
    assert per_pass == [1, 1, 1]
    assert [_story(i) in a.text for i, a in enumerate(stored)] == [True] * 3
    assert _attempts(settings) == [0, 0, 0]


def test_a_pass_stores_feeds_and_retried_pages_in_one_batch(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    teaser = Article("https://f/rss", "F", "g1", "https://f/1", "One", NOW, "Teaser.", "en",
                     fetched=NOW, page_pending=True)  # fmt: skip
    (kept,) = store.add_articles([teaser])
    full = replace(kept, text=_story(1), fingerprint="")
    other = replace(teaser, guid="g2", url="https://f/2", page_pending=False)
    storage = Storage(store, NOW)
    counts = storage.write(
        [
            FeedWrite(FeedState("https://f/rss")),
            PageWrite(full, fetched=True),
            FeedWrite(FeedState("https://f/rss"), (other,)),
        ]
    )
    storage.close()
    assert counts == [0, 0, 1]
    assert [(a.guid, a.text, a.page_pending) for a in _stored(store)] == [
        ("g1", _story(1), False),
        ("g2", "Teaser.", False),
    ]
