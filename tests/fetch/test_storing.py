"""storing: a pass's writes in one thread, batched, with the near-duplicate index kept per store."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from httpserver import LoopbackServer, Reply, rss

from digest.config.settings import DigestSettings, FetchSettings, Settings
from digest.fetch.dedup import fingerprint
from digest.fetch.ingest import fetch_and_store
from digest.fetch.lsh import FingerprintIndex
from digest.fetch.storing import FeedWrite, Storage
from digest.fetch.workers import Batcher
from digest.models import Article, FeedSource, FeedState
from digest.store.database import open_store

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _settings(tmp_path: Path, feeds: Sequence[FeedSource], **fetch: object) -> Settings:
    return Settings(
        config_path=None,
        data_dir=tmp_path,
        storage_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        outbox_dir=tmp_path / "outbox",
        digests=(DigestSettings(name="t", title="T", feeds=tuple(feeds)),),
        # The loopback server is a private address, refused unless allowed.
        fetch=replace(FetchSettings(timeout=5.0, allow_private=("127.0.0.0/8",)), **fetch),  # type: ignore[arg-type]
    )


def _words(rng: random.Random, count: int) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choices(letters, k=rng.randint(4, 9))) for _ in range(count)]


def _near_copies(count: int) -> list[str]:
    """Return count copies of one 60-word story, each with one word changed and a tag line."""
    rng = random.Random(5)
    story = _words(rng, 60)
    copies = []
    for n in range(count):
        words = list(story)
        words[rng.randrange(len(words))] = rng.choice(("updated", "regional", "latest"))
        copies.append(" ".join(words) + f". Copy {n}.")
    return copies


def _distinct(count: int) -> list[str]:
    """Return count unrelated 40-word texts."""
    rng = random.Random(6)
    return [" ".join(_words(rng, 40)) + "." for _ in range(count)]


def test_near_identical_items_form_one_group_and_distinct_ones_their_own(tmp_path: Path) -> None:
    near, distinct = _near_copies(5000), _distinct(5000)
    # Interleaved over 20 feeds of 500 items: both kinds arrive in every feed.
    texts = [t for pair in zip(near, distinct, strict=True) for t in pair]
    with LoopbackServer() as server:
        sources = []
        for f in range(20):
            part = texts[f * 500 : (f + 1) * 500]
            items = [(f"Item {f}-{n}", f"https://e{f}.example/{n}", t) for n, t in enumerate(part)]
            server.routes[f"/feed{f}"] = Reply(200, rss(items, title=f"Feed {f}"))
            sources.append(FeedSource(server.url(f"/feed{f}"), full_text="never"))
        settings = _settings(tmp_path, sources)
        store = open_store(settings.storage_url)
        report = fetch_and_store(settings, store, sources, NOW)
    assert report.failures == () and report.new_articles == 10_000
    stored = {a.text: a.fingerprint for a in store.articles_between(NOW - timedelta(days=9), NOW)}
    assert len(stored) == 10_000  # every copy is stored: grouped, not skipped
    near_prints = {stored[t] for t in near}
    assert len(near_prints) == 1
    # The group's fingerprint is one copy's own (the first stored), not a made-up one.
    assert near_prints <= {fingerprint(t) for t in near}
    distinct_prints = {stored[t] for t in distinct}
    assert distinct_prints == {fingerprint(t) for t in distinct}
    assert len(distinct_prints) == 5000 and not distinct_prints & near_prints


def test_a_slow_write_never_times_out_another_feeds_socket(tmp_path: Path) -> None:
    story = " ".join(_distinct(1))

    def late(_handler: object) -> Reply:
        time.sleep(0.4)  # answers well within the 1 s timeout, while the store is busy
        return Reply(200, rss([("Late", "https://l.example/1", story)]))

    with LoopbackServer() as server:
        server.routes["/first"] = Reply(200, rss([("First", "https://f.example/1", story)]))
        server.routes["/late"] = late
        sources = [FeedSource(server.url(p), full_text="never") for p in ("/first", "/late")]
        settings = _settings(tmp_path, sources, timeout=1.0)
        store = open_store(settings.storage_url)
        slow = [True]

        def slow_disk(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if slow and statement.lstrip().upper().startswith("INSERT INTO ARTICLES"):
                slow.clear()
                time.sleep(1.5)  # one blocking write (a slow disk, a busy database)

        sa.event.listen(store.engine, "before_cursor_execute", slow_disk)
        report = fetch_and_store(settings, store, sources, NOW)
    assert report.failures == () and report.new_articles == 2


def _article(n: int, text: str, feed: str = "https://f.example/rss") -> Article:
    return Article(
        feed_url=feed, source="s", guid=str(n), url=f"https://e.example/{n}", title=f"T{n}",
        published=NOW, text=text, language="en", fingerprint=fingerprint(text), fetched=NOW,
    )  # fmt: skip


def test_the_index_is_read_once_per_store_then_only_new_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    near, distinct = _near_copies(3), _distinct(3)
    other = open_store(f"sqlite:///{tmp_path / 'db.sqlite3'}")  # another process's writes
    Storage(other, NOW).write(
        [FeedWrite(FeedState("https://f.example/rss"), (_article(0, near[0]),))]
    )
    reads: list[tuple[int, int]] = []
    real = store.fingerprints_since

    def spy(since: datetime, after_id: int = 0) -> Any:
        rows = real(since, after_id)
        reads.append((after_id, len(rows)))
        return rows

    monkeypatch.setattr(store, "fingerprints_since", spy)
    first = Storage(store, NOW)
    assert first.write(
        [FeedWrite(FeedState("u1"), (_article(1, near[1]), _article(2, distinct[0])))]
    ) == [2]
    index = store.fingerprint_cache
    assert isinstance(index, FingerprintIndex) and len(index) == 2
    later = NOW + timedelta(hours=1)
    Storage(other, later).write([FeedWrite(FeedState("u2"), (_article(3, distinct[1]),))])
    second = Storage(store, later)
    assert second.write([FeedWrite(FeedState("u1"), (_article(4, near[2]),))]) == [1]
    assert store.fingerprint_cache is index and len(index) == 3  # kept, extended by one row
    assert reads == [(0, 1), (3, 1)]  # all rows once, then only the row stored since
    prints = {a.guid: a.fingerprint for a in store.articles_between(NOW, later + timedelta(1))}
    assert prints["4"] == prints["1"] == prints["0"] == fingerprint(near[0])


def test_a_pass_of_304s_never_reads_the_index(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        server.routes["/feed"] = lambda h: (
            Reply(304)
            if h.headers.get("If-None-Match")
            else Reply(
                200, rss([("A", "https://a.example/1", " ".join(_distinct(1)))]), {"ETag": '"1"'}
            )
        )
        source = FeedSource(server.url("/feed"), full_text="never")
        settings = _settings(tmp_path, [source])
        assert (
            fetch_and_store(settings, open_store(settings.storage_url), [source], NOW).new_articles
            == 1
        )
        fresh = open_store(settings.storage_url)  # as a new `digest fetch` process would
        report = fetch_and_store(settings, fresh, [source], NOW + timedelta(hours=1))
    assert report.not_modified == 1 and fresh.fingerprint_cache is None


def test_store_feeds_counts_only_rows_really_inserted(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    a, b = _article(1, "one text here"), _article(2, "two text here")
    same_guid = replace(b, url="https://e.example/other")  # a feed repeating a guid
    elsewhere = replace(a, feed_url="https://g.example/rss", guid="x")  # same URL, other feed
    ids = store.store_feeds([(FeedState("u1"), [a, b, same_guid]), (FeedState("u2"), [elsewhere])])
    assert [len(i) for i in ids] == [2, 0] and store.article_count() == 2
    assert store.store_feeds([(FeedState("u1"), [a, b])]) == ((),)
    assert store.feed_state("u1") == FeedState("u1") and store.feed_state("u2").url == "u2"
    assert [x.id for x in store.add_articles([_article(3, "three")])] == [max(ids[0]) + 1]


def test_batcher_fails_only_the_job_that_failed() -> None:
    calls: list[list[str]] = []
    entered, gate = threading.Event(), threading.Event()

    def handle(jobs: Sequence[str]) -> list[str]:
        entered.set()
        gate.wait(5)  # the first call holds the thread while the others queue up
        calls.append(list(jobs))
        if "bad" in jobs:
            raise ValueError("bad job")
        return [j.upper() for j in jobs]

    async def main() -> list[object]:
        batcher: Batcher[str, str] = Batcher(handle)
        try:
            first = asyncio.ensure_future(batcher.run("a"))
            await asyncio.to_thread(entered.wait, 5)
            rest = [asyncio.ensure_future(batcher.run(j)) for j in ("b", "bad", "c")]
            await asyncio.sleep(0.05)  # all three queued
            gate.set()
            return list(await asyncio.gather(first, *rest, return_exceptions=True))
        finally:
            batcher.close()

    results = asyncio.run(main())
    assert results[:2] == ["A", "B"] and results[3] == "C"
    assert isinstance(results[2], ValueError) and str(results[2]) == "bad job"
    # One call for the first job, one for the three queued, then one by one after the failure.
    assert calls == [["a"], ["b", "bad", "c"], ["b"], ["bad"], ["c"]]


def test_fingerprints_of_the_old_hashing_are_recomputed_by_group_on_the_next_pass(
    tmp_path: Path,
) -> None:
    db = tmp_path / "db.sqlite3"
    near, distinct = _near_copies(3), _distinct(1)
    store = open_store(f"sqlite:///{db}")
    # As a database from before schema v5 holds them: two copies sharing their first copy's
    # fingerprint, and another text, all in a hashing that no longer exists.
    old = [("a" * 128, near[0]), ("a" * 128, near[1]), ("b" * 128, distinct[0])]
    store.add_articles([replace(_article(n, t), fingerprint=fp) for n, (fp, t) in enumerate(old)])
    store.close()
    con = sqlite3.connect(db)
    con.execute("DELETE FROM schema_version WHERE version >= 5")
    con.commit()
    con.close()
    store = open_store(f"sqlite:///{db}")  # migrates: marks them stale
    marked = {a.guid: a.fingerprint for a in store.articles_between(NOW, NOW + timedelta(1))}
    assert marked == {
        "0": "stale:" + "a" * 128,
        "1": "stale:" + "a" * 128,
        "2": "stale:" + "b" * 128,
    }
    # The next pass's first write recomputes them, group by group, and knows the copies.
    assert Storage(store, NOW).write([FeedWrite(FeedState("u"), (_article(3, near[2]),))]) == [1]
    prints = {a.guid: a.fingerprint for a in store.articles_between(NOW, NOW + timedelta(1))}
    assert prints["0"] == prints["1"] == prints["3"] == fingerprint(near[0])
    assert prints["2"] == fingerprint(distinct[0])
    assert store.refresh_fingerprints(fingerprint) == 0  # nothing stale is left
