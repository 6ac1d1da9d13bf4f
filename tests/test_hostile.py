"""Hostile feeds, each served by a real loopback server, all in one ingest run.

Every one ends in a clear per-feed outcome, in bounded time and memory, and the good feed
beside them is stored. A kill -9 in the middle of a run leaves a consistent database.
"""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from httpserver import LOOPBACK, LoopbackServer, Reply, rss

from digest.config.settings import DigestSettings, FetchSettings, Settings
from digest.fetch.ingest import fetch_and_store
from digest.models import FeedSource
from digest.store.database import open_store

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
MB = 1024 * 1024
TEXT = "A long enough description of an ordinary news story. " * 20
LAUGHS = (
    b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol">
"""
    + b"".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b"""]>
<rss version="2.0"><channel><title>&lol9;</title><item><title>Laughs</title>
<link>https://e.org/laughs</link><description>&lol9;</description></item></channel></rss>"""
)
XXE = b"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>X</title><item><title>XXE &xxe;</title>
<link>https://e.org/xxe</link><description>&xxe;</description></item></channel></rss>"""


def _settings(
    tmp_path: Path, feeds: tuple[FeedSource, ...] = (FeedSource("x"),), **fetch: object
) -> Settings:
    """Return settings for these config feeds; loopback allowed unless allow_private=()."""
    fetch = {"allow_private": LOOPBACK, **fetch}
    return Settings(
        config_path=None,
        data_dir=tmp_path,
        storage_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        outbox_dir=tmp_path / "outbox",
        digests=(DigestSettings(name="t", title="T", feeds=feeds),),
        fetch=replace(FetchSettings(), **fetch),  # type: ignore[arg-type]
    )


def _zeros(total: int) -> Iterator[bytes]:
    for _ in range(total // MB):
        yield bytes(MB)


def _gzip_bomb(total: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    out = [packer.compress(chunk) for chunk in _zeros(total)]
    return b"".join([*out, packer.flush()])


def _drip() -> Iterator[bytes]:
    for byte in rss([("Slow", "https://e.org/slow", TEXT)]):
        yield bytes([byte])


def _routes(server: LoopbackServer) -> dict[str, str]:
    """Install every hostile route; return path -> expected failure text ('' = stored)."""
    cp1251 = rss(
        [("Новости дня", "https://e.org/ru", "Президент провёл встречу. " * 30)], language="ru"
    )
    cp1251 = cp1251.decode("utf-8").encode("cp1251")
    bad_utf8 = rss([("Broken bytes", "https://e.org/bad", TEXT)]).replace(
        b"ordinary", b"ord\xff\xfeinary"
    )
    r = server.routes
    r["/good"] = Reply(200, rss([("Good story", "https://e.org/good", TEXT)]))
    r["/laughs"] = Reply(200, LAUGHS)
    r["/xxe"] = Reply(200, XXE)
    r["/huge"] = Reply(200, chunks=lambda: _zeros(100 * MB))
    r["/huge-declared"] = Reply(200, chunks=lambda: _zeros(100 * MB), length=100 * MB)
    r["/bomb"] = Reply(200, _gzip_bomb(100 * MB), {"Content-Encoding": "gzip"})
    r["/slow"] = Reply(200, chunks=_drip, chunk_delay=1.0)
    r["/loop"] = Reply(302, headers={"Location": "/loop"})
    r["/500"] = Reply(500, b"oops")
    r["/429"] = Reply(429, b"slow down", {"Retry-After": "3600"})
    r["/410"] = Reply(410, b"gone")
    r["/cp1251"] = Reply(200, cp1251, {"Content-Type": "application/rss+xml; charset=utf-8"})
    r["/badutf8"] = Reply(200, bad_utf8, {"Content-Type": "application/rss+xml; charset=utf-8"})
    r["/html"] = Reply(
        200,
        b"<!DOCTYPE html><html><body><p>Welcome</p></body></html>",
        {"Content-Type": "text/html"},
    )
    return {
        "/good": "", "/laughs": "", "/xxe": "", "/cp1251": "", "/badutf8": "",
        "/huge": "body larger than", "/huge-declared": "body larger than",
        "/bomb": "body larger than", "/slow": "timed out", "/loop": "more than 5 redirects",
        "/500": "HTTP 500", "/429": "HTTP 429", "/410": "HTTP 410", "/html": "HTML page",
    }  # fmt: skip


def test_hostile_feeds_fail_cleanly_and_the_run_goes_on(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        expected = _routes(server)
        sources = [FeedSource(server.url(p), full_text="never") for p in expected]
        settings = _settings(tmp_path, timeout=2.0)
        store = open_store(settings.storage_url)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.monotonic()
        report = fetch_and_store(settings, store, sources, NOW)
        elapsed = time.monotonic() - started
        grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert elapsed < 8, elapsed
    assert grown_mb < 80, grown_mb  # a 100 MB body or bomb is never held in memory
    failures = {f.subject.removeprefix(server.url("")): f for f in report.failures}
    for path, needle in expected.items():
        if needle:
            assert needle in failures[path].message, (path, failures.get(path))
            assert str(failures[path]).startswith(("fetch: http://", "parse: http://"))
        else:
            assert path not in failures, failures[path]
    titles = {
        a.title: a for a in store.articles_between(NOW - timedelta(days=2), NOW + timedelta(1))
    }
    assert {"Good story", "Laughs", "Новости дня", "Broken bytes"} <= set(titles)
    assert titles["Новости дня"].text.startswith("Президент провёл встречу.")
    assert titles["Новости дня"].language == "ru"
    assert len(titles["Laughs"].text) < 1000  # entities were never expanded
    assert all("root:" not in a.text and "root:" not in a.title for a in titles.values())
    busy = store.feed_state(server.url("/429"))
    assert busy.next_check_at == NOW + timedelta(hours=1) and not busy.disabled
    assert store.feed_state(server.url("/410")).disabled
    assert store.feed_state(server.url("/500")).error_count == 1


def test_private_and_file_urls_in_items_are_not_fetched_by_default(tmp_path: Path) -> None:
    # The default settings: the feed is a local file named in the config (allowed), its
    # items link to a page on 127.0.0.1 and to a local file (both refused).
    with LoopbackServer() as server:
        server.routes["/secret"] = Reply(200, b"<html><body><p>secret</p></body></html>")
        items = [
            ("Local file", "file:///etc/passwd", "Short teaser one."),
            ("Private host", server.url("/secret"), "Short teaser two."),
        ]
        feed = tmp_path / "feed.xml"
        feed.write_bytes(rss(items))
        source = FeedSource(str(feed), full_text="always")
        settings = _settings(tmp_path, (source,), allow_private=())
        store = open_store(settings.storage_url)
        messages: list[str] = []
        report = fetch_and_store(settings, store, [source], NOW, on_progress=messages.append)
        assert report.failures == () and report.new_articles == 2
        assert server.paths() == []  # neither the page nor its robots.txt
    texts = {
        a.title: a.text for a in store.articles_between(NOW - timedelta(2), NOW + timedelta(1))
    }
    assert texts == {"Local file": "Short teaser one.", "Private host": "Short teaser two."}
    assert any("non-public address 127.0.0.1" in m for m in messages)
    assert any("only http(s)" in m for m in messages)


def test_an_added_feed_cannot_read_a_local_file(tmp_path: Path) -> None:
    # As if imported from a hostile OPML file before import refused it: only feeds named
    # in the config may be local files.
    secret = tmp_path / "secret.xml"
    secret.write_bytes(rss([("Secret", "https://e.org/s", "root:x:0:0")]))
    settings = _settings(tmp_path)
    store = open_store(settings.storage_url)
    added = FeedSource(secret.as_uri())
    store.add_feed(added)
    report = fetch_and_store(settings, store, [added], NOW)
    assert report.new_articles == 0
    (failure,) = report.failures
    assert "local file URL not allowed" in failure.message


def test_opml_import_refuses_local_files(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from digest.cli.feeds import app

    opml = tmp_path / "list.opml"
    opml.write_text(
        '<opml version="2.0"><body>'
        '<outline text="Passwords" xmlUrl="file:///etc/passwd"/>'
        '<outline text="Path" xmlUrl="/etc/shadow"/>'
        '<outline text="News" xmlUrl="https://e.org/rss"/></body></opml>'
    )
    data = str(tmp_path / "data")
    result = CliRunner().invoke(app, ["import", str(opml), "--data-dir", data])
    assert result.exit_code == 0, result.output
    assert "imported 1 feeds" in result.output
    assert "file:///etc/passwd: not imported" in result.output
    store = open_store(f"sqlite:///{tmp_path / 'data' / 'digest.sqlite3'}")
    assert [f.url for f in store.added_feeds()] == ["https://e.org/rss"]
    added = CliRunner().invoke(app, ["add", "file:///etc/passwd", "--data-dir", data])
    assert added.exit_code == 2 and "read only when named in the config" in added.output
    assert [f.url for f in store.added_feeds()] == ["https://e.org/rss"]


def test_slow_pages_stop_at_the_page_budget_and_keep_the_feed_text(tmp_path: Path) -> None:
    # 12 teaser items whose pages drip 1 byte a second: without a budget this pass took
    # 36 s (timeout 5 s, two pages at a time per host).
    def drip() -> Iterator[bytes]:
        for byte in f"<html><body><p>{TEXT}</p></body></html>".encode():
            yield bytes([byte])

    with LoopbackServer() as server:
        server.routes["/robots.txt"] = Reply(404)
        items = [(f"Story {i}", server.url(f"/slow/{i}"), f"Teaser {i}.") for i in range(12)]
        for i in range(12):
            server.routes[f"/slow/{i}"] = Reply(200, chunks=drip, chunk_delay=1.0)
        server.routes["/feed"] = Reply(200, rss(items))
        source = FeedSource(server.url("/feed"), full_text="always")
        settings = _settings(tmp_path, (source,), timeout=5.0, page_budget=1.5)
        store = open_store(settings.storage_url)
        messages: list[str] = []
        started = time.monotonic()
        report = fetch_and_store(settings, store, [source], NOW, on_progress=messages.append)
        elapsed = time.monotonic() - started
    assert elapsed < 1.5 + 1.5, elapsed  # the budget, plus the feed and the store
    assert report.failures == () and report.new_articles == 12
    texts = [a.text for a in store.articles_between(NOW - timedelta(2), NOW + timedelta(1))]
    assert sorted(texts) == sorted(f"Teaser {i}." for i in range(12))
    assert sum("page budget (1.5 s) used up" in m for m in messages) == 12


def test_pages_per_feed_are_capped(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        server.routes["/robots.txt"] = Reply(404)
        page = f"<html><body><article><p>{TEXT}</p></article></body></html>".encode()
        items = [(f"Story {i}", server.url(f"/page/{i}"), f"Teaser {i}.") for i in range(5)]
        for i in range(5):
            server.routes[f"/page/{i}"] = Reply(200, page, {"Content-Type": "text/html"})
        server.routes["/feed"] = Reply(200, rss(items))
        source = FeedSource(server.url("/feed"), full_text="always")
        settings = _settings(tmp_path, (source,), pages_per_feed=2)
        store = open_store(settings.storage_url)
        messages: list[str] = []
        report = fetch_and_store(settings, store, [source], NOW, on_progress=messages.append)
        pages = [p for p in server.paths() if p.startswith("/page/")]
    assert report.new_articles == 5 and len(pages) == 2
    texts = [a.text for a in store.articles_between(NOW - timedelta(2), NOW + timedelta(1))]
    assert sum(t.startswith("A long enough description") for t in texts) == 2
    assert sum("over 2 pages for this feed" in m for m in messages) == 3


CRASH_SCRIPT = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from pathlib import Path
    from digest.config.settings import DigestSettings, FetchSettings, Settings
    from digest.fetch.ingest import fetch_and_store
    from digest.models import FeedSource
    from digest.store.database import open_store

    tmp, fast, slow = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    sources = (FeedSource(fast, full_text="never"), FeedSource(slow, full_text="never"))
    settings = Settings(None, tmp, f"sqlite:///{tmp / 'db.sqlite3'}", tmp / "o",
                        (DigestSettings("t", "T", sources),),
                        FetchSettings(timeout=60, allow_private=("127.0.0.0/8",)))
    store = open_store(settings.storage_url)
    fetch_and_store(settings, store, sources, datetime.now(UTC),
                    on_progress=lambda m: print(m, flush=True))
    """
)


def test_kill_9_mid_fetch_keeps_what_was_stored(tmp_path: Path) -> None:
    release = threading.Event()

    def hang() -> Iterator[bytes]:
        yield b"<rss"
        release.wait(30)

    with LoopbackServer() as server:
        items = [(f"Story {i}", f"https://e.org/{i}", TEXT) for i in range(20)]
        server.routes["/fast"] = Reply(200, rss(items))
        server.routes["/slow"] = Reply(200, chunks=hang)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                CRASH_SCRIPT,
                str(tmp_path),
                server.url("/fast"),
                server.url("/slow"),
            ],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert "20 new" in line, line
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        finally:
            release.set()
            proc.kill()
            proc.wait()
            if proc.stdout:
                proc.stdout.close()
    conn = sqlite3.connect(tmp_path / "db.sqlite3")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM articles").fetchone() == (20,)
        row = conn.execute(
            "SELECT last_success_at FROM feeds WHERE url = ?", (server.url("/fast"),)
        )
        assert row.fetchone()[0] is not None
    finally:
        conn.close()


def test_a_public_sites_robots_txt_cannot_redirect_to_a_private_address(
    tmp_path: Path,
) -> None:
    # 127.0.0.1 plays a public site (allowed); 127.0.0.2 plays the private network behind it.
    with LoopbackServer() as server, LoopbackServer("127.0.0.2") as private:
        server.routes["/robots.txt"] = Reply(302, headers={"Location": private.url("/internal")})
        private.routes["/internal"] = Reply(200, b"User-agent: *\nDisallow: /\n")
        server.routes["/story"] = Reply(
            200, f"<html><body><article><p>{TEXT}</p></article></body></html>".encode()
        )
        server.routes["/feed"] = Reply(200, rss([("Story", server.url("/story"), "Teaser.")]))
        source = FeedSource(server.url("/feed"), full_text="always")
        settings = _settings(tmp_path, (source,), allow_private=("127.0.0.1/32",))
        store = open_store(settings.storage_url)
        report = fetch_and_store(settings, store, [source], NOW)
        assert report.failures == () and report.new_articles == 1
        assert private.paths() == [] and "/story" in server.paths()
    (article,) = store.articles_between(NOW - timedelta(2), NOW + timedelta(1))
    assert article.text.startswith("A long enough description")


def test_lead_images_on_private_addresses_are_not_fetched_by_default(tmp_path: Path) -> None:
    from digest.fetch import image_fetcher

    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
    with LoopbackServer() as server:
        server.routes["/robots.txt"] = Reply(404)
        server.routes["/lead.png"] = Reply(200, png, {"Content-Type": "image/png"})
        url = server.url("/lead.png")
        assert image_fetcher(_settings(tmp_path, allow_private=()).fetch)(url) is None
        assert server.paths() == []
        assert image_fetcher(_settings(tmp_path).fetch)(url) == png
        assert server.paths() == ["/robots.txt", "/lead.png"]
