"""Digest -> EPUB 3 (ebooklib): reflowable text for e-readers, with a navigable contents.

One chapter per section (the feed tags of the email), a title page listing every story, and
"Coming up" at the end; the table of contents has the sections with their stories under
them, both as EPUB 3 nav and as EPUB 2 NCX (older Kindles and Kobos read only the NCX). The
chapters come from Jinja2 templates under templates/epub/, overridable like the email's.
No images are embedded: the book stays a few tens of KB, well under Send-to-Kindle's limits.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from datetime import UTC
from typing import Any

import jinja2
from ebooklib import epub

from digest.config import DigestSettings
from digest.errors import RenderError
from digest.models import Digest, EventSummary, Section
from digest.render import i18n
from digest.render.templates import render_template

# Ids derived from the digest and period: a re-built book is the same publication.
BOOK_NAMESPACE = uuid.UUID("6f0c7c1e-3a5e-4c1a-9a47-3d1c2f0b8e15")


def book_id(digest: Digest) -> str:
    """Return the book's stable identifier (urn:uuid) for this digest and period."""
    key = f"{digest.name}|{digest.period_end.astimezone(UTC).isoformat()}"
    return f"urn:uuid:{uuid.uuid5(BOOK_NAMESPACE, key)}"


def render_epub(
    digest: Digest, settings: DigestSettings, env: jinja2.Environment, language: str
) -> bytes:
    """Return the digest as EPUB 3 bytes, with chapters from the environment's templates."""
    strings: i18n.Strings = env.globals["t"]  # type: ignore[assignment]
    book = _book(digest, language)
    css = epub.EpubItem(
        uid="style", file_name="book.css", media_type="text/css", content=_css(settings)
    )
    book.add_item(css)
    events = digest.events
    files = _chapter_files(digest)
    href = _hrefs(events, files, digest)
    context: dict[str, Any] = {
        "digest": digest,
        "events": events,
        "href": href,
        "anchor": lambda e: href(e).partition("#")[2],
    }
    title = _chapter(book, css, "title.xhtml", digest.title, language)
    title.content = render_template(env, "epub/title.html.j2", context)
    toc: list[Any] = [epub.Link("title.xhtml", strings("contents"), "title")]
    spine: list[Any] = [title]  # the title page lists every story: the nav page would repeat it
    for section, name in zip(_sections(digest), files, strict=True):
        heading = section.title or strings("other_section")
        chapter = _chapter(book, css, name, heading, language)
        chapter.content = render_template(
            env, "epub/section.html.j2", {**context, "section": section, "section_title": heading}
        )
        links = [epub.Link(href(e), e.headline, href(e).replace("#", "-")) for e in section.events]
        toc.append((epub.Section(heading, name), links))
        spine.append(chapter)
    if digest.coming_up:
        chapter = _chapter(book, css, "coming-up.xhtml", strings("coming_up"), language)
        chapter.content = render_template(env, "epub/coming_up.html.j2", context)
        toc.append(epub.Link("coming-up.xhtml", strings("coming_up"), "coming-up"))
        spine.append(chapter)
    book.toc = toc
    book.spine = spine
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    return _write(book, digest)


def _book(digest: Digest, language: str) -> epub.EpubBook:
    book = epub.EpubBook()
    book.set_identifier(book_id(digest))
    local = i18n.to_zone(digest.period_end, digest.timezone)
    book.set_title(f"{digest.title} — {local:%Y-%m-%d}")
    book.set_language(language)
    book.add_author("digest")
    book.add_metadata("DC", "publisher", "digest")
    book.add_metadata("DC", "date", digest.generated_at.astimezone(UTC).strftime("%Y-%m-%d"))
    book.add_metadata("DC", "description", ", ".join(e.headline for e in digest.events[:5]))
    return book


def _sections(digest: Digest) -> list[Section]:
    return [s for s in digest.sections if s.events]


def _chapter_files(digest: Digest) -> list[str]:
    return [f"section-{i + 1}.xhtml" for i in range(len(_sections(digest)))]


def _hrefs(
    events: tuple[EventSummary, ...], files: list[str], digest: Digest
) -> Callable[[EventSummary], str]:
    """Return a function giving each event its 'section-N.xhtml#evM' link target."""
    targets: dict[int, str] = {}
    n = 0
    for section, name in zip(_sections(digest), files, strict=True):
        for event in section.events:
            n += 1
            targets[id(event)] = f"{name}#ev{n}"
    return lambda event: targets.get(id(event), "")


def _chapter(
    book: epub.EpubBook, css: epub.EpubItem, name: str, title: str, language: str
) -> epub.EpubHtml:
    chapter = epub.EpubHtml(title=title, file_name=name, lang=language)
    chapter.add_item(css)
    book.add_item(chapter)
    return chapter


def _css(settings: DigestSettings) -> bytes:
    for folder in i18n.template_dirs(settings.templates_dir):
        path = folder / "epub" / "book.css"
        if path.is_file():
            return path.read_bytes()
    return b""


def _write(book: epub.EpubBook, digest: Digest) -> bytes:
    out = io.BytesIO()
    options = {"mtime": digest.generated_at.astimezone(UTC), "raise_exceptions": True}
    try:
        epub.write_epub(out, book, options)
    except Exception as exc:  # ebooklib raises bare Exceptions and lxml errors alike
        raise RenderError("epub", f"{digest.name}: {type(exc).__name__}: {exc}") from exc
    return out.getvalue()
