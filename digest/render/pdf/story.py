"""Flowables for the PDF: masthead, contents, section heads and events.

Every piece of feed text goes through `esc()` before it reaches Paragraph markup, and every
link through `href()`; nothing a feed sends can open a tag, close a CDATA or run a script.
Text with Hebrew or Arabic letters is shaped in `esc()` and drawn line by line in display
order by `BidiParagraph` (see digest/render/pdf/bidi.py); `para()` uses it only where it is needed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from reportlab.lib.fonts import ps2tt, tt2ps
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    HRFlowable,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from digest.models import DatedItem, Digest, EventSummary
from digest.render import i18n
from digest.render.pdf.bidi import base_level, has_rtl, shape, visual_line
from digest.render.pdf.styles import Styles

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
# Hebrew, Arabic, Syriac, Thaana and their presentation forms: DejaVu Serif lacks them.
_RTL = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]+")
RTL_FONT = "DejaVuSans"  # has Hebrew and Arabic (pdf_styles registers it with its faces)
_SAFE_SCHEMES = ("http://", "https://", "mailto:")
MAX_DATES = 3  # more dated items per event turn the facts into a wall of text
FetchImage = Callable[[str], bytes | None]


def esc(text: str) -> str:
    """Return feed text escaped for ReportLab Paragraph markup, RTL runs set in DejaVu Sans.

    Arabic runs are shaped (letters joined) here, before Paragraph measures them; their
    display order is set line by line when drawn (`BidiParagraph`, `para()`).
    """
    text = escape(" ".join(_CONTROL.sub("", text).split()))
    return _RTL.sub(lambda m: f'<font name="{RTL_FONT}">{shape(m.group(0))}</font>', text)


def para(text: str, style: ParagraphStyle) -> Paragraph:
    """Return a Paragraph for markup text: a BidiParagraph only when it holds RTL letters."""
    return BidiParagraph(text, style) if has_rtl(text) else Paragraph(text, style)


def href(url: str) -> str | None:
    """Return a quoted href attribute value for http(s)/mailto URLs, None for anything else."""
    url = _CONTROL.sub("", url or "").strip()
    return quoteattr(url) if url.lower().startswith(_SAFE_SCHEMES) else None


def plain(text: str, limit: int = 120) -> str:
    """Return text as one clean line of at most limit characters (for outline entries)."""
    line = " ".join(_CONTROL.sub("", text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class BidiParagraph(Paragraph):  # type: ignore[misc]
    """A Paragraph whose right-to-left runs are drawn in display order, line by line.

    Lines are broken in logical order as usual; each line is reordered only while it is
    drawn (on a copy), so splitting across columns and re-wrapping never see visual text.
    `rtl` is set from the markup once, so paragraphs without RTL letters draw as usual.
    """

    rtl = False
    frags: list[Any]  # Paragraph's parsed style runs

    def __init__(self, text: str | None, style: ParagraphStyle, *args: Any, **kwargs: Any) -> None:
        super().__init__(text, style, *args, **kwargs)
        if text is not None:
            self.rtl = has_rtl(text)
        if self.rtl:
            # esc()'s <font name="DejaVuSans"> resets weight: in a bold or italic style (a
            # headline) its runs take the matching DejaVu Sans face, as the text around them.
            _, bold, italic = ps2tt(style.fontName)
            if bold or italic:
                face = tt2ps(RTL_FONT.lower(), bold, italic)
                self.frags = [
                    f.clone(fontName=face, bold=bold, italic=italic)
                    if getattr(f, "fontName", None) == RTL_FONT
                    else f
                    for f in self.frags
                ]

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        parts: list[Flowable] = super().split(availWidth, availHeight)
        for part in parts:
            if isinstance(part, BidiParagraph):
                part.rtl = self.rtl
        return parts

    def drawPara(self, debug: int = 0) -> None:
        logical = getattr(self, "blPara", None)
        if not self.rtl or logical is None:
            super().drawPara(debug)
            return
        self.blPara = _visual_lines(logical)
        try:
            super().drawPara(debug)
        finally:
            self.blPara = logical


def _visual_lines(bl: Any) -> Any:
    """Return a copy of Paragraph's broken lines with each line in display order."""
    if bl.kind == 0:  # one style: lines are (extra space, [words])
        base = base_level(" ".join(w for _, words in bl.lines for w in words))
        lines = [
            (extra, "".join(visual_line([" ".join(words)], str, _text, base)).split(" "))
            if words
            else (extra, words)
            for extra, words in bl.lines
        ]
    else:  # styled runs: FragLine objects whose words are fragments with .text
        base = base_level("".join(f.text for line in bl.lines for f in line.words))
        lines = [
            line.clone(words=visual_line(line.words, _frag_text, _with_text, base))
            for line in bl.lines
        ]
    return bl.clone(lines=lines)


def _text(_: str, text: str) -> str:
    return text


def _frag_text(frag: Any) -> str:
    return str(getattr(frag, "text", ""))


def _with_text(frag: Any, text: str) -> Any:
    return frag.clone(text=text)


class Anchored(BidiParagraph):
    """A Paragraph that, when drawn, becomes a link target, an outline entry and a page."""

    anchor: tuple[str, str, int] | None = None
    on_anchor: Callable[[str], None] | None = None

    def draw(self) -> None:
        if self.anchor is not None:
            key, title, level = self.anchor
            self.canv.bookmarkHorizontal(key, 0, self.height + 4)
            self.canv.addOutlineEntry(title, key, level=level, closed=level > 0)
            if self.on_anchor is not None:
                self.on_anchor(key)
        super().draw()

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        parts: list[Flowable] = super().split(availWidth, availHeight)
        for i, part in enumerate(parts):
            if isinstance(part, Anchored):
                part.anchor = self.anchor if i == 0 else None
                part.on_anchor = self.on_anchor
        return parts


class TocEntry(Flowable):  # type: ignore[misc]
    """A contents line: page number (a form filled in at save), then the linked headline."""

    NUMBER_WIDTH = 20.0

    def __init__(self, text: str, key: str, style: Styles) -> None:
        super().__init__()
        self.para = para(text, style.toc_entry)
        self.key = key

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        _, self.height = self.para.wrap(availWidth - self.NUMBER_WIDTH - 6, availHeight)
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        return []

    def draw(self) -> None:
        self.para.drawOn(self.canv, self.NUMBER_WIDTH + 6, 0)
        self.canv.saveState()
        self.canv.translate(self.NUMBER_WIDTH, self.height - self.para.style.fontSize)
        self.canv.doForm(page_form(self.key))
        self.canv.restoreState()
        self.canv.linkRect("", self.key, (0, 0, self.width, self.height), relative=1)


class RoomFor(CondPageBreak):  # type: ignore[misc]
    """A column break unless the given flowables, as wide as the column, and `extra` points
    more fit: a story's opening (headline, sources line, a first lines of its summary) never
    ends a column, and a column ends no earlier than that opening needs.

    The flowables are measured where they will be set, not estimated: an estimate for a
    two-line headline left a sixth of a page blank under a one-line one.
    """

    def __init__(self, flowables: list[Flowable], extra: float) -> None:
        super().__init__(0)
        self.flowables, self.extra = flowables, extra

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        needed = self.extra
        for f in self.flowables:
            needed += f.wrap(availWidth, availHeight)[1] + f.getSpaceBefore() + f.getSpaceAfter()
        self.height = needed
        result: tuple[float, float] = super().wrap(availWidth, availHeight)
        return result

    def __repr__(self) -> str:
        return f"RoomFor({len(self.flowables)} flowables, {self.extra})"


class WithFacts(Flowable):  # type: ignore[misc]
    """A story's summary and its facts (people, dates, sources) below it, set as one.

    It splits only inside the summary, so the facts never open a column without at least
    the summary's last lines above them: a "Sources …" line alone at the top of a page reads
    as nobody's. A summary too short to split goes to the next column with its facts.
    """

    def __init__(self, body: Paragraph, facts: Paragraph) -> None:
        super().__init__()
        self.body, self.facts = body, facts

    def _gap(self) -> float:
        return float(self.body.getSpaceAfter() + self.facts.getSpaceBefore())

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        _, body = self.body.wrap(availWidth, availHeight)
        _, facts = self.facts.wrap(availWidth, availHeight)
        self.width, self.height = availWidth, body + self._gap() + facts
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        _, body = self.body.wrap(availWidth, availHeight)
        if body <= availHeight:
            # The summary fits, its facts do not: leave its last lines (two at least, as
            # the body style allows no widow) to go over with them.
            availHeight = body - self.body.style.leading
        parts: list[Flowable] = self.body.split(availWidth, availHeight)
        if len(parts) != 2:
            return []  # too short to split: all of it moves on
        return [parts[0], WithFacts(parts[1], self.facts)]

    def getSpaceBefore(self) -> float:
        return float(self.body.getSpaceBefore())

    def getSpaceAfter(self) -> float:
        return float(self.facts.getSpaceAfter())

    def draw(self) -> None:
        facts = self.facts.height
        self.body.drawOn(self.canv, 0, facts + self._gap())
        self.facts.drawOn(self.canv, 0, 0)


def page_form(key: str) -> str:
    """Return the name of the PDF form that shows the page number of anchor key."""
    return f"pg_{key}"


@dataclass
class StoryParts:
    """What the page templates need besides the flowables: anchors in drawing order."""

    toc_keys: list[str] = field(default_factory=list)


def masthead(digest: Digest, t: i18n.Strings, style: Styles, width: float) -> list[Flowable]:
    """Return the masthead: title, dateline with counts and period, between rules."""
    lang, tz = t.language, digest.timezone
    day = i18n.format_date(digest.issue_date, lang, tz, "full")
    start = i18n.format_date(digest.period_start, lang, tz, "d MMM")
    end = i18n.format_date(digest.period_end, lang, tz, "d MMM y")
    counts = (
        f"{t.plural('events', len(digest.events))} · {t.plural('sources', digest.source_count)}"
    )
    aligned = [style.tagline.clone(f"ear{i}", alignment=i) for i in (0, 1, 2)]
    texts = (day, counts, t("period", start=start, end=end))
    ears = [para(esc(x), s) for x, s in zip(texts, aligned, strict=True)]
    table = Table([ears], colWidths=[width / 3] * 3)
    # FONTNAME keeps Table from selecting unembedded Helvetica for its (empty) cell text.
    table.setStyle(
        TableStyle(
            [
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("FONTNAME", (0, 0), (-1, -1), style.tagline.fontName),
            ]
        )
    )
    ink = style.color("ink")
    return [
        HRFlowable(width="100%", thickness=0.6, color=ink, spaceAfter=8),
        para(esc(plain(digest.title, 100)), style.masthead),
        Spacer(1, 6),
        HRFlowable(width="100%", thickness=1.6, color=ink, spaceAfter=1.5),
        HRFlowable(width="100%", thickness=0.5, color=ink, spaceAfter=3),
        table,
        HRFlowable(width="100%", thickness=0.5, color=ink, spaceBefore=2, spaceAfter=4),
    ]


def contents(digest: Digest, t: i18n.Strings, style: Styles, parts: StoryParts) -> list[Flowable]:
    """Return the table of contents: section labels and one linked line per event."""
    if not digest.events:
        return []
    out: list[Flowable] = [para(esc(t("contents").upper()), style.toc_title)]
    n = 0
    for section in digest.sections:
        if not section.events:
            continue
        out.append(para(esc(section.title.upper()), style.toc_section))
        for event in section.events:
            n += 1
            key = f"ev{n}"
            parts.toc_keys.append(key)
            # A contents line is at most a few lines long, whatever the headline.
            out.append(TocEntry(esc(plain(event.headline, 160)), key, style))
    out.append(Spacer(1, 10))
    return out


def section_head(title: str, key: str, style: Styles) -> list[Flowable]:
    """Return a section's rule and label, which is also a level-0 outline entry."""
    space = style.section.spaceBefore
    label = Anchored(esc(title.upper()), style.section.clone("section_label", spaceBefore=0))
    label.anchor = (key, plain(title), 0)
    rule = HRFlowable(
        width="100%", thickness=1.2, color=style.color("accent"), spaceBefore=space, spaceAfter=3
    )
    rule.keepWithNext = 1  # a section rule never ends a column on its own
    # A section label never closes a column on its own: the first story's opening (its
    # RoomFor, just after) is checked with the rule and the label above it.
    return [rule, label]


def event_block(
    event: EventSummary,
    key: str,
    *,
    lead: bool,
    last: bool,
    t: i18n.Strings,
    style: Styles,
    digest: Digest,
    image: Flowable | None,
    on_anchor: Callable[[str], None],
    heading: Sequence[Flowable] = (),
) -> list[Flowable]:
    """Return one event: headline, sources line, image, summary, facts, dates and links.

    heading: the section head above the event, if it opens a section (kept with it).
    """
    head = Anchored(esc(event.headline), style.lead_headline if lead else style.headline)
    head.anchor, head.on_anchor = (key, plain(event.headline), 1), on_anchor
    sources = event.event.sources
    meta = f"<b>{esc(t.plural('sources', len(sources)))}</b>"
    if sources:
        meta += ": " + esc(", ".join(sources))
    if event.event.developing_since:
        since = i18n.format_date(event.event.developing_since, t.language, digest.timezone, "d MMM")
        meta += f" · <i>{esc(t('developing_since', date=since))}</i>"
    # Room for the section head, the headline, the sources line, the image and two lines of
    # summary, or a new column: cheaper than keepWithNext, which wraps every event twice
    # inside a KeepTogether.
    opening = [*heading, head, para(meta, style.meta)]
    if image is not None:
        opening += [image, Spacer(1, 5)]
    body = style.lead_body if lead else style.body
    out: list[Flowable] = [RoomFor(opening, 2 * body.leading), *opening]
    summary: Paragraph | None = None
    if event.sentences:
        summary = para(esc(" ".join(s.text for s in event.sentences)), body)
    if event.generated_by:
        if summary is not None:
            out.append(summary)
        summary = para(
            f"<i>{esc(t('generated_summary', model=event.generated_by))}</i>", style.meta
        )
    facts_text = _facts(event, t, style, digest)
    facts = para(facts_text, style.facts) if facts_text else None
    if summary is not None and facts is not None:
        out.append(WithFacts(summary, facts))
    else:
        out += [f for f in (summary, facts) if f is not None]
    if last:
        # The section rule that follows is divider enough.
        out.append(Spacer(1, 8))
    else:
        rule = style.color("rule")
        out.append(HRFlowable(width="100%", thickness=0.4, color=rule, spaceBefore=7, spaceAfter=9))
    return out


def _facts(event: EventSummary, t: i18n.Strings, style: Styles, digest: Digest) -> str:
    """Return the facts, dates and source links as lines of one paragraph (one flowable)."""
    groups = [
        (t("people"), event.facts.people),
        (t("organisations"), event.facts.organisations),
        (t("places"), event.facts.places),
    ]
    who = [f"<b>{esc(label)}</b>  {esc(', '.join(names))}" for label, names in groups if names]
    # Wide columns set people, organisations and places on one line; narrow ones stack them.
    inline = bool(style.raw["facts"].get("inline", False))
    lines = ["&nbsp;&nbsp;&nbsp; ".join(who)] if inline and who else who
    label = f"<b>{esc(t('dates'))}</b>  "
    for item in event.dates[:MAX_DATES]:
        lines.append(label + _dated(item, t, digest))
        label = ""
    color = style.raw["colors"]["link"]
    links = [
        f'<a href={quoted} color="{color}">{esc(name)}</a>'
        for name, url in source_links(event)
        if (quoted := href(url))
    ]
    if links:
        lines.append(f"<b>{esc(t('sources_label'))}</b>  " + " · ".join(links))
    return "<br/>".join(lines)


def source_links(event: EventSummary) -> list[tuple[str, str]]:
    """Return (outlet, url) for every article the event shows (`EventSummary.shown`): each
    one quoted, and the first of each outlet none quotes. An outlet's second article is
    "Outlet (2)"."""
    seen: dict[str, int] = {}
    links: list[tuple[str, str]] = []
    for article in event.shown:
        name = article.outlet_name
        seen[name] = seen.get(name, 0) + 1
        links.append((name if seen[name] == 1 else f"{name} ({seen[name]})", article.url))
    return links


def _dated(item: DatedItem, t: i18n.Strings, digest: Digest) -> str:
    today = i18n.to_zone(digest.generated_at, digest.timezone).date()
    when = i18n.format_dated(item, today, t)
    return f"{esc(when)} — {esc(plain(item.label, 160))}"
