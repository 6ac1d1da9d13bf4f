"""parse: feedparser from bytes with headers; titles, ids, dates, JSON Feed; feed discovery."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from digest.errors import ParseError
from digest.fetch.discover import discover_feeds, export_opml
from digest.fetch.parse import parse_feed
from digest.models import FeedSource, FetchResult

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SRC = FeedSource("https://news.example/feed")


def _parse(body: bytes, content_type: str | None = "application/rss+xml", **kw: str) -> object:
    result = FetchResult(url=SRC.url, status=200, body=body, content_type=content_type, **kw)  # type: ignore[arg-type]
    return parse_feed(result, SRC, NOW)


def test_relative_links_titles_ids_and_dates() -> None:
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>T &amp;amp; Co</title><link>/</link><language>ru-RU</language>
<item><title>Caf&#233; &lt;b&gt;opens&lt;/b&gt; &amp;#8217;today&amp;#8217;</title><link>/a/1</link>
<description>one</description><pubDate>Mon, 23 Nov 2026 10:00:00 +0300</pubDate></item>
<item><title>No link, no guid</title><description>two</description>
<pubDate>Mon, 23 Nov 2099 10:00:00 GMT</pubDate></item>
<item><description>three</description></item>
</channel></rss>"""
    feed = _parse(body, content_location="https://news.example/rss/")
    first, second, third = feed.entries  # type: ignore[attr-defined]
    assert feed.title == "T & Co" and feed.language == "ru"  # type: ignore[attr-defined]
    assert first.url == "https://news.example/a/1" and first.guid == first.url
    assert first.title == "Café opens ’today’"
    assert first.published == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    assert second.published == NOW  # a future date is a clock mistake
    assert second.guid.startswith("sha256:") and second.guid == _parse(body).entries[1].guid  # type: ignore[attr-defined]
    assert third.published is None and third.title == ""


def test_atom_content_and_bozo_feed_with_usable_entries() -> None:
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
<entry><id>urn:1</id><title type="html">&lt;i&gt;Hi&lt;/i&gt; there</title>
<link href="https://e.org/1"/><summary>short</summary>
<content type="html">&lt;p&gt;long content&lt;/p&gt;</content><updated>2026-11-24T00:00:00Z</updated>
</entry><entry><id>urn:2</id><title>Broken & unescaped</title></entry>"""
    feed = _parse(atom, "application/atom+xml")
    assert feed.bozo  # type: ignore[attr-defined]
    entry = feed.entries[0]  # type: ignore[attr-defined]
    assert (
        entry.title == "Hi there" and entry.guid == "urn:1" and "long content" in entry.content_html
    )


def test_json_feed() -> None:
    body = b"""{"version": "https://jsonfeed.org/version/1.1", "title": "J",
      "home_page_url": "https://j.example/", "items": [{"id": "1", "url": "/p/1",
      "title": "Hello", "content_text": "Body", "date_published": "2026-11-24T10:00:00Z"}]}"""
    feed = _parse(body, "application/feed+json")
    (entry,) = feed.entries  # type: ignore[attr-defined]
    assert (entry.guid, entry.url, entry.title) == ("1", "https://news.example/p/1", "Hello")
    assert entry.published == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<!DOCTYPE html><html><body>hi</body></html>", "HTML page"),
        (b"", "empty body"),
        (b"{not json", "invalid JSON"),
        (b"<rss><channel><item><title>x", "not a feed"),
    ],
)
def test_unusable_bodies_raise_parse_error_naming_the_url(body: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason) as info:
        _parse(body, None)
    assert str(info.value).startswith("parse: https://news.example/feed: ")


def test_discover_and_export() -> None:
    html = b"""<html><head><base href="https://site.example/news/">
<link rel="alternate" type="application/rss+xml" href="rss.xml">
<link rel="alternate" type="text/html" href="/en">
<link rel="Alternate feed" type="application/atom+xml" href="https://site.example/atom"></head></html>"""
    assert discover_feeds(html, "https://ignored/") == (
        "https://site.example/news/rss.xml",
        "https://site.example/atom",
    )
    assert discover_feeds(b"", "https://x/") == ()
    opml = export_opml([FeedSource("https://a/?x=1&y=2", name='A "B"', tags=("t",))])
    assert 'xmlUrl="https://a/?x=1&amp;y=2"' in opml and "title='A \"B\"'" in opml


def test_html_page_error_names_the_feed_it_announces() -> None:
    page = (
        b'<html><head><link rel="alternate" type="application/atom+xml" href="/atom"></head></html>'
    )
    with pytest.raises(
        ParseError, match=r"HTML page \(it announces a feed at https://news\.example/atom\)"
    ):
        _parse(page, "text/html")


def test_discovery_joins_a_relative_base_and_skips_malformed_links() -> None:
    html = b"""<html><head><base href="/news/">
<link rel="alternate" type="application/rss+xml" href="http://[broken/rss">
<link rel="alternate" type="application/rss+xml" href="rss.xml"></head></html>"""
    assert discover_feeds(html, "https://site.example/a/b") == (
        "https://site.example/news/rss.xml",
    )
