"""Feed lists: `[[feed]]` tables in TOML, or OPML outlines (nested outlines become tags)."""

from __future__ import annotations

import re
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

from digest.config.rules import read_rules
from digest.config.tables import TableReader
from digest.errors import ConfigError
from digest.models import FeedSource

BUILTIN_PREFIX = "builtin:"
# Feed lists that ship inside the package, named in a config as "builtin:NAME": a config
# copied anywhere (/etc/digest, a container volume) finds them without a path.
BUILTIN_DIR = Path(__file__).resolve().parents[1] / "feeds"
BUILTIN_LISTS = {"default": "default.toml", "samples": "samples/samples.toml"}


def feed_list_path(value: str, base: Path) -> Path:
    """Return the file a `feeds` entry names: `builtin:NAME`, or a path relative to base."""
    if value.startswith(BUILTIN_PREFIX):
        name = value.removeprefix(BUILTIN_PREFIX)
        if name not in BUILTIN_LISTS:
            known = ", ".join(BUILTIN_PREFIX + n for n in BUILTIN_LISTS)
            raise ConfigError(value, f"no bundled feed list of that name (known: {known})")
        return BUILTIN_DIR / BUILTIN_LISTS[name]
    p = Path(value).expanduser()
    return (p if p.is_absolute() else base / p).resolve()


def load_feed_list(path: Path) -> tuple[FeedSource, ...]:
    """Return the feeds listed in a TOML (`[[feed]]` tables) or OPML file."""
    if not path.is_file():
        raise ConfigError(str(path), "feeds file not found")
    if path.suffix.lower() in (".opml", ".xml"):
        return _opml(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), f"not valid TOML: {exc}") from exc
    except RecursionError as exc:  # tomllib recurses once per nested array or table
        raise ConfigError(str(path), "not valid TOML: nested too deeply") from exc
    top = TableReader(str(path), "", raw)
    out = []
    for i, table in enumerate(top.get("feed", list, [])):
        r = TableReader(str(path), f"feed[{i}].", table)
        url = r.get("url", str)
        if not url:
            raise r.fail("url", "required")
        tags = r.get("tags", list, [])
        out.append(
            FeedSource(
                url=_feed_url(url, path.parent),
                name=r.get("name", str, ""),
                tags=tuple(str(t) for t in tags),
                full_text=cast(Any, r.choice("full_text", ("auto", "always", "never"), "auto")),
                weight=r.number("weight", 1.0, 0, 1000),
                language=r.get("language", str, None),
                include=read_rules(r, "include"),
                exclude=read_rules(r, "exclude"),
            )
        )
        r.finish()
    top.finish()
    return tuple(out)


def _feed_url(url: str, base: Path) -> str:
    """Return an http(s) URL as is, a local path made absolute against the list's folder."""
    if re.match(r"^[a-z][a-z0-9+.-]*://", url, re.I):
        return url
    p = Path(url).expanduser()
    return str(p if p.is_absolute() else (base / p).resolve())


def _opml(path: Path) -> tuple[FeedSource, ...]:
    try:
        root = ET.fromstring(path.read_bytes())
    except ET.ParseError as exc:
        raise ConfigError(str(path), f"not valid OPML: {exc}") from exc
    out: list[FeedSource] = []

    def walk(node: ET.Element, tags: tuple[str, ...]) -> None:
        for child in node.findall("outline"):
            url = child.get("xmlUrl")
            label = child.get("title") or child.get("text") or ""
            if url:
                cats = tuple(
                    c.strip().strip("/")
                    for c in (child.get("category") or "").split(",")
                    if c.strip()
                )
                out.append(
                    FeedSource(
                        url=_feed_url(url, path.parent),
                        name=label,
                        tags=tags + cats,
                        language=child.get("language"),
                    )
                )
            else:
                walk(child, (*tags, label) if label else tags)

    body = root.find("body")
    if body is None:
        raise ConfigError(str(path), "not valid OPML: no <body>")
    try:
        walk(body, ())
    except RecursionError as exc:  # one call per nested <outline>
        raise ConfigError(str(path), "not valid OPML: outlines nested too deeply") from exc
    return tuple(out)


def union_feeds(*groups: Iterable[FeedSource]) -> tuple[FeedSource, ...]:
    """Return the feeds of every group once each, by URL; the first group naming a URL wins.

    A feed listed by two digests, or both configured and added with `digest feeds add`, is
    fetched once and keeps the first definition (its name, tags and rules).
    """
    found: dict[str, FeedSource] = {}
    for group in groups:
        for feed in group:
            found.setdefault(feed.url, feed)
    return tuple(found.values())
