"""The archive site: every digest and period as static files any web server can serve.

Layout under the site folder (default DATA_DIR/site), relative links only:

    index.html                    every digest, its periods newest first
    <digest>/feed.atom            one Atom entry per period (render/atom.py)
    <digest>/calendar.ics         "Coming up" of every period, items ahead only, each once
    <digest>/<period>.html        the digest's page (the email's HTML plus a small nav bar)
    <digest>/<period>.pdf|.epub   beside it, when the digest was rendered in those formats
    <digest>/<period>.ics         its "Coming up" as a calendar
    <digest>/<period>.json        what the index and the feed need to know of the period

Publishing one period writes that period's files (the same names on a re-run, so the result
is idempotent), removes this digest's periods older than `keep`, then rewrites the index and
the feed from the .json files: no database is read, and the other periods are not touched.
"""

from __future__ import annotations

import html as html_lib
import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2

from digest.config import DigestSettings
from digest.deliver import period_time
from digest.errors import RenderError
from digest.files import write_atomic, write_together
from digest.models import Digest, Rendered
from digest.render import i18n
from digest.render.atom import render_atom
from digest.render.calendar import merge_calendars
from digest.render.templates import make_environment

CONTENT_START = "<!-- digest:content -->"
CONTENT_END = "<!-- /digest:content -->"
EXTENSIONS = (".html", ".pdf", ".epub", ".ics", ".json")
_BODY = re.compile(r"(<body[^>]*>)(.*)(</body>)", re.S | re.I)
_PREHEADER = re.compile(r'<div class="preheader"[^>]*>.*?</div>', re.S)


@dataclass(frozen=True, slots=True)
class SitePeriod:
    """What the archive knows of one published period (kept as <period>.json)."""

    digest: str
    title: str
    language: str
    timezone: str
    period_key: str
    stem: str
    period_start: str
    period_end: str
    generated_at: str
    events: int
    headlines: tuple[str, ...]
    files: tuple[str, ...]

    @property
    def end(self) -> datetime:
        """Return the period's end as an aware datetime."""
        return datetime.fromisoformat(self.period_end)

    @property
    def issued(self) -> datetime:
        """Return the scheduled time that names the period (07:00), not when it was built."""
        try:
            return period_time(self.period_key)
        except ValueError:  # not a scheduled period's key: the period's end names it
            return self.end


def page_stem(period_key: str) -> str:
    """Return a period's file stem: '2026-11-25T07:00+0100' -> '2026-11-25-0700'."""
    return re.sub(r"[^0-9-]", "", period_key[:10]) + "-" + re.sub(r"\D", "", period_key[11:16])


def publish_site(
    site_dir: Path,
    digest: Digest,
    rendered: Rendered,
    settings: DigestSettings,
    *,
    period_key: str,
    keep: timedelta,
    now: datetime,
) -> list[Path]:
    """Write one period's pages into the archive, prune old ones; return the files written."""
    try:
        folder = site_dir / digest.name
        folder.mkdir(parents=True, exist_ok=True)
        stem = page_stem(period_key)
        strings = i18n.load_strings(
            digest.language, reversed(i18n.template_dirs(settings.templates_dir))
        )
        nav = _nav(stem, rendered, strings)
        page = _page(rendered.html, nav, (strings("pdf_attached"), strings("unsubscribe")))
        written = _write_period(folder, stem, digest, rendered, period_key, page)
        _prune(folder, now - keep)
        periods = load_periods(site_dir)
        mine = [p for p in periods if p.digest == digest.name]
        feed = render_atom(mine, lambda p: page_content(folder / f"{p.stem}.html"))
        written.append(_write(folder / "feed.atom", feed))
        written.append(_write(folder / "calendar.ics", _calendar(folder, mine, digest, strings)))
        index = _render_index(periods, settings)
        written.append(_write(site_dir / "index.html", index.encode("utf-8")))
    except OSError as exc:
        raise RenderError("site", f"{site_dir}: {exc}") from exc
    return written


def _write_period(
    folder: Path, stem: str, digest: Digest, rendered: Rendered, period_key: str, page: str
) -> list[Path]:
    files: dict[str, bytes] = {}
    if rendered.pdf is not None:
        files[".pdf"] = rendered.pdf
    if rendered.epub is not None:
        files[".epub"] = rendered.epub
    if rendered.ics is not None:
        files[".ics"] = rendered.ics
    period = SitePeriod(
        digest=digest.name,
        title=digest.title,
        language=digest.language,
        timezone=digest.timezone,
        period_key=period_key,
        stem=stem,
        period_start=digest.period_start.isoformat(),
        period_end=digest.period_end.isoformat(),
        generated_at=digest.generated_at.isoformat(),
        events=len(digest.events),
        headlines=tuple(e.headline for e in digest.events[:3]),
        files=(".html", *files),
    )
    files[".json"] = json.dumps(asdict(period), ensure_ascii=False, indent=1).encode("utf-8")
    files[".html"] = page.encode("utf-8")  # moved in last: it links to the others
    written = write_together(folder, [(f"{stem}{ext}", data) for ext, data in files.items()])
    for ext in EXTENSIONS:  # a format dropped since the last build leaves no stale file
        if ext not in files:
            (folder / f"{stem}{ext}").unlink(missing_ok=True)
    return written


def _nav(stem: str, rendered: Rendered, t: i18n.Strings) -> str:
    """Return the archive page's nav bar: back to the index, the period's files, the feed."""
    links = [f'<a href="../index.html">&larr; {html_lib.escape(t("archive"))}</a>']
    for ext, label, data in ((".pdf", "PDF", rendered.pdf), (".epub", "EPUB", rendered.epub)):
        if data is not None:
            links.append(f'<a href="{stem}{ext}">{label}</a>')
    if rendered.ics is not None:
        links.append(f'<a href="{stem}.ics">{html_lib.escape(t("calendar"))}</a>')
    links.append('<a href="feed.atom">Atom</a>')
    links.append(f'<a href="calendar.ics">{html_lib.escape(t("calendar_all"))}</a>')
    return (
        '<nav class="site-nav" style="font:14px/1.5 sans-serif;text-align:center;padding:10px;'
        'background:#1a1a1a;">'
        + " &middot; ".join(link.replace("<a ", '<a style="color:#fff;" ') for link in links)
        + "</nav>"
    )


def _page(html: str, nav: str, subscriber_lines: tuple[str, ...]) -> str:
    """Return the email's HTML as an archive page: the nav bar on top, the content marked.

    The email's footer lines meant for a subscriber are dropped (found by their words): "the
    PDF is attached" (on the page the PDF is a link) and "you receive this digest because
    you subscribed", with its unsubscribe link (the public reader subscribed to nothing).
    """
    for line in subscriber_lines:
        text = re.escape(html_lib.escape(line, quote=True).replace("&#x27;", "&#39;"))
        html = re.sub(rf'<p class="footer-line"[^>]*>{text}.*?</p>', "", html, flags=re.S)
    match = _BODY.search(html)
    if match is None:
        return nav + CONTENT_START + html + CONTENT_END
    body = f"{match.group(1)}\n{nav}\n{CONTENT_START}{match.group(2)}{CONTENT_END}{match.group(3)}"
    return html[: match.start()] + body + html[match.end() :]


def page_content(path: Path) -> str:
    """Return the digest's own HTML from an archive page (no nav bar, no hidden preheader)."""
    html = path.read_text(encoding="utf-8")
    start, end = html.find(CONTENT_START), html.find(CONTENT_END)
    if start < 0 or end < 0:
        return html
    return _PREHEADER.sub("", html[start + len(CONTENT_START) : end])


def load_periods(site_dir: Path) -> list[SitePeriod]:
    """Return every published period of every digest in the site, newest first."""
    found: list[SitePeriod] = []
    for path in site_dir.glob("*/*.json"):
        try:
            raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            raw["headlines"] = tuple(raw.get("headlines", ()))
            raw["files"] = tuple(raw.get("files", ()))
            found.append(SitePeriod(**raw))
        except (ValueError, TypeError):
            continue  # not ours, or written by another version: the page stays, unlisted
    return sorted(found, key=lambda p: p.end, reverse=True)


def _calendar(folder: Path, periods: list[SitePeriod], digest: Digest, t: i18n.Strings) -> bytes:
    """Return the digest's subscribable calendar: every period's items still ahead, once."""
    datas = [
        (folder / f"{p.stem}.ics").read_bytes()
        for p in periods
        if ".ics" in p.files and (folder / f"{p.stem}.ics").is_file()
    ]
    today = i18n.to_zone(digest.generated_at, digest.timezone).date()
    return merge_calendars(datas, title=f"{digest.title}: {t('coming_up')}", since=today)


def _prune(folder: Path, cutoff: datetime) -> None:
    """Remove the folder's periods that ended before cutoff, all their files with them."""
    for path in folder.glob("*.json"):
        try:
            end = datetime.fromisoformat(json.loads(path.read_text(encoding="utf-8"))["period_end"])
        except (ValueError, KeyError, TypeError):
            continue
        if end < cutoff:
            for ext in EXTENSIONS:
                path.with_suffix(ext).unlink(missing_ok=True)


def _render_index(periods: list[SitePeriod], settings: DigestSettings) -> str:
    env = make_environment(settings, settings.language)
    digests: dict[str, list[SitePeriod]] = {}
    for p in periods:
        digests.setdefault(p.digest, []).append(p)
    packaged = tuple(reversed(i18n.template_dirs(None)))
    context = {
        "digests": digests,
        "strings_for": lambda language: i18n.load_strings(language, packaged),
        "when": lambda p: i18n.format_datetime(
            p.issued, p.language, p.timezone, "EEE d MMM y, HH:mm"
        ),
    }
    try:
        return env.get_template("site/index.html.j2").render(context)
    except jinja2.TemplateError as exc:
        raise RenderError("site/index.html.j2", str(exc)) from exc


def _write(path: Path, data: bytes) -> Path:
    return write_atomic(path, data)
