"""Sources by outlet: an aggregator's items count for their own outlets, one site's topic
feeds for one, every article shown is linked, and key facts come from those articles only.

The aggregator's items are real articles of the Telegram Data Clustering Contest
(tests/data/eval/aggregator-tgcontest.jsonl; Apache-2.0, tests/data/eval/LICENSE-tgcontest).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

from localdigest import digest_text

from digest.fetch.parse import parse_feed
from digest.models import Article, Event, EventSummary, FeedSource, FetchResult, SummarySentence
from digest.render.pdf.story import source_links
from digest.store.database import open_store
from digest.store.schema import MIGRATIONS

DATA = Path(__file__).parent.parent / "data" / "eval" / "aggregator-tgcontest.jsonl"
NOW = datetime(2019, 11, 18, 9, 0, tzinfo=UTC)


def _items() -> list[dict[str, str]]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]


def _outlet(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


def aggregator_feed(path: Path, *, with_source: bool = True, extra: str = "") -> None:
    """Write one RSS feed carrying every item, each naming its outlet in <source>."""
    body = "".join(
        f"<item><title>{escape(p['title'])}</title><link>{escape(p['url'])}</link>"
        f"<guid>{escape(p['id'])}</guid>"
        f"<pubDate>{format_datetime(NOW - timedelta(hours=1 + i))}</pubDate>"
        + (
            f"<source url={quoteattr('https://' + _outlet(p['url']))}>"
            f"{escape(_outlet(p['url']))}</source>"
            if with_source
            else ""
        )
        + f"<description>{escape(p['text'])}</description>{extra}</item>"
        for i, p in enumerate(_items())
    )
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Агрегатор</title><language>ru</language>{body}</channel></rss>",
        encoding="utf-8",
    )


def test_an_items_source_is_its_outlet(tmp_path: Path) -> None:
    aggregator_feed(tmp_path / "feed.xml")
    result = FetchResult(
        url="https://aggregator.example/rss", status=200, body=(tmp_path / "feed.xml").read_bytes()
    )
    feed = parse_feed(result, FeedSource(url=result.url), NOW)
    assert [e.outlet for e in feed.entries] == [_outlet(p["url"]) for p in _items()]
    # feedparser (any feed lxml's fast path declines: here an unknown element) reads it alike
    aggregator_feed(tmp_path / "odd.xml", extra="<odd:x xmlns:odd='urn:x'>1</odd:x>")
    odd = FetchResult(url=result.url, status=200, body=(tmp_path / "odd.xml").read_bytes())
    assert [e.outlet for e in parse_feed(odd, FeedSource(url=result.url), NOW).entries] == [
        _outlet(p["url"]) for p in _items()
    ]


def test_an_aggregators_story_from_two_outlets_has_two_sources(tmp_path: Path) -> None:
    aggregator_feed(tmp_path / "feed.xml")
    text = digest_text(tmp_path, '[[feed]]\nurl = "feed.xml"\nname = "Агрегатор"\n', NOW)
    # was «1 источник: Агрегатор» for each story, one of its two articles linked
    assert "1 источник" not in text
    assert text.count("2 источника: ") == 2
    for item in _items():
        assert item["url"] in text  # every article the story shows is linked
    assert "realnoevremya.ru, ria.ru" in text or "ria.ru, realnoevremya.ru" in text


def article(url: str, feed_url: str, source: str = "Лента", outlet: str = "") -> Article:
    return Article(
        feed_url=feed_url,
        source=source,
        guid=url,
        url=url,
        title="Пожар в Москве",
        published=NOW,
        text="Пожар в Москве потушили.",
        language="ru",
        outlet=outlet,
    )


def test_one_sites_topic_feeds_are_one_outlet() -> None:
    event = Event(
        key="k",
        articles=(
            article("https://lenta.ru/news/1", "https://lenta.ru/rss/russia", "Лента: Россия"),
            article("https://lenta.ru/news/2", "https://lenta.ru/rss/moscow", "Лента: Москва"),
        ),
    )
    assert event.sources == ("Лента: Россия",)


def test_an_aggregator_without_source_counts_the_links_sites() -> None:
    feed = "https://news.example/rss"
    event = Event(
        key="k",
        articles=(
            article("https://tass.ru/1", feed, "Агрегатор"),
            article("https://ria.ru/2", feed, "Агрегатор"),
            article("https://news.example/3", feed, "Агрегатор"),  # the feed's own site
        ),
    )
    assert event.sources == ("tass.ru", "ria.ru", "Агрегатор")


def test_every_article_shown_is_linked_and_facts_come_from_those() -> None:
    feed = "https://news.example/rss"
    first = article("https://tass.ru/1", feed, outlet="ТАСС")
    second = article("https://tass.ru/2", feed, outlet="ТАСС")
    third = article("https://ria.ru/3", feed, outlet="РИА Новости")
    unshown = article("https://tass.ru/4", feed, outlet="ТАСС")
    event = Event(key="k", articles=(first, second, third, unshown))
    sentences = tuple(SummarySentence("Пожар потушили.", "ТАСС", a.url) for a in (first, second))
    summary = EventSummary(event=event, headline="Пожар", sentences=sentences)
    assert summary.shown == (first, second, third)
    assert source_links(summary) == [
        ("ТАСС", "https://tass.ru/1"),
        ("ТАСС (2)", "https://tass.ru/2"),
        ("РИА Новости", "https://ria.ru/3"),
    ]


def test_a_database_before_outlets_gets_the_column(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    open_store(f"sqlite:///{path}").close()
    con = sqlite3.connect(path)
    con.execute("ALTER TABLE articles DROP COLUMN outlet")
    con.execute("DELETE FROM schema_version WHERE version >= 7")
    con.commit()
    con.close()
    open_store(f"sqlite:///{path}").close()
    con = sqlite3.connect(path)
    columns = {row[1] for row in con.execute("PRAGMA table_info(articles)")}
    version = con.execute("SELECT max(version) FROM schema_version").fetchone()[0]
    con.close()
    assert "outlet" in columns and version == len(MIGRATIONS)
