"""Read a plain RSS 2.0 document with lxml into the dicts feedparser gives, or None.

Hand-written because feedparser's SAX callbacks cost about 16 ms of CPU for a 50-item feed,
the largest single cost of a cold `digest fetch` of many feeds, and no faster
library reads feeds the same way (fastfeedparser, measured on the feed fixtures, differs from
feedparser in half of them: it rewrites summaries and ids). Most news feeds are plain RSS 2.0
made of a few elements; for those, lxml builds the tree in well under a millisecond and this
module fills the keys parse.py reads, processing each text as feedparser's strict parser does
(whitespace stripped, URIs cleaned, its UTF-8 and windows-1252 repairs, its date parser and
its test for HTML in a title), so parse.py's `_entry` builds the same entries from either.

Everything else returns None and feedparser reads the document: another format or version,
a DOCTYPE, xml:base or xml:lang, an encoding other than UTF-8, a content type feedparser would
flag, markup or a comment inside a text element, attributes that change an element's meaning,
an element outside the list below or one that occurs twice. tests/fetch/test_plainrss.py
checks on every feed fixture that both paths give the same parsed feed.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from feedparser.api import StrictFeedParser
from feedparser.datetimes import _parse_date  # feedparser's own, so that dates agree
from feedparser.html import _cp1252  # feedparser's windows-1252 repair table
from feedparser.mixin import _FeedParserMixin
from lxml import etree

_XML_TYPES = ("application/xml", "application/rss+xml", "text/xml")
_CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_ATOM = "{http://www.w3.org/2005/Atom}"
_MEDIA = ("{http://search.yahoo.com/mrss/}", "{http://search.yahoo.com/mrss}")
# Channel elements that feedparser keeps apart from the feed's title, link and language.
_CHANNEL_OTHER = frozenset(
    {"description", "copyright", "managingeditor", "webmaster", "pubdate", "lastbuilddate"}
    | {"category", "generator", "docs", "cloud", "ttl", "image", "rating", "textinput"}
    | {"skiphours", "skipdays"}
)
_ITEM_TEXT = frozenset(("title", "link", "description", "pubdate", "author"))
_ITEM_OTHER = frozenset(("category", "comments", "source"))  # kept apart by feedparser
_URI_FIX = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*://)(/*)(.*?)")  # as feedparser's _urljoin
_UNESCAPED = re.compile(r"&([A-Za-z0-9_]+);")
_CP1252 = str.maketrans(_cp1252)
_C1 = re.compile("[\x80-\x9f]")
# feedparser's namespaces (URI -> its prefix) and the keys parse.py reads: an element that
# feedparser has no handler for is stored under its own name, harmless unless it is one of them.
_KNOWN = {uri.lower(): prefix for uri, prefix in _FeedParserMixin.namespaces.items()}
_PREFIXES = frozenset(_KNOWN.values())
_FEED_KEYS = frozenset(("title", "title_detail", "link", "links", "language"))
_ENTRY_KEYS = frozenset(
    {"title", "title_detail", "link", "links", "id", "summary", "summary_detail", "content"}
    | {"published", "published_parsed", "updated", "updated_parsed", "author"}
    | {"media_thumbnail", "media_content"}
)
_VERSIONS = {"0.91": "rss091u", "0.92": "rss092", "0.93": "rss093", "0.94": "rss094"}


class _Unsupported(Exception):
    """The document is outside the subset read here: feedparser reads it."""


def read_plain_rss(body: bytes, content_type: str | None) -> dict[str, Any] | None:
    """Return feedparser's result keys for a plain RSS 2.0 document, else None."""
    if not _plain_type(content_type) or b"xml:base" in body or b"xml:lang" in body:
        return None
    if b"<!DOCTYPE" in body[:4096]:
        return None  # entities declared in a DTD: feedparser's own handling, and no DTD here
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)
    try:
        root = etree.fromstring(body, parser)
    except (etree.XMLSyntaxError, ValueError):
        return None
    info = root.getroottree().docinfo
    if root.tag != "rss" or info.doctype or (info.encoding or "").lower() not in ("utf-8", "utf8"):
        return None
    channels = [c for c in root if isinstance(c.tag, str)]
    if len(channels) != 1 or channels[0].tag != "channel" or channels[0].attrib:
        return None
    try:
        feed, entries = _channel(channels[0])
    except _Unsupported:
        return None
    version = str(root.get("version", ""))
    return {
        "version": _VERSIONS.get(version, "rss20" if version.startswith("2.") else "rss"),
        "bozo": 0,
        "feed": feed,
        "entries": entries,
    }


def _plain_type(content_type: str | None) -> bool:
    # parse.py gives feedparser "application/xml" when there is no content type. text/xml
    # without a charset is US-ASCII to feedparser (RFC 3023), so only with an explicit one.
    if content_type is None:
        return True
    kind, _, params = content_type.lower().partition(";")
    charset = params.replace(" ", "").replace('"', "").replace("'", "")
    if "charset=" in charset:
        charset = charset.split("charset=", 1)[1].split(";")[0]
        if charset not in ("utf-8", "utf8"):
            return False
    elif kind.strip() == "text/xml":
        return False
    return kind.strip() in _XML_TYPES


def _channel(channel: etree._Element) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    feed: dict[str, Any] = {}
    entries: list[dict[str, Any]] = []
    for child in channel:
        tag = child.tag
        if not isinstance(tag, str):
            continue  # a comment or processing instruction between elements
        name = tag.lower()
        if name == "item":
            entries.append(_item(child))
        elif name in ("title", "link", "language"):
            if name in feed or child.attrib:
                raise _Unsupported(name)
            raw = _raw(child, uri=name == "link")
            value = _repair(raw)
            if name == "title":
                feed["title_detail"] = {"type": _title_type(raw)}
            feed[name] = _UNESCAPED.sub(r"&\g<1>", value) if name == "link" else value
        elif name in _CHANNEL_OTHER or _ignored_link(child) or _generic(child, _FEED_KEYS):
            continue
        else:
            raise _Unsupported(tag)
    return feed, entries


def _item(item: etree._Element) -> dict[str, Any]:
    if item.attrib:
        raise _Unsupported("item attributes")
    entry: dict[str, Any] = {}
    links: list[dict[str, str]] = []
    permalink = False
    seen: set[str] = set()
    for child in item:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        name = _name(tag)
        if name in seen and name not in ("category", "enclosure", "media"):
            raise _Unsupported(f"two {name}")
        seen.add(name)
        if name in _ITEM_TEXT or name in ("content", "dc:creator", "dc:date"):
            if child.attrib:
                raise _Unsupported(f"{name} attributes")
            _item_text(entry, links, name, child)
        elif name == "guid":
            permalink = _guid(entry, child)
        elif name == "enclosure":
            links.append(_enclosure(child))
        elif name == "media":
            _media(entry, child)
        elif name in _ITEM_OTHER:
            if len(child):
                raise _Unsupported(f"markup in {name}")
            if name == "source":  # the outlet of an aggregator's item, as feedparser keeps it
                entry["source"] = _source(child)
        elif not (_ignored_link(child) or _generic(child, _ENTRY_KEYS)):
            raise _Unsupported(tag)
    if permalink and "id" in entry:
        entry.setdefault("link", entry["id"])  # a permalink guid is the link when none is given
    if links:
        entry["links"] = links
    return entry


def _guid(entry: dict[str, Any], el: Any) -> bool:
    """Set the entry's id from its guid; return whether the guid is a permalink."""
    keys = {k.lower(): v for k, v in el.attrib.items()}
    if set(keys) - {"ispermalink"}:
        raise _Unsupported("guid attributes")
    permalink: bool = keys.get("ispermalink", "true") == "true"
    entry["id"] = _text(el, uri=permalink)
    return permalink


def _enclosure(el: Any) -> dict[str, str]:
    """Return an enclosure as feedparser's link: its attributes, href from url, rel enclosure."""
    if len(el) or (el.text or "").strip():
        raise _Unsupported("enclosure content")
    attrs = _attrs(el)
    if "url" in attrs and "href" not in attrs:
        attrs["href"] = attrs["url"]
    attrs["rel"] = "enclosure"
    return attrs


def _item_text(entry: dict[str, Any], links: list[dict[str, str]], name: str, el: Any) -> None:
    # Element by element, what feedparser's handlers do with a text-only element's value.
    if name == "link":
        value = _text(el, uri=True).replace("&amp;", "&")
        entry["link"] = _UNESCAPED.sub(r"&\g<1>", value)
        link = {"rel": "alternate", "type": "text/html"}
        if entry["link"]:
            link["href"] = entry["link"]
        links.append(link)
        return
    raw = _raw(el)
    value = _repair(raw)
    if name == "title":
        entry["title"], entry["title_detail"] = value, {"type": _title_type(raw)}
    elif name == "description":
        entry["summary"] = value
        entry["summary_detail"] = {"type": "text/html", "language": None, "value": value}
    elif name == "content":
        entry["content"] = [{"type": "text/html", "language": None, "value": value}]
        entry.setdefault("summary", value)  # a description before or after replaces it
    elif name == "pubdate":
        entry["published"], entry["published_parsed"] = value, _parse_date(value)
    elif name == "dc:date":
        entry["updated"], entry["updated_parsed"] = value, _parse_date(value)
    elif name in ("author", "dc:creator"):
        entry["author"] = value


def _media(entry: dict[str, Any], el: Any) -> None:
    # media:group holds media:content and media:thumbnail, which count as the entry's own;
    # media:title or media:description would change the entry's title or summary.
    local = el.tag.rsplit("}", 1)[1].lower()
    if local == "group":
        if el.attrib or (el.text or "").strip():
            raise _Unsupported("media:group content")
        _media_inside(entry, el)
    elif local == "content":
        entry.setdefault("media_content", []).append(_attrs(el))
        _media_inside(entry, el)
    elif local == "thumbnail":
        if len(el):
            raise _Unsupported("markup in media:thumbnail")
        attrs = _attrs(el)
        url = _text(el, uri=True)
        if url and "url" not in attrs:
            attrs["url"] = url
        entry.setdefault("media_thumbnail", []).append(attrs)
    elif local == "credit":
        if len(el):
            raise _Unsupported("markup in media:credit")
    else:
        raise _Unsupported(el.tag)


def _media_inside(entry: dict[str, Any], el: Any) -> None:
    for child in el:
        if isinstance(child.tag, str):
            if not child.tag.startswith(_MEDIA):
                raise _Unsupported(child.tag)
            _media(entry, child)


def _name(tag: str) -> str:
    if tag[0] != "{":
        return tag.lower()
    if tag.startswith(_CONTENT) and tag[len(_CONTENT) :] == "encoded":
        return "content"
    if tag.startswith(_DC) and tag[len(_DC) :] in ("creator", "date"):
        return "dc:" + tag[len(_DC) :]
    if tag.startswith(_MEDIA):
        return "media"
    return tag  # another namespace: _item decides


def _ignored_link(el: Any) -> bool:
    # <atom:link rel="self" href="..."/>: a link feedparser lists but does not use as the
    # feed's or entry's link (rel alternate would be; rel enclosure would be an image).
    if not (isinstance(el.tag, str) and el.tag == _ATOM + "link"):
        return False
    attrs = _attrs(el)
    rel = attrs.get("rel", "alternate")
    empty = not len(el) and not (el.text or "").strip()
    return empty and "href" in attrs and rel not in ("alternate", "enclosure")


def _generic(el: Any, keys: frozenset[str]) -> bool:
    """Return True for a text-only element feedparser stores under a name parse.py never reads."""
    if len(el):
        return False
    uri, _, local = el.tag[1:].rpartition("}") if el.tag[0] == "{" else ("", "", el.tag)
    if uri:
        prefix = _KNOWN.get(uri.lower())
        if prefix is None:  # a namespace feedparser does not know goes by the document's prefix
            prefix = el.prefix
            if not prefix or prefix in _PREFIXES:
                return False
        elif not prefix:
            return False  # Atom or RSS elements in a namespace: feedparser reads them as its own
        name = f"{prefix}_{local.lower()}"
    else:
        name = local.lower()
    handled = hasattr(StrictFeedParser, f"_start_{name}") or hasattr(
        StrictFeedParser, f"_end_{name}"
    )
    return not handled and name not in keys


def _source(el: Any) -> dict[str, str]:
    """Return an item's `<source url="…">Outlet</source>` as feedparser does: href and title."""
    found = {"href": el.attrib["url"]} if "url" in el.attrib else {}
    title = _text(el)
    return found | {"title": title} if title else found


def _attrs(el: Any) -> dict[str, str]:
    # feedparser lowercases attribute names, and the values of rel and type.
    found: dict[str, str] = {}
    for key, value in el.attrib.items():
        if key[0] == "{":
            raise _Unsupported(f"namespaced attribute {key}")
        name = key.lower()
        found[name] = value.lower() if name in ("rel", "type") else value
    return found


def _text(el: Any, uri: bool = False) -> str:
    """Return an element's text as feedparser's pop() leaves it (the element has no markup)."""
    return _repair(_raw(el, uri))


def _raw(el: Any, uri: bool = False) -> str:
    if len(el):
        raise _Unsupported(f"markup in {el.tag}")
    value = (el.text or "").strip()
    if uri and value:
        value = _URI_FIX.sub(r"\1\3", value)
    return value


def _repair(value: str) -> str:
    if not value.isascii():
        # feedparser's repair of UTF-8 read as ISO-8859-1 and encoded again
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            value = value.encode("iso-8859-1").decode("utf-8")
        if _C1.search(value):
            value = value.translate(_CP1252)
    return value


def _title_type(value: str) -> str:
    # A title is plain text unless it looks like HTML, by feedparser's own test.
    if ("&" in value or "</" in value) and _FeedParserMixin.looks_like_html(value):
        return "text/html"
    return "text/plain"
