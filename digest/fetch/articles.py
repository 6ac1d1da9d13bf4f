"""Build Articles from feed entries: drafts from the feed's own text, improved by the page's.

The functions here are pure (no I/O), so prepare_feed can run in a worker process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urljoin

from digest.errors import DigestError
from digest.fetch.dedup import canonical_url, fingerprint
from digest.fetch.extract import ExtractedPage, clean_html, clean_text
from digest.fetch.fingerprint import fingerprints
from digest.fetch.parse import parse_feed
from digest.models import Article, Entry, Failure, FeedSource, FetchResult, ParsedFeed
from digest.text import (
    MAX_SOURCE_CHARS,
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
    detect_language,
    shorten,
    strip_controls,
)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A parsed feed's title and entry count, and its fresh entries as draft articles."""

    # Not the ParsedFeed: it travels back from a worker process, and unpickling every
    # entry's HTML again costs the event loop's process more than the rest of its work.
    # For the same reason the entries come without their HTML (summary_html, content_html):
    # past the draft, ingest reads only an entry's URL, title and language.
    title: str
    entries: int
    drafts: tuple[tuple[Entry, Article], ...]


def prepare_feed(
    result: FetchResult, source: FeedSource, now: datetime, known: frozenset[str]
) -> Prepared | Failure:
    """Return the parsed feed with draft articles for entries not yet stored, or a Failure."""
    # Runs in worker processes: a Failure travels back where a DigestError could not be pickled.
    try:
        feed = parse_feed(result, source, now)
    except DigestError as exc:
        return Failure(exc.stage, source.url, exc.message)
    fresh = [e for e in feed.entries if e.guid not in known]
    drafts = tuple(
        (replace(e, summary_html="", content_html=""), a)
        for e, a in draft_articles(source, feed, fresh, now)
    )
    return Prepared(strip_controls(feed.title), len(feed.entries), drafts)


def draft_article(
    source: FeedSource, feed: ParsedFeed, entry: Entry, now: datetime
) -> Article | None:
    """Return the Article an entry gives from the feed's own text (None when it has none)."""
    drafts = draft_articles(source, feed, [entry], now)
    return drafts[0][1] if drafts else None


def draft_articles(
    source: FeedSource, feed: ParsedFeed, entries: Sequence[Entry], now: datetime
) -> list[tuple[Entry, Article]]:
    """Return each entry with text and the Article it gives (draft_article's, batched)."""
    texts = [_title_and_text(e) for e in entries]
    kept = [
        (e, title, text) for e, (title, text) in zip(entries, texts, strict=True) if title or text
    ]
    # One batch for the feed: fingerprinting texts one by one cost twice as much.
    prints = fingerprints([text or title for _, title, text in kept])
    return [
        (e, _article(source, feed, e, now, title, text, fp))
        for (e, title, text), fp in zip(kept, prints, strict=True)
    ]


def _title_and_text(entry: Entry) -> tuple[str, str]:
    html = max(entry.content_html, entry.summary_html, key=len)
    # Capped as stored: a 1 MB title or body would be quoted and rendered whole. Controls
    # and bidi overrides never reach the store (digest/text/controls.py).
    title = strip_controls(entry.title)
    text = shorten(strip_controls(clean_html(html, title)), MAX_TEXT_CHARS)
    return shorten(title, MAX_TITLE_CHARS) or text[:80].rsplit(" ", 1)[0], text


def _article(
    source: FeedSource,
    feed: ParsedFeed,
    entry: Entry,
    now: datetime,
    title: str,
    text: str,
    print_: str,
) -> Article:
    language = entry.language or source.language or feed.language
    return Article(
        feed_url=source.url,
        source=shorten(strip_controls(source.name or feed.title or source.url), MAX_SOURCE_CHARS),
        guid=entry.guid,
        url=canonical_url(entry.url) if entry.url else f"{source.url}#{entry.guid}",
        title=title,
        published=entry.published or now,
        text=text,
        language=language or detect_language(f"{title}\n{text}"),
        fingerprint=print_,
        fetched=now,
        tags=source.tags,
        image_url=entry.image_url,
        weight=source.weight,
        outlet=entry.outlet,
    )


def with_page(draft: Article, entry: Entry, page: ExtractedPage, final_url: str) -> Article:
    """Return the draft with the page's text when it is longer, the page's canonical URL,
    and the page's lead image when the feed gave none."""
    url = draft.url
    if page.canonical_url:
        url = canonical_url(urljoin(final_url, page.canonical_url))
    # The feed's own image (enclosure, media:content) wins; the page's is resolved and
    # checked (http(s) only) by extract_article.
    image = draft.image_url or page.image_url
    text = shorten(strip_controls(clean_text(page.text, entry.title)), MAX_TEXT_CHARS)
    if len(text) <= len(draft.text):
        return replace(draft, url=url, image_url=image)
    language = entry.language or page.language or detect_language(f"{draft.title}\n{text}")
    return replace(
        draft,
        url=url,
        text=text,
        fingerprint=fingerprint(text),
        language=language,
        image_url=image,
    )


def wants_full_text(source: FeedSource, feed_text: str, min_chars: int) -> bool:
    """Return True when the article page should be fetched for this entry's text."""
    if source.full_text == "never":
        return False
    return source.full_text == "always" or len(feed_text) < min_chars
