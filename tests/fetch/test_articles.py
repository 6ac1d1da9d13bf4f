"""articles: a feed's drafts, batched, are the Articles each entry gives on its own.

`reference_draft` is draft_article as it was before the batched rewrite (clean_text over html_to_text,
one fingerprint per text); prepare_feed must give the same Articles and send the entries
back without the HTML the main process never reads.
"""

from __future__ import annotations

import html
import pickle
import random
from datetime import UTC, datetime

from textreference import real_pages, real_texts, reference

from digest.fetch.articles import draft_article, draft_articles, prepare_feed
from digest.fetch.dedup import canonical_url
from digest.fetch.extract import clean_text, html_to_text
from digest.models import Article, Entry, FeedSource, FetchResult, ParsedFeed
from digest.text import MAX_TEXT_CHARS, MAX_TITLE_CHARS, detect_language, shorten

NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


def reference_draft(source: FeedSource, feed: ParsedFeed, entry: Entry) -> Article | None:
    body = max(entry.content_html, entry.summary_html, key=len)
    text = shorten(clean_text(html_to_text(body), entry.title), MAX_TEXT_CHARS)
    title = shorten(entry.title, MAX_TITLE_CHARS) or text[:80].rsplit(" ", 1)[0]
    if not title and not text:
        return None
    language = entry.language or source.language or feed.language
    return Article(
        feed_url=source.url,
        source=shorten(source.name or feed.title or source.url, 200),
        guid=entry.guid,
        url=canonical_url(entry.url) if entry.url else f"{source.url}#{entry.guid}",
        title=title,
        published=entry.published or NOW,
        text=text,
        language=language or detect_language(f"{title}\n{text}"),
        fingerprint=reference(text or title),
        fetched=NOW,
        tags=source.tags,
        image_url=entry.image_url,
        weight=source.weight,
    )


def _entries(rng: random.Random) -> list[Entry]:
    bodies = [*real_pages(), *(f"<p>{html.escape(t)}</p>" for t in real_texts()), "", "<p></p>"]
    titles = [*(t[:70] for t in real_texts()), "", "Один"]
    out = []
    for i in range(120):
        content, summary = rng.choice(bodies), rng.choice([*bodies[-6:], ""])
        url = rng.choice(["", f"https://e.org/{i}?utm_source=x#top"])
        language = rng.choice([None, None, "de"])
        title = rng.choice(titles)
        out.append(Entry("f", f"g{i}", url, title, None, summary, content, language=language))
    empty = [Entry("f", "e1", "", "", None), Entry("f", "e2", "", "", None, "<p> </p>", "<br>")]
    return [*empty[:1], *out, *empty[1:]]


def test_drafts_are_the_articles_each_entry_gives_alone() -> None:
    entries = _entries(random.Random(2))
    feed = ParsedFeed("f", "Feed", "", tuple(entries))
    source = FeedSource("f", tags=("t",))
    expected = [(e, a) for e in entries if (a := reference_draft(source, feed, e)) is not None]
    assert draft_articles(source, feed, entries, NOW) == expected
    assert [draft_article(source, feed, e, NOW) for e, _ in expected] == [a for _, a in expected]
    assert 0 < len(expected) < len(entries)  # entries without title or text give none
    assert {a.language for _, a in expected} >= {"de", "en", "ru"}


def test_prepared_entries_travel_without_their_html() -> None:
    texts = [t for t in real_texts() if len(t) > 200]  # bodies, not titles
    items = "".join(
        f"<item><title>{html.escape(t[:60])}</title><link>https://e.org/{i}</link>"
        f"<description>{html.escape(t[:200])}</description>"
        f"<content:encoded><![CDATA[<p>{html.escape(t)}</p>]]></content:encoded></item>"
        for i, t in enumerate(texts)
    )
    body = (
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>T</title><link>https://e.org/</link>{items}</channel></rss>"
    ).encode()
    source = FeedSource("https://e.org/feed")
    prepared = prepare_feed(FetchResult(source.url, 200, body), source, NOW, frozenset())
    assert not isinstance(prepared, Exception) and hasattr(prepared, "drafts")
    assert prepared.entries == len(texts) and len(prepared.drafts) == len(texts)
    for entry, article in prepared.drafts:
        assert entry.summary_html == entry.content_html == ""
        assert entry.url and entry.title and article.url == entry.url and article.text
    assert b"<p>" not in pickle.dumps(prepared)  # what goes back to the main process
