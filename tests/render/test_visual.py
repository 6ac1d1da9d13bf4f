"""Seen, not assumed: PDF pages rendered by pdftoppm, the email by headless Chromium.

The PNGs are also copied to out/visual/ for people to look at. The tests skip, naming the
Debian package, only when pdftoppm/pdftotext (poppler-utils) or chromium is missing.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from factories import make_digest
from PIL import Image, ImageStat
from pypdf import PdfReader

from digest.config.settings import DigestSettings
from digest.models import Digest, Rendered
from digest.render.outputs import render_digest
from digest.render.previews import find_chromium, pdf_to_pngs, screenshot_html, write_previews

OUT = Path(__file__).resolve().parents[2] / "out" / "visual"
needs_poppler = pytest.mark.skipif(
    shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
    reason="pdftoppm/pdftotext not installed (Debian package poppler-utils)",
)
needs_chromium = pytest.mark.skipif(
    find_chromium() is None, reason="chromium not installed (Debian package chromium)"
)
# (language, columns, page size, expected pages) for the factory digests.
CASES = [("en", 1, "A4", 3), ("ru", 2, "Letter", 2)]


def render(language: str, columns: int, page_size: str) -> tuple[Digest, Rendered]:
    digest = make_digest(language)
    settings = DigestSettings(
        name=digest.name,
        title=digest.title,
        feeds=(),
        language=language,
        timezone=digest.timezone,
        columns=columns,
        page_size=page_size,  # type: ignore[arg-type]
        unsubscribe="https://digest.example/settings",
    )
    return digest, render_digest(digest, settings)


def ink_share(png: Path) -> float:
    """Return the share of pixels noticeably darker than paper."""
    with Image.open(png) as img:
        grey = img.convert("L")
        dark = sum(grey.histogram()[:200])
        return dark / (grey.width * grey.height)


def keep(paths: list[Path], prefix: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for path in paths:
        shutil.copy(path, OUT / f"{prefix}-{path.name}")


def squash(text: str) -> str:
    return re.sub(r"\W+", "", text)


@needs_poppler
@pytest.mark.parametrize(("language", "columns", "page_size", "pages"), CASES)
def test_pdf_pages_are_set_and_hold_every_headline(
    tmp_path: Path, language: str, columns: int, page_size: str, pages: int
) -> None:
    digest, rendered = render(language, columns, page_size)
    assert rendered.pdf is not None
    pdf = tmp_path / f"{language}.pdf"
    pdf.write_bytes(rendered.pdf)
    pngs = pdf_to_pngs(pdf, tmp_path / "png")
    keep(pngs, f"{language}-{columns}col")
    assert len(pngs) == len(PdfReader(io.BytesIO(rendered.pdf)).pages) == pages
    for png in pngs:
        share = ink_share(png)
        assert share > 0.01, f"{png.name} looks blank ({share:.3%} ink)"
        with Image.open(png) as img:
            assert img.height > img.width  # portrait pages
    first = Image.open(pngs[0]).convert("L")
    # The masthead: the top fifth of page 1 carries heavy type.
    top = first.crop((0, 0, first.width, first.height // 5))
    assert ImageStat.Stat(top).mean[0] < 245
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = squash(text)
    for event in digest.events:
        assert squash(event.headline) in flat, event.headline
    assert f"1 of {pages}" in text or f"1 из {pages}" in text


@needs_chromium
@pytest.mark.parametrize("language", ["en", "ru"])
def test_email_screenshot_at_600px_is_not_blank(tmp_path: Path, language: str) -> None:
    _, rendered = render(language, 1, "A4")
    html = tmp_path / f"{language}.html"
    html.write_text(rendered.html, encoding="utf-8")
    png = screenshot_html(html, tmp_path / f"{language}-email.png", width=600, height=1600)
    keep([png], language)
    with Image.open(png) as img:
        assert img.width == 600
        grey = img.convert("L")
        assert sum(1 for n in grey.histogram() if n) > 20  # antialiased text, not a flat fill
    assert ink_share(png) > 0.01


@needs_chromium
def test_email_dark_mode_turns_the_page_dark(tmp_path: Path) -> None:
    _, rendered = render("en", 1, "A4")
    html = tmp_path / "en.html"
    html.write_text(rendered.html, encoding="utf-8")
    light = screenshot_html(html, tmp_path / "light.png", height=900)
    dark = screenshot_html(html, tmp_path / "dark.png", height=900, dark=True)
    keep([dark], "en")
    with Image.open(light) as a, Image.open(dark) as b:
        assert ImageStat.Stat(a.convert("L")).mean[0] > 200
        assert ImageStat.Stat(b.convert("L")).mean[0] < 80
        # Text still stands out from the dark page: a good share of light pixels.
        assert sum(b.convert("L").histogram()[160:]) / (b.width * b.height) > 0.01


@needs_poppler
@needs_chromium
def test_write_previews_writes_pages_then_email(tmp_path: Path) -> None:
    _, rendered = render("en", 1, "A4")
    assert rendered.pdf is not None
    (tmp_path / "d.pdf").write_bytes(rendered.pdf)
    (tmp_path / "d.html").write_text(rendered.html, encoding="utf-8")
    written = write_previews(tmp_path / "d.pdf", tmp_path / "d.html", tmp_path / "previews")
    assert [p.name for p in written] == [
        "d-page-1.png",
        "d-page-2.png",
        "d-page-3.png",
        "d-email.png",
    ]
    assert all(p.stat().st_size > 1000 for p in written)


@needs_chromium
def test_the_email_preview_is_the_whole_email(tmp_path: Path) -> None:
    _, rendered = render("en", 1, "A4")  # taller than 2,400 px at 600 px wide
    html = tmp_path / "long.html"
    html.write_text(rendered.html, encoding="utf-8")
    (png,) = [p for p in write_previews(tmp_path / "no.pdf", html, tmp_path / "p")]
    with Image.open(png) as img:
        assert img.height > 2400, img.height
        rgb = img.convert("RGB")
        background = rgb.getpixel((0, rgb.height - 1))
        # The footer's last line is in the picture, with the page's background below it.
        bottom = rgb.crop((0, rgb.height - 20, rgb.width, rgb.height))
        assert bottom.getcolors() == [(bottom.width * bottom.height, background)]
    assert ink_share(png) > 0.01


def test_write_previews_without_files_writes_nothing(tmp_path: Path) -> None:
    assert write_previews(tmp_path / "no.pdf", tmp_path / "no.html", tmp_path / "p") == []
