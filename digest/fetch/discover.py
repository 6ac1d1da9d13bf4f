"""Find a site's feed from its home page (`<link rel="alternate">`) and read/write OPML.

An imported feed list is not trusted like the config: only its http(s) feeds are taken
(`importable`), so an OPML file cannot make digest read `file:///etc/passwd`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

import httpx

from digest.config import FetchSettings
from digest.errors import FetchError, ParseError
from digest.fetch.bodies import is_local
from digest.fetch.client import Fetcher, make_client, run_sync
from digest.fetch.parse import discover_feeds, parse_feed
from digest.models import FeedSource, FeedState, FetchResult, ParsedFeed, wall_clock

__all__ = ["discover_feeds", "export_opml", "find_feed", "importable"]


def find_feed(
    url: str,
    settings: FetchSettings,
    now: datetime | None = None,
    *,
    client: httpx.AsyncClient | None = None,
) -> tuple[str, ParsedFeed]:
    """Return the feed URL and parsed feed for a feed URL or a page that links to a feed.

    url comes from the operator (the command line), so it may be a local file.
    """
    return run_sync(_find_feed(url, settings, now or wall_clock(), client))


async def _find_feed(
    url: str, settings: FetchSettings, now: datetime, client: httpx.AsyncClient | None
) -> tuple[str, ParsedFeed]:
    http = client or make_client(settings)
    try:
        fetcher = Fetcher(settings, http, local_feeds={url})
        result = await fetcher.fetch(url, FeedState(url=url))
        parsed, error = _try_parse(result, url, now)
        if parsed is not None:
            return url, parsed
        page = result.final_url or url
        for candidate in discover_feeds(result.body or b"", page):
            if not _may_follow(page, candidate):
                continue
            # A local page given by the operator may name a local feed; a remote one may not.
            named = Fetcher(settings, http, local_feeds={candidate} if is_local(page) else ())
            found, _ = _try_parse(
                await named.fetch(candidate, FeedState(url=candidate)), candidate, now
            )
            if found is not None:
                return candidate, found
        raise error
    finally:
        if client is None:
            await http.aclose()


def _may_follow(page: str, candidate: str) -> bool:
    """Return True when a feed link found on page may be fetched."""
    # A remote page is not trusted to name a local file (<link href="file:///etc/...">,
    # <base href="file:///">) or another scheme; a local page given by the user may.
    if is_local(page):
        return True
    try:
        return urlsplit(candidate).scheme in ("http", "https") and not is_local(candidate)
    except ValueError:
        return False


def importable(sources: Sequence[FeedSource]) -> tuple[list[FeedSource], list[str]]:
    """Return the http(s) feeds of an imported list, and the URLs refused (file:, others)."""
    kept: list[FeedSource] = []
    refused: list[str] = []
    for source in sources:
        try:
            remote = urlsplit(source.url).scheme in ("http", "https")
        except ValueError:
            remote = False
        if remote and not is_local(source.url):
            kept.append(source)
        else:
            refused.append(source.url)
    return kept, refused


def _try_parse(result: FetchResult, url: str, now: datetime) -> tuple[ParsedFeed | None, Exception]:
    if not result.ok or result.body is None:
        return None, FetchError(url, result.error or f"HTTP {result.status}")
    try:
        return parse_feed(result, FeedSource(url), now), ParseError(url, "unreachable")
    except ParseError as exc:
        return None, ParseError(url, f"{exc.message}, and it links to no feed")


def export_opml(sources: Sequence[FeedSource], title: str = "digest feeds") -> str:
    """Return an OPML 2.0 document listing the feeds (tags as the category attribute)."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{_escape(title)}</title></head>",
        "  <body>",
    ]
    for s in sources:
        attrs = {"type": "rss", "text": s.name or s.url, "title": s.name or s.url, "xmlUrl": s.url}
        if s.tags:
            attrs["category"] = ",".join(s.tags)
        if s.language:
            attrs["language"] = s.language
        rendered = " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items())
        lines.append(f"    <outline {rendered}/>")
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
