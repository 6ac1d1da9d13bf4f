"""ingest: fetch_and_store over a real loopback server and a real SQLite file."""

from __future__ import annotations

import gc
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from httpserver import LOOPBACK, LOOPBACK_FETCH, LoopbackServer, Reply, rss

from digest.config.settings import DigestSettings, FetchSettings, Settings
from digest.fetch.ingest import fetch_and_store
from digest.models import FeedSource, FetchResult
from digest.store.database import Store, open_store

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
STORY = (
    "The city council voted on Tuesday to expand the tram network to the northern districts. "
    "The project will cost about 400 million euros and take six years to build. "
    "Opponents said the money should go to buses, which serve more neighbourhoods today. "
)


def _settings(tmp_path: Path, feeds: tuple[FeedSource, ...], **fetch: object) -> Settings:
    return Settings(
        config_path=None,
        data_dir=tmp_path,
        storage_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        outbox_dir=tmp_path / "outbox",
        digests=(DigestSettings(name="t", title="T", feeds=feeds),),
        fetch=replace(FetchSettings(timeout=5.0, allow_private=LOOPBACK), **fetch),  # type: ignore[arg-type]
    )


def _store(settings: Settings) -> Store:
    return open_store(settings.storage_url)


def _page(title: str, body: str) -> bytes:
    paragraphs = "".join(f"<p>{s.strip()}.</p>" for s in body.split(".") if s.strip())
    return (
        f"<html><head><title>{title}</title><link rel='canonical' href='/story?id=1'></head>"
        f"<body><nav>Home | World</nav><article><h1>{title}</h1>{paragraphs}</article>"
        f"<footer>Share this article</footer></body></html>"
    ).encode()


def test_stores_articles_with_full_text_and_skips_known_ones(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        items = [
            ("Trams for the north", server.url("/story?id=1&utm_source=rss"), "Council votes."),
            ("Other news", server.url("/other"), STORY * 3),
        ]
        server.routes["/feed"] = Reply(200, rss(items, title="City News"), {"ETag": '"e1"'})
        server.routes["/story"] = Reply(
            200, _page("Trams for the north", STORY * 2), {"Content-Type": "text/html"}
        )
        source = FeedSource(server.url("/feed"), tags=("local",), weight=2.0)
        settings = _settings(tmp_path, (source,), full_text_min_chars=200)
        store = _store(settings)
        report = fetch_and_store(settings, store, [source], NOW)
        assert gc.isenabled()  # paused for the pass only
        assert report.failures == () and report.entries == 2 and report.new_articles == 2
        assert report.health[0].ok and report.health[0].last_success_at == NOW
        stored = {a.title: a for a in store.articles_between(NOW - timedelta(days=2), NOW)}
        trams = stored["Trams for the north"]
        assert trams.url == server.url("/story?id=1")  # canonical link, tracking dropped
        assert trams.text.startswith("The city council voted") and "Share this" not in trams.text
        assert trams.source == "City News" and trams.tags == ("local",) and trams.language == "en"
        assert trams.published == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
        assert trams.fingerprint == stored["Other news"].fingerprint  # the same text, twice
        assert "/robots.txt" in server.paths() and "/other" not in server.paths()
        # second pass: 304 thanks to the ETag; nothing new, no page fetched again
        server.routes["/feed"] = lambda h: (
            Reply(304) if h.headers.get("If-None-Match") else Reply(500)
        )
        again = fetch_and_store(settings, store, [source], NOW + timedelta(hours=1))
        assert again.not_modified == 1 and again.new_articles == 0 and store.article_count() == 2


def test_one_bad_feed_does_not_stop_the_others(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        server.routes["/good"] = Reply(200, rss([("Good", "https://e.org/g", STORY)]))
        server.routes["/html"] = Reply(
            200, b"<html><body>Hi</body></html>", {"Content-Type": "text/html"}
        )
        sources = [FeedSource(server.url(p)) for p in ("/good", "/missing", "/html")]
        settings = _settings(tmp_path, tuple(sources), full_text_min_chars=0)
        store = _store(settings)
        report = fetch_and_store(settings, store, sources, NOW)
    assert report.new_articles == 1
    assert {(f.stage, f.subject) for f in report.failures} == {
        ("fetch", server.url("/missing")),
        ("parse", server.url("/html")),
    }
    assert "HTTP 404" in str(report.failures[0]) or "HTTP 404" in str(report.failures[1])
    health = {h.url: h for h in report.health}
    assert health[server.url("/good")].ok and not health[server.url("/missing")].ok
    assert store.feed_state(server.url("/html")).error_count == 1


def test_backing_off_feeds_are_skipped_unless_forced(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        server.routes["/feed"] = Reply(200, rss([("A", "https://e.org/a", STORY)]))
        source = FeedSource(server.url("/feed"), full_text="never")
        settings = _settings(tmp_path, (source,))
        store = _store(settings)
        state = store.feed_state(source.url)
        store.save_feed_state(replace(state, next_check_at=NOW + timedelta(hours=1)))
        assert fetch_and_store(settings, store, [source], NOW).entries == 0
        assert server.paths() == []
        assert fetch_and_store(settings, store, [source], NOW, force=True).new_articles == 1


def _cli(tmp_path: Path, *args: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    from digest.cli.feeds import app

    config = tmp_path / "digest.toml"
    if not config.exists():  # never fetched here; the config only allows loopback
        config.write_text(
            '[[digest]]\nname = "t"\nfeeds = ["https://e.org/rss"]\n' + LOOPBACK_FETCH
        )
    args = (*args, "--config", str(config), "--data-dir", str(tmp_path / "data"))
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_cli_add_discovers_the_feed_and_list_remove_enable(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        home = b'<html><head><link rel="alternate" type="application/rss+xml" href="/rss"></head></html>'
        server.routes["/"] = Reply(200, home, {"Content-Type": "text/html"})
        server.routes["/rss"] = Reply(
            200, rss([("A", "https://e.org/a", STORY)], title="Home Feed")
        )
        code, out = _cli(tmp_path, "add", server.url("/"), "--tag", "local")
        assert code == 0 and f"added {server.url('/rss')} (Home Feed, 1 entry)" in out
        code, out = _cli(tmp_path, "list")
        line = next(x for x in out.splitlines() if server.url("/rss") in x)
        assert line.split("\t")[:4] == ["Home Feed", server.url("/rss"), "added", "never fetched"]
        code, out = _cli(tmp_path, "export")
        assert f'xmlUrl="{server.url("/rss")}" category="local"' in out
        store = open_store(f"sqlite:///{tmp_path / 'data' / 'digest.sqlite3'}")
        state = store.feed_state(server.url("/rss"))
        store.save_feed_state(replace(state, disabled=True, error_count=10, last_error="HTTP 500"))
        assert "disabled" in _cli(tmp_path, "list")[1]
        assert _cli(tmp_path, "enable", server.url("/rss"))[0] == 0
        assert not store.feed_state(server.url("/rss")).disabled
        assert _cli(tmp_path, "remove", server.url("/rss"))[0] == 0
        assert store.added_feeds() == ()
        code, out = _cli(tmp_path, "add", server.url("/nothing"))
        assert code == 1 and "HTTP 404" in out


def test_cli_import_opml_and_check_prints_clean_text(tmp_path: Path) -> None:
    opml = tmp_path / "f.opml"
    opml.write_text(
        '<opml version="2.0"><body><outline text="News">'
        '<outline text="One" xmlUrl="https://e.org/1.xml"/></outline></body></opml>'
    )
    code, out = _cli(tmp_path, "import", str(opml))
    assert code == 0 and "imported 1 feeds" in out
    title = "Storm closes schools"
    # long enough (> full_text_min_chars) that no article page is fetched
    body = f"<p>{title}</p><p>© AP Photo / Jane Doe</p><p>{STORY * 3}</p><p>Share this article</p>"
    feed = tmp_path / "local.xml"
    feed.write_bytes(rss([(title, "https://e.org/storm", body)], title="Local"))
    code, out = _cli(tmp_path, "check", str(feed))
    assert code == 0, out
    text = out.split("fingerprint: ", 1)[1].split("\n", 2)[2]
    assert text.strip() == (STORY * 3).strip()


def test_permanent_redirect_moves_an_added_feed(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        server.routes["/old"] = Reply(301, headers={"Location": "/new"})
        server.routes["/new"] = Reply(200, rss([("A", "https://e.org/a", STORY)]))
        old = FeedSource(server.url("/old"), name="Moved", full_text="never")
        settings = _settings(tmp_path, (old,))
        store = _store(settings)
        store.add_feed(old)
        messages: list[str] = []
        report = fetch_and_store(settings, store, [old], NOW, on_progress=messages.append)
    assert report.new_articles == 1 and report.failures == ()
    assert [f.url for f in store.added_feeds()] == [server.url("/new")]
    assert store.feed_state(server.url("/new")).last_success_at == NOW
    assert any("moved permanently" in m for m in messages)


def test_robots_txt_is_honoured_for_pages(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        server.routes["/robots.txt"] = Reply(
            200, b"User-agent: digest\nDisallow: /private/\n", {"Content-Type": "text/plain"}
        )
        server.routes["/private/1"] = Reply(200, _page("Secret", STORY * 3))
        items = [("Teaser", server.url("/private/1"), "Only a teaser.")]
        server.routes["/feed"] = Reply(200, rss(items))
        source = FeedSource(server.url("/feed"))
        settings = _settings(tmp_path, (source,))
        store = _store(settings)
        messages: list[str] = []
        fetch_and_store(settings, store, [source], NOW, on_progress=messages.append)
        assert "/private/1" not in server.paths()
    (article,) = store.articles_between(NOW - timedelta(days=2), NOW)
    assert article.text == "Only a teaser."
    assert any("disallowed by robots.txt" in m for m in messages)


def test_cli_check_on_the_sample_feed_prints_the_seed_article_clean(tmp_path: Path) -> None:
    from digest.config.settings import SAMPLES_DIR

    code, out = _cli(tmp_path, "check", str(SAMPLES_DIR / "agency-ru-en.xml"))
    assert code == 0, out
    title = "Trump called his victory «the worst thing to happen with Russia»"
    body = out.split("fingerprint: ", 1)[1].split("\n", 2)[2]
    assert f"first item: {title}" in out
    assert body.startswith("The US President Donald trump said")
    assert title not in body and "©" not in body and "Archival photo" not in body
    assert "«You know what I tell you," in body


def test_a_wire_story_syndicated_by_three_sites_is_one_text(tmp_path: Path) -> None:
    wire = STORY * 4
    copies = {
        "/a": f"By Staff<br/>{wire}",
        "/b": f"{wire} Reporting by Jan Doe; editing by Sam Roe.",
        "/c": f"<p>{wire}</p><p>Share this article</p>",
    }
    with LoopbackServer() as server:
        for path, body in copies.items():
            items = [
                ("Trams for the north", f"https://{path[1]}.example/trams?utm_medium=rss", body)
            ]
            server.routes[path] = Reply(200, rss(items, title=f"Site {path[1]}"))
        server.routes["/other"] = Reply(
            200, rss([("Other", "https://o.example/1", "Rain. " * 200)])
        )
        sources = [FeedSource(server.url(p), full_text="never") for p in [*copies, "/other"]]
        settings = _settings(tmp_path, tuple(sources))
        store = _store(settings)
        assert fetch_and_store(settings, store, sources, NOW).new_articles == 4
    stored = store.articles_between(NOW - timedelta(days=2), NOW)
    wire_prints = {a.fingerprint for a in stored if a.title.startswith("Trams")}
    assert len(wire_prints) == 1 and len({a.fingerprint for a in stored}) == 2
    assert {a.url for a in stored if a.title.startswith("Trams")} == {
        "https://a.example/trams",
        "https://b.example/trams",
        "https://c.example/trams",
    }


def test_a_library_crash_on_one_feed_is_a_failure_not_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import digest.fetch.ingest

    real = digest.fetch.ingest.prepare_feed

    def flaky(result: FetchResult, *args: object) -> object:
        if result.url.endswith("/bad"):
            raise RecursionError("maximum recursion depth exceeded")
        return real(result, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(digest.fetch.ingest, "prepare_feed", flaky)
    with LoopbackServer() as server:
        server.routes["/good"] = Reply(200, rss([("Good", "https://e.org/g", STORY)]))
        server.routes["/bad"] = Reply(200, rss([("Bad", "https://e.org/b", STORY)]))
        sources = [FeedSource(server.url(p), full_text="never") for p in ("/good", "/bad")]
        settings = _settings(tmp_path, tuple(sources))
        store = _store(settings)
        report = fetch_and_store(settings, store, sources, NOW)
    assert report.new_articles == 1
    (failure,) = report.failures
    assert (
        str(failure)
        == f"ingest: {server.url('/bad')}: unexpected RecursionError: maximum recursion depth exceeded"
    )
    assert store.feed_state(server.url("/bad")).error_count == 1


def test_page_text_replaces_the_feed_text_only_when_longer() -> None:
    from digest.fetch.articles import draft_article, with_page
    from digest.fetch.extract import ExtractedPage
    from digest.models import Entry, ParsedFeed

    entry = Entry("f", "g", "https://e.org/a?utm_source=x", "Title", NOW, summary_html=STORY)
    feed = ParsedFeed("f", "Feed", "", (entry,))
    draft = draft_article(FeedSource("f"), feed, entry, NOW)
    assert draft is not None and draft.url == "https://e.org/a" and draft.text == STORY.strip()
    short = ExtractedPage("u", "Title", "Too short.", canonical_url="/canonical")
    kept = with_page(draft, entry, short, "https://e.org/a")
    assert kept.text == draft.text and kept.url == "https://e.org/canonical"
    longer = ExtractedPage("u", "Title", f"Title\n\n{STORY * 2}")
    full = with_page(draft, entry, longer, "https://e.org/a")
    assert full.text.startswith("The city council") and len(full.text) > len(draft.text)
    assert full.language == "en" and full.url == "https://e.org/a"


def _page_with_image(title: str, image: str) -> bytes:
    meta = f'<meta property="og:image" content="{image}"></head>'.encode()
    return _page(title, STORY * 2).replace(b"</head>", meta, 1)


def test_a_teaser_takes_the_page_lead_image_unless_the_feed_has_one(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        items = [
            ("Page image", server.url("/a"), "Teaser a."),
            ("Feed image", server.url("/b"), "Teaser b."),
            ("Script image", server.url("/c"), "Teaser c."),
            ("Data image", server.url("/d"), "Teaser d."),
            ("Long feed text", server.url("/e"), STORY * 3),
        ]
        feed = rss(items).replace(
            f"<guid>{server.url('/b')}</guid>".encode(),
            f"<guid>{server.url('/b')}</guid>"
            '<enclosure url="https://img.example/feed.jpg" type="image/jpeg" length="1"/>'.encode(),
        )
        server.routes["/feed"] = Reply(200, feed)
        images = {
            "/a": "/img/lead.jpg?w=600&amp;h=400",
            "/b": "/img/page-b.jpg",
            "/c": "javascript:alert(1)",
            "/d": "data:image/png;base64,iVBORw0KGgo=",
            "/e": "/img/never.jpg",
        }
        for path, image in images.items():
            page = _page_with_image(f"Story {path}", image).replace(b"/story?id=1", path.encode())
            server.routes[path] = Reply(200, page, {"Content-Type": "text/html"})
        source = FeedSource(server.url("/feed"))  # full_text = "auto"
        settings = _settings(tmp_path, (source,), full_text_min_chars=200)
        store = _store(settings)
        report = fetch_and_store(settings, store, [source], NOW)
        assert report.failures == () and report.new_articles == 5
        # the long entry needs no page, and no page is fetched only for its image
        assert "/e" not in server.paths() and "/img/never.jpg" not in server.paths()
        stored = {a.title: a for a in store.articles_between(NOW - timedelta(days=2), NOW)}
        page_image = stored["Page image"]
        assert page_image.text.startswith("The city council")  # the page was used
        assert page_image.image_url == server.url("/img/lead.jpg?w=600&h=400")
        assert stored["Feed image"].image_url == "https://img.example/feed.jpg"
        assert stored["Script image"].image_url is None
        assert stored["Data image"].image_url is None
        assert stored["Long feed text"].image_url is None


def test_the_page_image_is_kept_when_the_page_text_is_shorter() -> None:
    from digest.fetch.articles import draft_article, with_page
    from digest.fetch.extract import ExtractedPage
    from digest.models import Entry, ParsedFeed

    entry = Entry("f", "g", "https://e.org/a", "Title", NOW, summary_html=STORY)
    draft = draft_article(FeedSource("f"), ParsedFeed("f", "Feed", "", (entry,)), entry, NOW)
    assert draft is not None and draft.image_url is None
    page = ExtractedPage("u", "Title", "Too short.", image_url="https://e.org/i.jpg")
    kept = with_page(draft, entry, page, "https://e.org/a")
    assert kept.text == draft.text and kept.image_url == "https://e.org/i.jpg"
    with_feed_image = replace(draft, image_url="https://feed.example/f.jpg")
    assert with_page(with_feed_image, entry, page, "u").image_url == "https://feed.example/f.jpg"


def _die_in_a_worker(parent: int) -> str:
    if os.getpid() != parent:
        os._exit(1)  # a worker process dying, as on an out-of-memory kill
    return "finished in the parent"


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="worker processes need two CPUs")
def test_a_dead_worker_process_falls_back_to_threads() -> None:
    import asyncio

    from digest.fetch.workers import Workers

    async def run() -> str:
        workers = Workers(feeds=100)
        try:
            return await workers.run(_die_in_a_worker, os.getpid())
        finally:
            workers.close()

    assert asyncio.run(run()) == "finished in the parent"


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="worker processes need two CPUs")
def test_workers_are_forked_by_a_fork_server_with_the_steps_loaded() -> None:
    import asyncio
    import multiprocessing

    from digest.fetch.workers import Workers

    async def run() -> tuple[int, bool]:
        workers = Workers(feeds=100)
        try:
            return await workers.run(os.getppid), await workers.run(_steps_loaded)
        finally:
            workers.close()

    parent, loaded = asyncio.run(run())
    assert loaded
    if "forkserver" in multiprocessing.get_all_start_methods():
        assert parent != os.getpid()  # forked by the fork server, not started by this process


def _steps_loaded() -> bool:
    import sys

    return "digest.fetch.articles" in sys.modules and "digest.fetch.plainrss" in sys.modules


def test_a_page_whose_extraction_crashes_keeps_the_feed_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import digest.fetch.ingest

    real = digest.fetch.ingest.extract_article

    def fragile(html: bytes, url: str) -> object:
        if "/boom" in url:
            raise RuntimeError("lxml went away")  # not an ExtractError
        return real(html, url)

    monkeypatch.setattr(digest.fetch.ingest, "extract_article", fragile)
    with LoopbackServer() as server:
        items = [(f"Story {p}", server.url(f"/{p}"), f"Teaser {p}.") for p in ("a", "boom", "b")]
        server.routes["/feed"] = Reply(200, rss(items))
        for p in ("a", "boom", "b"):
            page = _page(f"Story {p}", STORY * 3).replace(b"/story?id=1", f"/{p}".encode())
            server.routes[f"/{p}"] = Reply(200, page, {"Content-Type": "text/html"})
        source = FeedSource(server.url("/feed"), full_text="always")
        settings = _settings(tmp_path, (source,), max_errors=1)
        store = _store(settings)
        messages: list[str] = []
        report = fetch_and_store(settings, store, [source], NOW, on_progress=messages.append)
        assert "/boom" in server.paths()
    assert report.failures == () and report.new_articles == 3 and report.health[0].ok
    texts = {a.title: a.text for a in store.articles_between(NOW - timedelta(days=2), NOW)}
    assert texts["Story boom"] == "Teaser boom."
    assert texts["Story a"].startswith("The city council") and texts["Story b"] != "Teaser b."
    state = store.feed_state(source.url)
    assert state.error_count == 0 and state.last_error is None and not state.disabled
    assert state.last_success_at == NOW
    assert any("/boom" in m and "RuntimeError: lxml went away" in m for m in messages)


def test_find_feed_never_reads_local_files_named_by_a_remote_page(tmp_path: Path) -> None:
    from digest.errors import DigestError
    from digest.fetch.discover import find_feed

    secret = tmp_path / "secret.xml"
    secret.write_bytes(rss([("Secret", "https://e.org/s", STORY)], title="Local secret"))
    link = '<link rel="alternate" type="application/rss+xml" href="{}">'
    pages = {
        "/file-link": link.format(secret.as_uri()),
        "/file-base": f'<base href="{tmp_path.as_uri()}/">' + link.format("secret.xml"),
        "/path-base": f'<base href="{tmp_path}/">' + link.format("secret.xml"),
        "/other-scheme": link.format("ftp://e.org/rss") + link.format("data:,x"),
        "/then-good": link.format(secret.as_uri()) + link.format("/rss"),
    }
    with LoopbackServer() as server:
        for path, head in pages.items():
            html = f"<html><head>{head}</head><body>Hi</body></html>".encode()
            server.routes[path] = Reply(200, html, {"Content-Type": "text/html"})
        server.routes["/rss"] = Reply(200, rss([("A", "https://e.org/a", STORY)], title="Good"))
        for path in list(pages)[:-1]:
            with pytest.raises(DigestError, match="links to no feed"):
                find_feed(server.url(path), FetchSettings(timeout=5.0, allow_private=LOOPBACK))
        url, parsed = find_feed(
            server.url("/then-good"), FetchSettings(timeout=5.0, allow_private=LOOPBACK)
        )
    assert url == server.url("/rss") and parsed.title == "Good"
    # a local page given by the user may still name a local feed
    home = tmp_path / "home.html"
    home.write_text(f"<html><head>{link.format('secret.xml')}</head></html>")
    url, parsed = find_feed(home.as_uri(), FetchSettings(timeout=5.0, allow_private=LOOPBACK))
    assert url == secret.as_uri() and parsed.title == "Local secret"
