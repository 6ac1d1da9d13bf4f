"""render_pdf: text, fonts, links, outline, metadata, layouts and hostile input (read with pypdf)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import unicodedata
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bidi import get_display
from factories import HOSTILE_HEADLINES, empty_digest, hostile_digest, make_digest
from pypdf import PdfReader
from reportlab.platypus import Flowable

from digest.config.settings import DigestSettings
from digest.errors import RenderError
from digest.models import Digest
from digest.render.pdf.bidi import shape, visual_line
from digest.render.pdf.document import render_pdf
from digest.render.pdf.story import esc, source_links


def settings_for(digest: Digest, **changes: object) -> DigestSettings:
    base = DigestSettings(name=digest.name, title=digest.title, feeds=(), timezone=digest.timezone)
    return replace(base, **changes)  # type: ignore[arg-type]


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def squash(text: str) -> str:
    # Extracted text loses hyphenation and line breaks: compare letters only.
    return re.sub(r"\W+", "", text)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_pdf_holds_every_headline(language: str) -> None:
    digest = make_digest(language)
    pdf = render_pdf(digest, settings_for(digest), language=language)
    text = squash(pdf_text(pdf))
    for event in digest.events:
        assert squash(event.headline) in text
    assert squash(digest.title) in text


def test_fonts_are_embedded_with_bold_and_italic() -> None:
    digest = make_digest("ru")
    reader = PdfReader(io.BytesIO(render_pdf(digest, settings_for(digest), language="ru")))
    fonts: set[str] = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts.add(str(font["/BaseFont"]))
            assert "/DescendantFonts" in font or "/FontDescriptor" in font
    names = " ".join(fonts)
    for face in ("DejaVuSerif-Bold", "DejaVuSerif", "DejaVuSans", "DejaVuSans-Oblique"):
        assert face in names
    text = pdf_text(render_pdf(digest, settings_for(digest), language="ru"))
    assert "«Я не ожидала такого»" in text


def test_outline_links_and_page_numbers() -> None:
    digest = make_digest("en")
    pdf = render_pdf(digest, settings_for(digest), language="en")
    reader = PdfReader(io.BytesIO(pdf))
    titles = [o.title for o in reader.outline if not isinstance(o, list)]
    assert "World" in titles and "Coming up" in titles
    nested = [o.title for group in reader.outline if isinstance(group, list) for o in group]
    assert digest.events[0].headline in nested
    uris, internal = set(), 0
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            action = annot.get_object().get("/A") or {}
            if "/URI" in action:
                uris.add(str(action["/URI"]))
            elif annot.get_object().get("/Dest") is not None or action.get("/S") == "/GoTo":
                internal += 1
    # Every source of every event is one click away, not only the ones quoted.
    assert {url for e in digest.events for _, url in source_links(e)} == uris
    assert len(uris) == sum(len(e.event.sources) for e in digest.events)
    assert internal >= len(digest.events)
    total = len(reader.pages)
    assert f"Page 1 of {total}" in pdf_text(pdf)


def test_metadata() -> None:
    digest = make_digest("en")
    reader = PdfReader(io.BytesIO(render_pdf(digest, settings_for(digest), language="en")))
    meta = reader.metadata
    assert meta is not None
    assert meta.title == "Morning Briefing"
    assert meta.creator == "digest"
    assert str(meta.get("/CreationDate", "")).startswith("D:20261125060000")
    assert reader.trailer["/Root"].get("/Lang") == "en"


@pytest.mark.parametrize(("page_size", "columns"), [("A4", 1), ("Letter", 2)])
def test_page_sizes_and_columns(page_size: str, columns: int) -> None:
    digest = make_digest("en", 30)
    settings = settings_for(digest, page_size=page_size, columns=columns)
    reader = PdfReader(io.BytesIO(render_pdf(digest, settings, language="en")))
    width = float(reader.pages[0].mediabox.width)
    assert round(width) == (595 if page_size == "A4" else 612)


@pytest.mark.parametrize("columns", [1, 2])
def test_hostile_titles_render_escaped(columns: int) -> None:
    digest = hostile_digest()
    pdf = render_pdf(digest, settings_for(digest, columns=columns), language="en")
    text = pdf_text(pdf)
    assert "<script>alert('x')</script>" in text
    assert "]]>" in text and "<b>bold</b>" in text
    assert squash(HOSTILE_HEADLINES[1][:300]) in squash(text)


def test_empty_digest_in_two_columns_says_so() -> None:
    digest = empty_digest("ru")
    text = pdf_text(render_pdf(digest, settings_for(digest, columns=2), language="ru"))
    assert "За этот период новых сюжетов нет" in text
    assert "Страница 1 из 1" in text


def test_thirty_events_without_images_under_one_megabyte() -> None:
    digest = make_digest("en", 30)
    pdf = render_pdf(digest, settings_for(digest), language="en", images=False)
    assert len(pdf) < 1_000_000


def test_images_are_embedded_and_missing_ones_skipped() -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (800, 500), (40, 90, 140)).save(buffer, "PNG")
    png = buffer.getvalue()

    def fetch(url: str) -> bytes | None:
        return (
            png if url.endswith(("0.jpg", "2.jpg")) else (b"not an image" if "1" in url else None)
        )

    digest = make_digest("en", 4, images=True)
    settings = settings_for(digest, images=True)
    with_images = render_pdf(digest, settings, language="en", fetch_image=fetch)
    without = render_pdf(digest, settings, language="en", fetch_image=fetch, images=False)
    reader = PdfReader(io.BytesIO(with_images))
    count = sum(len(page.images) for page in reader.pages)
    assert count == 2
    assert len(with_images) > len(without)


def test_right_to_left_runs_use_a_font_that_has_them() -> None:
    digest = hostile_digest()
    text = pdf_text(render_pdf(digest, settings_for(digest), language="en"))
    # Every glyph is there; Arabic as joined presentation forms (NFKC gives the letters back).
    for letter in "שלוםعلم":
        assert letter in unicodedata.normalize("NFKC", text)
    assert esc("שלום") == '<font name="DejaVuSans">שלום</font>'
    assert esc("a < b & ]]>\x00") == "a &lt; b &amp; ]]&gt;"
    # Arabic is shaped before Paragraph measures it: initial, medial and final forms.
    assert esc("بيت") == '<font name="DejaVuSans">\ufe91\ufef4\ufe96</font>'


HEBREW = "ממשלת ישראל אישרה את התקציב"  # "Israel's government approved the budget"
ARABIC = "الحكومة توافق على الميزانية الجديدة"  # "The government approves the new budget"


def rtl_digest() -> Digest:
    """Return the English digest with its first two headlines in Hebrew and in Arabic."""
    digest = make_digest("en")
    first, *rest = digest.sections
    events = (
        replace(first.events[0], headline=HEBREW),
        replace(first.events[1], headline=ARABIC),
        *first.events[2:],
    )
    return replace(digest, sections=(replace(first, events=events), *rest))


def pdf_lines(pdf: bytes, tmp_path: Path) -> list[list[str]]:
    """Return the PDF's lines (a column's part of one) as words, left to right, top to bottom.

    pdftotext -bbox gives each word's box with its glyphs in drawn order; a gap wider than
    10 pt (the column gap is 18 pt) starts a new line.
    """
    path = tmp_path / "digest.pdf"
    path.write_bytes(pdf)
    html = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    rows: dict[tuple[int, int], list[tuple[float, float, str]]] = defaultdict(list)
    box = r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)"[^>]*>([^<]*)</word>'
    for page, chunk in enumerate(html.split("<page ")):
        for x0, y, x1, word in re.findall(box, chunk):
            rows[page, round(float(y))].append((float(x0), float(x1), word))
    lines: list[list[str]] = []
    for _, row in sorted(rows.items()):
        end = -1e9
        for x0, x1, word in sorted(row):
            if x0 - end > 10:
                lines.append([])
            lines[-1].append(word)
            end = x1
    return lines


def shown(words: list[str]) -> list[str]:
    """Return the words python-bidi displays for logical words, left to right."""
    return str(get_display(" ".join(words))).split()


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext)")
@pytest.mark.parametrize("columns", [1, 2])
def test_right_to_left_headlines_are_drawn_in_display_order(tmp_path: Path, columns: int) -> None:
    digest = rtl_digest()
    pdf = render_pdf(digest, settings_for(digest, columns=columns), language="en")
    lines = pdf_lines(pdf, tmp_path)
    for headline in (HEBREW, ARABIC):
        logical = shape(headline).split()
        whole = shown(logical)
        # Drawn right to left: the first logical word is the rightmost, its letters reversed.
        assert whole[-1] == logical[0][::-1]
        # Once in the contents (after its page number) and once as the event's headline,
        # or, in a narrow column, broken in logical order and each line reordered on its own.
        found = sum(line[-len(whole) :] == whole for line in lines)
        broken = [
            k
            for k in range(1, len(logical))
            for i, line in enumerate(lines)
            if line == shown(logical[:k]) and shown(logical[k:]) in lines[i + 1 : i + 4]
        ]
        assert found + len(broken) >= 2, (headline, whole)
    # Left-to-right text is untouched: every other headline, the title and the links.
    text = squash(pdf_text(pdf))
    for event in digest.events[2:]:
        assert squash(event.headline) in text
    assert squash(digest.title) in text
    # ... and left to right: an English headline's words keep their order in its line.
    assert sum(" ".join(line).startswith("Senate schedules a final") for line in lines) == 1
    plain_pdf = render_pdf(make_digest("en"), settings_for(digest, columns=columns), language="en")
    assert pdf.count(b"/URI") == plain_pdf.count(b"/URI")


def test_visual_line_reorders_styled_runs_and_mirrors() -> None:
    def same(_: str, text: str) -> str:
        return text

    # An RTL paragraph: runs keep their own characters; brackets are mirrored.
    assert visual_line(["(שלום) ", "abc 12"], str, same, 1) == ["abc 12", " (םולש)"]
    # An LTR paragraph with an RTL phrase: only the phrase is reversed.
    assert "".join(visual_line(["x שלום עולם y"], str, same, 0)) == "x םלוע םולש y"
    # A hyphen ending a broken line stays with its word; LTR lines are returned as they are.
    assert visual_line(["שלום am-"], str, same, 1) == ["am- םולש"]
    runs = ["plain ", "text"]
    assert visual_line(runs, str, same, 0) == runs


def test_style_file_override_and_errors(tmp_path: Path) -> None:
    digest = make_digest("en", 3)
    (tmp_path / "pdf.toml").write_text('[colors]\naccent = "#00ff00"\n', encoding="utf-8")
    custom = render_pdf(digest, settings_for(digest, templates_dir=tmp_path), language="en")
    default = render_pdf(digest, settings_for(digest), language="en")
    page = PdfReader(io.BytesIO(custom)).pages[0].get_contents()
    assert page is not None and b"0 1 0 rg" in page.get_data()
    assert custom != default
    (tmp_path / "pdf.toml").write_text("[colors\n", encoding="utf-8")
    with pytest.raises(RenderError, match=r"render: .*pdf\.toml: not valid TOML"):
        render_pdf(digest, settings_for(digest, templates_dir=tmp_path), language="en")
    (tmp_path / "pdf.toml").write_text('[body]\nfont = "comic"\n', encoding="utf-8")
    with pytest.raises(RenderError, match=r"render: pdf\.toml: bad or missing setting"):
        render_pdf(digest, settings_for(digest, templates_dir=tmp_path), language="en")


def test_oversized_source_images_are_skipped(tmp_path: Path) -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), (10, 20, 30)).save(buffer, "PNG")
    digest = make_digest("en", 2, images=True)
    (tmp_path / "pdf.toml").write_text("[image]\nmax_source_pixels = 1000\n", encoding="utf-8")
    settings = settings_for(digest, images=True, templates_dir=tmp_path)
    pdf = render_pdf(digest, settings, language="en", fetch_image=lambda url: buffer.getvalue())
    assert sum(len(p.images) for p in PdfReader(io.BytesIO(pdf)).pages) == 0


def test_dates_are_shown_in_the_digest_timezone() -> None:
    late = datetime(2026, 11, 25, 22, 30, tzinfo=UTC)  # already 26 November in Moscow
    digest = replace(make_digest("ru", 2), period_end=late)
    text = pdf_text(render_pdf(digest, settings_for(digest), language="ru"))
    assert "четверг, 26 ноября 2026" in text


def test_a_story_whose_opening_fits_at_the_foot_of_a_page_starts_there() -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate, Spacer

    from digest.render import i18n
    from digest.render.pdf.story import event_block, section_head
    from digest.render.pdf.styles import load_style, make_styles

    digest = make_digest("en")
    event = replace(digest.events[1], headline="Bridge reopens")  # a one-line headline
    dirs = tuple(reversed(i18n.template_dirs(None)))
    style, t = make_styles(load_style(dirs), "en"), i18n.load_strings("en", dirs)

    def story(room: float) -> list[Flowable]:
        heading = section_head("World", "sec1", style)
        block = event_block(
            event, "ev1", lead=False, last=True, t=t, style=style, digest=digest,
            image=None, on_anchor=lambda _key: None, heading=heading,
        )  # fmt: skip
        return [Spacer(1, doc.height - 12 - room), *block]  # a frame pads 6 pt top and bottom

    def first_page(room: float) -> str:
        out = io.BytesIO()
        SimpleDocTemplate(out, pagesize=A4).build(story(room))
        return PdfReader(io.BytesIO(out.getvalue())).pages[0].extract_text() or ""

    doc = SimpleDocTemplate(io.BytesIO(), pagesize=A4)
    # The section rule and label, a one-line headline, the sources line and two lines of
    # summary take 105 pt: with 110 pt left the story starts on this page (an estimate for
    # a two-line headline and three lines of summary wanted 139 pt, and left them blank).
    assert "Bridge reopens" in first_page(110)
    assert "Bridge reopens" not in first_page(95)  # its opening does not fit: next page
