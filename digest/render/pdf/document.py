"""Digest -> PDF bytes with ReportLab Platypus: a newspaper-style digest in one layout pass.

Page numbers in the contents and the "of y" in "page x of y" are PDF form XObjects that are
drawn where they belong but filled in when the canvas is saved, once every page is known.
That keeps the build to a single pass (a multiBuild table of contents lays out everything at
least twice), which is what keeps 3,000-event digests close to raw ReportLab speed.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC
from typing import Any

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    FrameBreak,
    NextPageTemplate,
    PageTemplate,
    Paragraph,
)
from reportlab.platypus.doctemplate import LayoutError

from digest.config import DigestSettings
from digest.errors import RenderError
from digest.models import Digest
from digest.render import i18n
from digest.render.pdf.bidi import has_rtl, visual_text
from digest.render.pdf.panels import coming_up, feed_health, lead_image
from digest.render.pdf.story import (
    FetchImage,
    StoryParts,
    contents,
    esc,
    event_block,
    masthead,
    page_form,
    plain,
    section_head,
)
from digest.render.pdf.styles import Styles, load_style, make_styles

PAGE_SIZES = {"A4": A4, "Letter": LETTER}
TOTAL_FORM = "pg_total"


class _DigestDoc(BaseDocTemplate):  # type: ignore[misc]
    """The document: front page with masthead, body pages in 1 or 2 columns, header/footer."""

    def __init__(
        self,
        buffer: io.BytesIO,
        digest: Digest,
        t: i18n.Strings,
        style: Styles,
        *,
        columns: int,
        masthead_height: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(buffer, **kwargs)
        self.digest, self.t, self.style = digest, t, style
        self.anchor_pages: dict[str, int] = {}
        self._dates: dict[str, str] = {}
        self.toc_keys: list[str] = []
        m = self._margins()
        full_h = self.height
        body_h = full_h - masthead_height
        front = [
            Frame(
                m["left"],
                m["bottom"] + body_h,
                self.width,
                masthead_height,
                id="masthead",
                leftPadding=0,
                rightPadding=0,
                topPadding=0,
                bottomPadding=0,
            )
        ]
        front += self._columns(columns, m, body_h, "front")
        body = self._columns(columns, m, full_h, "body")
        self.addPageTemplates(
            [
                PageTemplate("front", frames=front, onPage=self._decorate),
                PageTemplate("body", frames=body, onPage=self._decorate),
            ]
        )

    def _margins(self) -> dict[str, float]:
        return {k: self.style.page(f"margin_{k}") for k in ("left", "bottom")}

    def _columns(self, n: int, m: dict[str, float], height: float, name: str) -> list[Frame]:
        gap = self.style.page("column_gap")
        width = (self.width - gap * (n - 1)) / n
        return [
            Frame(
                m["left"] + i * (width + gap),
                m["bottom"],
                width,
                height,
                id=f"{name}{i}",
                leftPadding=0,
                rightPadding=0,
                topPadding=0,
                bottomPadding=0,
            )
            for i in range(n)
        ]

    def record_anchor(self, key: str) -> None:
        """Remember the page an anchor (event or section) was drawn on."""
        self.anchor_pages.setdefault(key, self.page)

    def _decorate(self, canv: Canvas, doc: Any) -> None:
        """Draw the running header (from page 2) and the footer with 'page x of y'."""
        s, w, h = self.style, self.pagesize[0], self.pagesize[1]
        left, right = self.leftMargin, w - self.rightMargin
        muted, rule = s.color("muted"), s.color("rule")
        canv.saveState()
        canv.setFillColor(muted)
        canv.setStrokeColor(rule)
        canv.setLineWidth(0.4)
        if self.page > 1:
            y = h - self.topMargin + s.page("header_gap")
            title = plain(self.digest.title, 80)
            # DejaVu Serif has no Hebrew or Arabic: such a title is set in DejaVu Sans.
            face = s.fonts["sans"] + "-Oblique" if has_rtl(title) else s.fonts["serif"] + "-Italic"
            canv.setFont(face, 8)
            canv.drawString(left, y + 4, visual_text(title))
            canv.setFont(s.fonts["sans"], 7.5)
            canv.drawRightString(right, y + 4, self._date("long"))
            canv.line(left, y, right, y)
        y = self.bottomMargin - 24
        canv.line(left, y + 10, right, y + 10)
        canv.setFont(s.fonts["sans"], 7.5)
        label = self.t("page_of", page=self.page, total="\x00").split("\x00")
        canv.drawString(left, y, label[0])
        canv.saveState()
        canv.translate(left + canv.stringWidth(label[0], s.fonts["sans"], 7.5), y)
        canv.doForm(TOTAL_FORM)
        canv.restoreState()
        footer = visual_text(f"{plain(self.digest.title, 60)} · {self._date('medium')}")
        canv.drawRightString(right, y, footer)
        canv.restoreState()

    def _date(self, style: str) -> str:
        # Formatted once per document, not once per page.
        if style not in self._dates:
            d = self.digest
            self._dates[style] = i18n.format_date(d.issue_date, self.t.language, d.timezone, style)
        return self._dates[style]

    def fill_forms(self, canv: Canvas) -> None:
        """Define the page-number forms now that every page is laid out."""
        s = self.style
        total_suffix = self.t("page_of", page=0, total="\x00").split("\x00")[-1]
        self._form(
            canv, TOTAL_FORM, f"{self.page}{total_suffix}", s.fonts["sans"], 7.5, right=False
        )
        for key in self.toc_keys:
            page = self.anchor_pages.get(key)
            self._form(
                canv,
                page_form(key),
                str(page) if page else "–",
                s.toc_entry.fontName,
                s.toc_entry.fontSize,
                right=True,
            )

    def _form(
        self, canv: Canvas, name: str, text: str, font: str, size: float, *, right: bool
    ) -> None:
        width = canv.stringWidth(text, font, size) + 2
        canv.beginForm(
            name,
            lowerx=-width if right else 0,
            lowery=-3,
            upperx=0 if right else width,
            uppery=size + 2,
        )
        canv.setFont(font, size)
        canv.setFillColor(self.style.color("ink" if right else "muted"))
        (canv.drawRightString if right else canv.drawString)(0, 0, text)
        canv.endForm()


def _canvas_maker(doc: _DigestDoc, when: str) -> Callable[..., Canvas]:
    """Return a canvas factory whose save() first fills the page-number forms."""

    class _Canvas(Canvas):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # Dates come from the digest, not the clock, so the same digest gives the same PDF.
            self.setDateFormatter(lambda *_: when)

        def save(self) -> None:
            doc.fill_forms(self)
            super().save()

    return _Canvas


def render_pdf(
    digest: Digest,
    settings: DigestSettings,
    *,
    language: str,
    fetch_image: FetchImage | None = None,
    images: bool = True,
) -> bytes:
    """Return the digest as PDF bytes (A4 or Letter, 1 or 2 columns, fonts embedded)."""
    dirs = tuple(reversed(i18n.template_dirs(settings.templates_dir)))
    columns = max(1, min(2, settings.columns))
    style = make_styles(load_style(dirs, columns), language)
    t = i18n.load_strings(language, dirs)
    pagesize = PAGE_SIZES.get(settings.page_size, A4)
    width = pagesize[0] - style.page("margin_left") - style.page("margin_right")
    head = masthead(digest, t, style, width)
    buffer = io.BytesIO()
    doc = _DigestDoc(
        buffer,
        digest,
        t,
        style,
        columns=columns,
        masthead_height=_height(head, width),
        pagesize=pagesize,
        **_document_info(digest, style, language),
    )
    story = _story(digest, doc, head, fetch_image if images else None)
    when = digest.generated_at.astimezone(UTC).strftime("D:%Y%m%d%H%M%S+00'00'")
    try:
        doc.build(story, canvasmaker=_canvas_maker(doc, when))
    except LayoutError as exc:
        raise RenderError("pdf", f"{digest.name}: layout failed: {exc}") from exc
    return buffer.getvalue()


def _document_info(digest: Digest, style: Styles, language: str) -> dict[str, Any]:
    """Return the document's metadata, margins and fixed options as BaseDocTemplate kwargs."""
    day = i18n.format_date(digest.issue_date, language, digest.timezone, "long")
    names = dict.fromkeys(
        n for e in digest.events[:5] for n in (*e.facts.people[:1], *e.facts.places[:1])
    )
    return {
        "title": plain(digest.title),
        "author": f"digest: {digest.name}",
        "subject": f"{plain(digest.title)}, {day}",
        "keywords": [plain(n, 60) for n in names],
        "creator": "digest",
        "lang": language,
        "displayDocTitle": True,
        # invariant: a fixed document ID, so the same digest always gives the same bytes.
        "invariant": True,
        "initialFontName": style.fonts["sans"],
        "leftMargin": style.page("margin_left"),
        "rightMargin": style.page("margin_right"),
        "topMargin": style.page("margin_top"),
        "bottomMargin": style.page("margin_bottom"),
    }


def _height(flowables: list[Flowable], width: float) -> float:
    total = 6.0
    for f in flowables:
        total += f.wrap(width, 10_000)[1] + f.getSpaceBefore() + f.getSpaceAfter()
    return total


def _story(
    digest: Digest, doc: _DigestDoc, head: list[Flowable], fetch_image: FetchImage | None
) -> list[Flowable]:
    t, style = doc.t, doc.style
    parts = StoryParts()
    story: list[Flowable] = [*head, NextPageTemplate("body"), FrameBreak()]
    story += contents(digest, t, style, parts)
    doc.toc_keys = parts.toc_keys
    column = doc.pageTemplates[1].frames[0].width
    n = 0
    for s_i, section in enumerate(s for s in digest.sections if s.events):
        heading = section_head(section.title, f"sec{s_i + 1}", style)
        for i, event in enumerate(section.events):
            n += 1
            image = lead_image(event.image_url, fetch_image, style, column)
            story += event_block(
                event,
                f"ev{n}",
                lead=n == 1,
                last=i == len(section.events) - 1,
                t=t,
                style=style,
                digest=digest,
                image=image,
                on_anchor=doc.record_anchor,
                heading=heading if i == 0 else [],
            )
    if n == 0:
        story.append(Paragraph(esc(t("no_events")), style.body))
    story += coming_up(digest, t, style)
    story += feed_health(digest, t, style)
    return story
