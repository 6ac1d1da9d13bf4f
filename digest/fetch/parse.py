"""Turn fetched feed bytes into entries with feedparser (from bytes and headers only).

feedparser is never given a URL or a str: it would fetch a URL itself, with no timeout, and
open a string that looks like a path as a local file. It gets the bytes httpx fetched and the
content type (for the encoding) and, for documents with xml:base, the URL they came from.
Relative links are resolved here against that URL. JSON Feed, which feedparser 6 does not
read, is parsed here with the json module.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import io
import json
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import charset_normalizer
import feedparser
import lxml.html
from lxml import etree

from digest.errors import ParseError
from digest.fetch.plainrss import read_plain_rss
from digest.models import Entry, FeedSource, FetchResult, ParsedFeed, wall_clock
from digest.text import MAX_SOURCE_CHARS, shorten

_SPACE = re.compile(r"\s+")
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[A-Za-z]{2,8});")
_TAG = re.compile(r"<[A-Za-z!/?]")


def parse_feed(result: FetchResult, source: FeedSource, now: datetime) -> ParsedFeed:
    """Return the feed's metadata and entries; ParseError naming the URL when nothing is usable."""
    url = result.url or source.url
    if result.body is None:
        raise ParseError(url, result.error or f"no body (HTTP {result.status})")
    body = result.body
    base = result.content_location or result.final_url or url
    base = base if base.startswith(("http://", "https://")) else ""
    if _looks_like_json(body, result.content_type):
        return _parse_json_feed(body, url, base, now)
    data = _read_xml(body, result.content_type, base)
    bozo = (str(data.get("bozo_exception") or "") or None) if data.get("bozo") else None
    feed = data.get("feed", {})
    entries = tuple(
        e for e in (_entry(raw, url, base, now) for raw in data.get("entries", [])) if e is not None
    )
    # An empty feed is fine when it is recognisably a feed (a version and a title or link);
    # zero entries from something broken or unrecognised is an error worth reporting.
    recognised = data.get("version") and (feed.get("title") or feed.get("link") or not bozo)
    if not entries and not recognised:
        raise ParseError(url, _why_unusable(body, bozo, base))
    return ParsedFeed(
        url=url,
        title=plain_text(feed.get("title", ""), feed.get("title_detail")),
        link=_absolute(feed.get("link", ""), base),
        entries=entries,
        language=_language(feed.get("language")),
        bozo=bozo,
    )


def _read_xml(body: bytes, content_type: str | None, base: str) -> Any:
    """Return feedparser's reading of an XML feed (plain RSS 2.0 read the same way with lxml)."""
    # Plain RSS 2.0 is read with lxml in a tenth of feedparser's time (plainrss.py).
    data = read_plain_rss(body, content_type) or _feedparser(body, content_type, base)
    if isinstance(data.get("bozo_exception"), feedparser.CharacterEncodingOverride):
        # feedparser read the bytes as windows-1252; a wrong UTF-8 label deserves a better
        # guess. Checked only then: validating every body up front costs more.
        fixed, fixed_type = repair_encoding(body, content_type)
        if fixed is not body:
            data = _feedparser(fixed, fixed_type, base)
    return data


LEGACY = ["cp1252", "cp1251", "koi8_r"]
_XML_DECL = re.compile(rb"^(\s*<\?xml[^>]*?encoding=)([\"'])[^\"']*\2", re.I)
_CHARSET = re.compile(r"charset=[\"']?([\w.:-]+)", re.I)


def _feedparser(body: bytes, content_type: str | None, base: str) -> Any:
    # Without a content type feedparser flags every document as bozo; XML is what a feed is.
    headers = {"content-type": content_type or "application/xml"}
    if b"xml:base" in body:
        # Only xml:base needs feedparser's own resolution (nested bases); plain relative
        # links are resolved in _entry, which spares feedparser a urljoin per element.
        headers["content-location"] = base
    # Sanitising and URI resolution inside HTML are off: the pipeline turns feed HTML into
    # plain text and escapes it everywhere, and these two passes double feedparser's CPU time.
    return feedparser.parse(
        io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )


def repair_encoding(body: bytes, content_type: str | None) -> tuple[bytes, str | None]:
    """Return body and content type, re-encoded as UTF-8 when a UTF-8 label is plainly wrong."""
    declared = _CHARSET.search(content_type or "")
    head = _XML_DECL.match(body[:200])
    label = (declared.group(1) if declared else "") or (
        head.group(0).rsplit(b"=", 1)[1].strip(b"\"'").decode("ascii", "replace") if head else ""
    )
    if label and label.lower().replace("_", "-") not in ("utf-8", "utf8"):
        return body, content_type
    # UTF-16/32 (with a BOM or not) and EBCDIC do not start with an ASCII "<": not ours to fix.
    if not body.lstrip(b" \t\r\n\xef\xbb\xbf").startswith(b"<"):
        return body, content_type
    try:
        body.decode("utf-8")
        return body, content_type
    except UnicodeDecodeError:
        pass
    text = body.decode("utf-8", "replace")
    broken = text.count("\ufffd")
    # A few bad bytes in a UTF-8 feed stay replaced; mostly-invalid text is a legacy
    # encoding under a wrong label (windows-1251 sent as UTF-8), so guess the real one.
    if sum(1 for c in text if ord(c) > 127) - broken >= broken:
        return text.encode("utf-8"), _utf8_type(content_type)
    # Only the legacy encodings of the languages digest serves: an open guess picks Baltic
    # or Central European code pages for short Portuguese or French text.
    guess = charset_normalizer.from_bytes(body[:100_000], cp_isolation=LEGACY).best()
    if guess is None:
        return text.encode("utf-8"), _utf8_type(content_type)
    fixed = body.decode(guess.encoding, "replace").encode("utf-8")
    fixed = _XML_DECL.sub(rb"\1\2utf-8\2", fixed, count=1)
    return fixed, _utf8_type(content_type)


def _utf8_type(content_type: str | None) -> str:
    base = (content_type or "application/xml").split(";")[0].strip()
    return f"{base}; charset=utf-8"


def _why_unusable(body: bytes, bozo: str | None, base: str) -> str:
    head = body[:2048].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        feeds = discover_feeds(body, base)
        hint = f" (it announces a feed at {feeds[0]})" if feeds else ""
        return f"not a feed: the URL returned an HTML page{hint}"
    if not body.strip():
        return "not a feed: empty body"
    return f"not a feed: {bozo}" if bozo else "not a feed: no RSS, Atom or JSON Feed found"


def _entry(entry: Mapping[str, Any], feed_url: str, base: str, now: datetime) -> Entry | None:
    # A plain dict: FeedParserDict's own lookups map legacy key names (and warn) at a cost
    # that shows when a thousand feeds are parsed; the canonical keys are read directly.
    raw = dict(entry)
    title = plain_text(raw.get("title", ""), raw.get("title_detail"))
    link = _absolute(raw.get("link", ""), base)
    summary = str(raw.get("summary", "") or "")
    contents = [str(dict.get(c, "value", "")) for c in raw.get("content", []) or []]
    content = max(contents, key=len, default="")
    if not (title or link or summary or content):
        return None
    published = _date(raw.get("published_parsed") or raw.get("updated_parsed"), now)
    guid = str(raw.get("id") or "").strip() or link or stable_id(title, summary, content)
    detail = raw["content"][0] if raw.get("content") else raw.get("summary_detail")
    return Entry(
        feed_url=feed_url,
        guid=guid,
        url=link,
        title=title,
        published=published,
        summary_html=summary,
        content_html=content,
        author=plain_text(str(raw.get("author", "") or "")),
        image_url=_image(raw, base),
        language=_language(dict.get(detail, "language") if detail else None),
        outlet=_outlet(raw.get("source")),
    )


def _outlet(source: Any) -> str:
    """Return the outlet an item's `<source>` names (RSS: its text; Atom: its title), else ""."""
    if not isinstance(source, Mapping):
        return ""
    return shorten(" ".join(plain_text(str(source.get("title") or "")).split()), MAX_SOURCE_CHARS)


def stable_id(*parts: str) -> str:
    """Return an id for an entry without GUID or link, stable across fetches."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "replace")).hexdigest()
    return f"sha256:{digest[:32]}"


def plain_text(value: object, detail: Mapping[str, Any] | None = None) -> str:
    """Return a title-like value as one line of plain text (tags dropped, entities decoded)."""
    text = str(value or "")
    kind = str((detail or {}).get("type", ""))
    if ("html" in kind or _TAG.search(text)) and ("<" in text or "&" in text):
        try:
            root = lxml.html.fragment_fromstring(text, create_parent="div")
            for code in list(root.iter("script", "style")):
                code.drop_tree()
            text = str(root.text_content())
        except (etree.ParserError, ValueError):
            text = re.sub(r"<[^>]*>", " ", text)
    # Feeds often escape twice ("&amp;#8217;"), so an entity may survive the first decoding.
    if _ENTITY.search(text):
        text = html.unescape(text)
    return _SPACE.sub(" ", text).strip()


def _absolute(value: object, base: str) -> str:
    link = str(value or "").strip()
    if not link or not base or base.startswith("file:"):
        return link
    try:
        return urljoin(base, link)
    except ValueError:
        return link


def _date(parsed: Any, now: datetime) -> datetime | None:
    if not parsed:
        return None
    try:
        when = datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, ValueError, TypeError, OSError):
        return None
    if when <= now:
        return when
    # Ahead of the pass's time. Ahead of the wall clock too, it is a publisher's clock or
    # time-zone mistake: it is "now", and belongs to the period being built. Otherwise the
    # pass is as of an earlier time (`--as-of`) and the item is a later period's.
    return now if when > wall_clock() else when


def _language(value: Any) -> str | None:
    text = str(value or "").strip().lower().replace("_", "-")
    return text.split("-")[0][:8] or None if text else None


def _image(raw: Mapping[str, Any], base: str) -> str | None:
    for key in ("media_thumbnail", "media_content"):
        for item in raw.get(key, []) or []:
            if item.get("url") and str(item.get("medium", "image")) == "image":
                return _absolute(item["url"], base)
    for link in raw.get("links", []) or []:
        if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/"):
            return _absolute(link.get("href", ""), base) or None
    return None


def _looks_like_json(body: bytes, content_type: str | None) -> bool:
    if content_type and "json" in content_type.lower():
        return True
    return body.lstrip()[:1] == b"{"


def _parse_json_feed(body: bytes, url: str, base: str, now: datetime) -> ParsedFeed:
    # Hand-written because feedparser 6 does not read JSON Feed (https://jsonfeed.org/version/1.1).
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(url, f"not a feed: invalid JSON ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise ParseError(url, "not a feed: JSON without an items list")
    items = (_json_item(item, url, base, now) for item in data["items"] if isinstance(item, dict))
    return ParsedFeed(
        url=url,
        title=plain_text(data.get("title", "")),
        link=_absolute(data.get("home_page_url", ""), base),
        entries=tuple(e for e in items if e is not None),
        language=_language(data.get("language")),
    )


def _json_item(item: dict[str, Any], url: str, base: str, now: datetime) -> Entry | None:
    """Return one JSON Feed item as an Entry; None for an item with nothing to show."""
    title = plain_text(item.get("title", ""))
    link = _absolute(item.get("url") or item.get("external_url") or "", base)
    content = str(item.get("content_html") or html.escape(str(item.get("content_text") or "")))
    summary = str(item.get("summary") or "")
    if not (title or link or content or summary):
        return None
    published = _json_date(item.get("date_published") or item.get("date_modified"), now)
    guid = str(item.get("id") or "").strip() or link or stable_id(title, summary, content)
    image = item.get("image") or item.get("banner_image")
    image = _absolute(image, base) if isinstance(image, str) and image else None
    return Entry(url, guid, link, title, published, summary, content, "", image, None)


def _json_date(value: Any, now: datetime) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return _date(time.gmtime(when.timestamp()), now) if when.year > 1900 else None


FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
    "text/xml",
    "application/xml",
)


def discover_feeds(html: bytes, base_url: str) -> tuple[str, ...]:
    """Return the absolute feed URLs an HTML page announces with <link rel="alternate">."""
    if not html.strip():
        return ()
    try:
        root = lxml.html.document_fromstring(html[:2_000_000])
    except (etree.ParserError, ValueError):
        return ()
    # A relative <base href> is itself relative to the page's URL.
    base = _join(base_url, str(root.xpath("string(//base/@href)")).strip()) or base_url
    found: list[str] = []
    for link in root.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        href = (link.get("href") or "").strip()
        if "alternate" in rels and kind in FEED_TYPES and href and (url := _join(base, href)):
            found.append(url)
    return tuple(dict.fromkeys(found))


def _join(base: str, href: str) -> str:
    try:
        return urljoin(base, href)
    except ValueError:  # a malformed href ("http://[x/") names nothing
        return ""
