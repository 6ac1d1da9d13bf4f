"""The archive site: index newest first, pages with their files, Atom feed, retention, serving.

Screenshots of the index and of a digest page go to out/visual/ for people to look at.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import feedparser
import httpx
import icalendar
import pytest
from factories import NOW, hostile_digest, make_digest
from PIL import Image

from digest.config.settings import DigestSettings
from digest.models import DatedItem, Digest
from digest.render.atom import entry_id
from digest.render.outputs import render_digest
from digest.render.previews import find_chromium, screenshot_html
from digest.render.site import load_periods, page_stem, publish_site
from digest.service import start_site_server

OUT = Path(__file__).resolve().parents[2] / "out" / "visual"
KEEP = timedelta(days=90)
HREF = re.compile(r'(?:href|src)="([^"]*)"')


def period(language: str, days_ago: int) -> Digest:
    digest = make_digest(language)
    end = NOW - timedelta(days=days_ago)
    return replace(digest, period_start=end - timedelta(hours=24), period_end=end, generated_at=end)


def key_of(digest: Digest) -> str:
    return f"{digest.period_end:%Y-%m-%dT%H:%M}+0000"


def publish(
    site: Path, digest: Digest, formats: tuple[str, ...] = ("html", "epub"), keep: timedelta = KEEP
) -> list[Path]:
    settings = DigestSettings(
        name=digest.name,
        title=digest.title,
        feeds=(),
        language=digest.language,
        timezone=digest.timezone,
        formats=formats,
    )
    rendered = render_digest(digest, settings)
    return publish_site(
        site,
        digest,
        rendered,
        settings,
        period_key=key_of(digest),
        keep=keep,
        now=digest.period_end,
    )


def relative_links(html: str) -> list[str]:
    return [h for h in HREF.findall(html) if not h.startswith(("https://", "http://", "#"))]


def test_index_lists_every_period_newest_first_with_relative_links_that_resolve(
    tmp_path: Path,
) -> None:
    site = tmp_path / "site"
    publish(site, period("en", 2), formats=("html", "pdf", "epub"))
    publish(site, period("en", 0))
    publish(site, period("en", 1))
    index = (site / "index.html").read_text(encoding="utf-8")
    pages = re.findall(r'class="main" href="([^"]+)"', index)
    assert pages == [f"morning/{page_stem(key_of(period('en', d)))}.html" for d in (0, 1, 2)]
    links = relative_links(index)
    assert links and all(not h.startswith("/") and "://" not in h for h in links)
    for href in links:
        assert (site / href).is_file(), href
    oldest = page_stem(key_of(period("en", 2)))
    assert f"morning/{oldest}.pdf" in links and f"morning/{oldest}.epub" in links
    assert f"morning/{page_stem(key_of(period('en', 0)))}.pdf" not in links  # no PDF made
    page = (site / "morning" / f"{oldest}.html").read_text(encoding="utf-8")
    nav = page[page.index('<nav class="site-nav"') : page.index("</nav>")]
    for href in relative_links(nav):
        assert (site / "morning" / href).resolve().is_file(), href
    assert make_digest("en").events[0].headline in page
    # The email says the PDF is attached; the page links it instead. Nobody subscribed to
    # a public page: the subscriber's footer line is not on it.
    assert "attached as a PDF" not in page and "subscribed to it" not in page


def test_atom_feed_has_one_valid_entry_per_period_with_stable_ids(tmp_path: Path) -> None:
    site = tmp_path / "site"
    digests = [period("en", d) for d in (3, 2, 1)]
    for digest in digests:
        publish(site, digest)
    publish(site, digests[1])  # the same period again: updated in place, not added
    feed = feedparser.parse((site / "morning" / "feed.atom").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert len(feed.entries) == 3
    newest_first = list(reversed(digests))
    assert [e.id for e in feed.entries] == [entry_id("morning", key_of(d)) for d in newest_first]
    for entry, digest in zip(feed.entries, newest_first, strict=True):
        assert entry.id.startswith("urn:uuid:")
        assert datetime.fromisoformat(entry.updated) == digest.generated_at
        assert datetime.fromisoformat(entry.published) == digest.period_end
        stem = page_stem(key_of(digest))
        assert {link.href for link in entry.links} >= {f"{stem}.html", f"{stem}.epub"}
        content = entry.content[0].value
        assert digest.events[0].headline in content and "site-nav" not in content
    assert datetime.fromisoformat(feed.feed.updated) == digests[-1].generated_at


def test_rebuilding_a_period_is_idempotent(tmp_path: Path) -> None:
    site = tmp_path / "site"
    publish(site, period("en", 1))
    publish(site, period("en", 0), formats=("html", "pdf", "epub"))
    before = {p: p.read_bytes() for p in site.rglob("*") if p.suffix in (".html", ".json", ".ics")}
    publish(site, period("en", 0), formats=("html", "epub"))  # the PDF left out this time
    after = {p: p.read_bytes() for p in site.rglob("*") if p.suffix in (".html", ".json", ".ics")}
    stem = page_stem(key_of(period("en", 0)))
    assert not (site / "morning" / f"{stem}.pdf").exists()  # no stale file
    assert set(after) == set(before)
    assert (
        after[site / "morning" / f"{page_stem(key_of(period('en', 1)))}.html"]
        == before[site / "morning" / f"{page_stem(key_of(period('en', 1)))}.html"]
    )
    assert len(load_periods(site)) == 2


def test_retention_removes_old_periods_of_that_digest_only(tmp_path: Path) -> None:
    site = tmp_path / "site"
    other = replace(period("ru", 30), name="svodka")
    publish(site, other, keep=timedelta(days=8))
    old = period("en", 20)
    publish(site, old, formats=("html", "pdf", "epub"), keep=timedelta(days=8))
    publish(site, period("en", 0), keep=timedelta(days=8))
    stem = page_stem(key_of(old))
    assert not list((site / "morning").glob(f"{stem}.*"))  # page, PDF, EPUB, .ics, .json
    assert [p.digest for p in load_periods(site)] == ["morning", "svodka"]
    feed = feedparser.parse((site / "morning" / "feed.atom").read_bytes())
    assert len(feed.entries) == 1
    assert stem not in (site / "index.html").read_text(encoding="utf-8")


def test_the_site_server_serves_files_but_no_listings(tmp_path: Path) -> None:
    site = tmp_path / "site"
    publish(site, period("en", 0))
    (tmp_path / "secret.txt").write_text("no", encoding="utf-8")
    server = start_site_server(site, "127.0.0.1", 0)
    try:
        base = f"http://127.0.0.1:{server.port}"
        with httpx.Client(base_url=base, timeout=10) as client:
            index = client.get("/")
            assert index.status_code == 200 and "text/html" in index.headers["content-type"]
            feed = client.get("/morning/feed.atom")
            assert feed.headers["content-type"] == "application/atom+xml"
            stem = page_stem(key_of(period("en", 0)))
            assert client.get(f"/morning/{stem}.epub").headers["content-type"] == (
                "application/epub+zip"
            )
            assert (
                client.get(f"/morning/{stem}.ics")
                .headers["content-type"]
                .startswith("text/calendar")
            )
            assert client.get("/morning/").status_code == 404  # no file listing
            assert client.get("/../secret.txt").status_code == 404
            assert client.get("/%2e%2e/secret.txt").status_code == 404
    finally:
        server.close()


needs_chromium = pytest.mark.skipif(
    find_chromium() is None, reason="chromium not installed (Debian package chromium)"
)


def ink_rows(png: Path) -> list[int]:
    """Return the pixel rows (every 4th) holding text: something much darker than the page."""
    with Image.open(png) as img:
        grey = img.convert("L")
        width, height = grey.size
        pixels = grey.load()
        assert pixels is not None
        return [
            y for y in range(0, height, 4) if any(pixels[x, y] < 120 for x in range(0, width, 4))
        ]


@needs_chromium
def test_index_and_page_screenshots(tmp_path: Path) -> None:
    site = tmp_path / "site"
    publish(site, period("en", 1), formats=("html", "pdf", "epub"))
    publish(site, period("en", 0))
    publish(site, replace(period("ru", 0), name="svodka"))
    index_png = screenshot_html(site / "index.html", tmp_path / "index.png", width=900, height=1400)
    stem = page_stem(key_of(period("en", 1)))
    page_png = screenshot_html(
        site / "morning" / f"{stem}.html", tmp_path / "page.png", width=900, height=1400
    )
    OUT.mkdir(parents=True, exist_ok=True)
    for png in (index_png, page_png):
        shutil.copy(png, OUT / f"site-{png.name}")
        with Image.open(png) as img:
            assert img.size == (900, 1400)
    # Three periods in two digests: text from the title down past the third card, then
    # the empty page below; the digest's page is text from top to bottom.
    rows = ink_rows(index_png)
    assert rows[0] < 60 and 650 < rows[-1] < 800 and len(rows) > 60
    rows = ink_rows(page_png)
    assert rows[0] < 30 and rows[-1] > 1300 and len(rows) > 120
    with Image.open(page_png) as img:
        nav_bar = img.convert("L").crop((0, 0, 900, 30))
        assert sum(nav_bar.histogram()[:60]) > 0.8 * 900 * 30  # the dark nav bar on top


def test_the_subscribable_calendar_holds_each_item_ahead_once(tmp_path: Path) -> None:
    site = tmp_path / "site"
    older, newer = period("en", 2), period("en", 0)
    past = DatedItem(NOW.date() - timedelta(days=1), "Yesterday's vote.", "x", "Wire", "")
    publish(site, replace(older, coming_up=(past, *older.coming_up)))
    publish(site, newer)
    merged = icalendar.Calendar.from_ical((site / "morning" / "calendar.ics").read_bytes())
    uids = [str(e["uid"]) for e in merged.walk("VEVENT")]
    stem = page_stem(key_of(newer))
    latest = icalendar.Calendar.from_ical((site / "morning" / f"{stem}.ics").read_bytes())
    assert len(uids) == len(set(uids)) == len(newer.coming_up) > 0
    assert set(uids) == {str(e["uid"]) for e in latest.walk("VEVENT")}  # the past one dropped


def test_hostile_titles_stay_text_in_the_index_and_the_feed(tmp_path: Path) -> None:
    site = tmp_path / "site"
    hostile = replace(hostile_digest(), period_end=NOW, generated_at=NOW)
    publish(site, hostile)
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "<script" not in index.lower() and "Digest &lt;&amp;&gt; ]]&gt;" in index
    feed = feedparser.parse((site / "morning" / "feed.atom").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title == "Digest <&> ]]>" and len(feed.entries) == 1
