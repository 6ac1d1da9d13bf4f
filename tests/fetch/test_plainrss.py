"""plainrss: plain RSS 2.0 read with lxml gives exactly what feedparser gives, or is left to it."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digest.fetch import parse
from digest.fetch.plainrss import read_plain_rss
from digest.models import FeedSource, FetchResult, ParsedFeed

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
URL = "https://news.example/rss"
DATA = Path(__file__).parent.parent / "data"
SAMPLES = Path(__file__).parent.parent.parent / "digest" / "feeds" / "samples"
TYPES = (None, "application/rss+xml; charset=utf-8", "text/xml; charset=UTF-8")


def _both(body: bytes, content_type: str | None) -> tuple[ParsedFeed | str, ParsedFeed | str]:
    """Return parse_feed's result with the lxml reader and with feedparser alone."""

    def run() -> ParsedFeed | str:
        result = FetchResult(url=URL, status=200, body=body, content_type=content_type)
        try:
            return parse.parse_feed(result, FeedSource(URL), NOW)
        except Exception as exc:  # the same error either way is the same result
            return f"{type(exc).__name__}: {exc}"

    fast = run()
    saved = parse.read_plain_rss
    parse.read_plain_rss = lambda body, content_type: None  # type: ignore[assignment]
    try:
        return fast, run()
    finally:
        parse.read_plain_rss = saved


def _fixtures() -> Iterator[Path]:
    for pattern in ("**/*.xml", "**/*.rss"):
        yield from sorted((DATA / "feedparser").glob(pattern))
        yield from sorted((DATA / "feeds").glob(pattern))
    yield from sorted(SAMPLES.glob("*.xml"))


def test_every_fixture_it_reads_parses_as_feedparser_parses_it() -> None:
    read = 0
    for path in _fixtures():
        body = path.read_bytes()
        for content_type in TYPES:
            if read_plain_rss(body, content_type) is None:
                continue
            read += 1
            fast, slow = _both(body, content_type)
            assert fast == slow, f"{path} ({content_type})"
    # feedparser's own test feeds, feed-rs's real-world feeds and the bundled samples: the
    # plain RSS 2.0 among them (about 330 documents, each under three content types).
    assert read > 600


# Pieces of a generated item: each is a way feeds really write a field, including the odd ones
# feedparser repairs (mojibake, windows-1252 bytes, entities in titles, "&amp;" in links).
TITLES = [
    "Plain title",
    "  Spaced\n title  ",
    "AT&amp;T buys &lt;b&gt;bold&lt;/b&gt;",
    "&amp;amp; twice &amp;#8217;escaped&amp;#8217;",
    "<![CDATA[CDATA <i>title</i> &amp; more]]>",
    "Caf\u00c3\u00a9 mojibake",
    "\u0412\u043b\u0430\u0441\u0442\u0438 \u00ab\u0440\u0435\u0448\u0438\u043b\u0438\u00bb",
    "quote \u0093smart\u0094 C1",
    "",
    "Fish &amp; chips &lt;/p&gt;",
]
LINKS = [
    "https://news.example/a?x=1&amp;y=2",
    "/relative/path",
    "  https://news.example/spaced  ",
    "http:///news.example/three-slashes",
    "https://news.example/q?a=1&amp;amp;b=2",
    "",
]
DATES = [
    "Tue, 24 Nov 2026 10:00:00 +0300",
    "2026-11-24T10:00:00Z",
    "24 Nov 2026 10:00 GMT",
    "not a date",
    "Wed, 24 Nov 2099 10:00:00 GMT",
    "",
]
BODIES = [
    "<![CDATA[<p>Para &amp; one</p><p>two</p>]]>",
    "&lt;p&gt;escaped &amp;amp; html&lt;/p&gt;",
    "plain text body",
    "  ",
    "\u0422\u0435\u043a\u0441\u0442 \u0441\u0442\u0430\u0442\u044c\u0438",
]


def _item(rng: random.Random) -> str:
    parts: list[str] = []
    if rng.random() < 0.9:
        parts.append(f"<title>{rng.choice(TITLES)}</title>")
    if rng.random() < 0.8:
        parts.append(f"<link>{rng.choice(LINKS)}</link>")
    if rng.random() < 0.7:
        permalink = rng.choice(
            ["", ' isPermaLink="false"', ' isPermaLink="true"', ' ISPERMALINK="True"']
        )
        parts.append(f"<guid{permalink}>{rng.choice([*LINKS, 'urn:x:1', 'id-42'])}</guid>")
    if rng.random() < 0.8:
        parts.append(f"<pubDate>{rng.choice(DATES)}</pubDate>")
    if rng.random() < 0.2:
        parts.append(f"<dc:date>{rng.choice(DATES)}</dc:date>")
    if rng.random() < 0.7:
        parts.append(f"<description>{rng.choice(BODIES)}</description>")
    if rng.random() < 0.5:
        parts.append(f"<content:encoded>{rng.choice(BODIES)}</content:encoded>")
    if rng.random() < 0.3:
        tag = rng.choice(["author", "dc:creator"])
        parts.append(f"<{tag}> Jane Roe (jr@x.org) </{tag}>")
    if rng.random() < 0.3:
        kind = rng.choice(["image/jpeg", "IMAGE/PNG", "audio/mpeg"])
        parts.append(
            f'<enclosure url="https://cdn.example/{rng.randint(1, 9)}.jpg" type="{kind}"/>'
        )
    if rng.random() < 0.3:
        medium = rng.choice(["", ' medium="image"', ' medium="video"'])
        thumb = '<media:thumbnail url="/t.jpg"/>' if rng.random() < 0.5 else ""
        parts.append(
            f'<media:content url="https://cdn.example/m.jpg"{medium}>{thumb}</media:content>'
        )
    if rng.random() < 0.2:
        parts.append("<media:thumbnail>  /thumb-from-text.jpg </media:thumbnail>")
    if rng.random() < 0.2:
        parts.append('<category domain="x">World</category><comments>/c</comments>')
    if rng.random() < 0.2:
        parts.append("<!-- a comment between elements --><slash:comments>3</slash:comments>")
    if rng.random() < 0.2:
        rel = rng.choice(
            [' rel="self"', ' rel="alternate"', ' rel="enclosure" type="image/png"', ""]
        )
        parts.append(f'<atom:link{rel} href="https://news.example/atom"/>')
    if rng.random() < 0.1:
        parts.append("<extra:note>text under a namespace feedparser does not know</extra:note>")
    rng.shuffle(parts)
    return "<item>" + "".join(parts) + "</item>"


def _document(rng: random.Random) -> bytes:
    declaration = '<?xml version="1.0" encoding="utf-8"?>'
    head = rng.choice([declaration, "\ufeff" + declaration, '<?xml version="1.0"?>', ""])
    channel = f"<title>{rng.choice(TITLES)}</title><link>{rng.choice(LINKS)}</link>"
    if rng.random() < 0.5:
        channel += f"<language>{rng.choice(['en-gb', 'ru', 'EN_us', ''])}</language>"
    items = "".join(_item(rng) for _ in range(rng.randint(0, 6)))
    namespaces = (
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/" '
        'xmlns:slash="http://purl.org/rss/1.0/modules/slash/" '
        'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:extra="https://extra.example/ns"'
    )
    version = rng.choice(["2.0", "0.92", "2.01"])
    return f'{head}<rss version="{version}" {namespaces}><channel>{channel}{items}</channel></rss>'.encode()


@pytest.mark.parametrize("seed", range(4))
def test_generated_feeds_parse_as_feedparser_parses_them(seed: int) -> None:
    rng = random.Random(seed)
    read = 0
    for n in range(150):
        body = _document(rng)
        content_type = rng.choice(TYPES)
        if read_plain_rss(body, content_type) is None:
            continue
        read += 1
        fast, slow = _both(body, content_type)
        assert fast == slow, f"document {n} of seed {seed}: {body.decode()}"
    assert read > 60  # most generated documents are plain RSS


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'<!DOCTYPE rss SYSTEM "x.dtd"><rss version="2.0"><channel/></rss>', None),
        (b'<rss version="2.0" xml:lang="ru"><channel/></rss>', None),
        (b'<?xml version="1.0" encoding="windows-1251"?><rss><channel/></rss>', None),
        (b"<rss><channel><title>T</title></channel></rss>", "text/xml"),  # US-ASCII to feedparser
        (b"<rss><channel/></rss>", "text/html"),
        (b"<rss><channel/></rss>", "application/rss+xml; charset=koi8-r"),
        (b'<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title></feed>', None),
        (b"<rss><channel><item><title>a</title><title>b</title></item></channel></rss>", None),
        (b"<rss><channel><item><description>a<b>x</b></description></item></channel></rss>", None),
        (b"<rss><channel><item><title>a<!-- c -->b</title></item></channel></rss>", None),
        (b'<rss><channel><item><title type="html">a</title></item></channel></rss>', None),
        (
            b'<rss xmlns:media="http://search.yahoo.com/mrss/"><channel><item>'
            b"<media:title>t</media:title></item></channel></rss>",
            None,
        ),
        (b"<rss><channel><item><title>broken &nbsp;</title></item></channel></rss>", None),
    ],
)
def test_anything_else_is_left_to_feedparser(body: bytes, content_type: str | None) -> None:
    assert read_plain_rss(body, content_type) is None
