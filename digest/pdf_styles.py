"""The PDF's fonts and paragraph styles, read from `templates/pdf.toml` (user keys override).

Fonts are the DejaVu families shipped in digest/fonts (regular, bold, italic, bold italic),
so Cyrillic, «», dashes and most scripts render; Hebrew and Arabic fall back to DejaVu Sans,
which covers them where DejaVu Serif does not.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyphen
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from digest.errors import RenderError

STYLE_FILE = "pdf.toml"
FONTS_DIR = Path(__file__).resolve().parent / "fonts"
FAMILIES = {
    "serif": ("DejaVuSerif", ("", "-Bold", "-Italic", "-BoldItalic")),
    "sans": ("DejaVuSans", ("", "-Bold", "-Oblique", "-BoldOblique")),
}
_HYPHEN_LANGS = {"en": "en_GB", "ru": "ru_RU"}


def register_fonts() -> dict[str, str]:
    """Return {"serif": name, "sans": name} after registering both DejaVu families once."""
    known = set(pdfmetrics.getRegisteredFontNames())
    names = {}
    for key, (base, suffixes) in FAMILIES.items():
        faces = [f"{base}{s}" for s in suffixes]
        for face in faces:
            if face in known:
                continue
            path = FONTS_DIR / f"{face}.ttf"
            try:
                pdfmetrics.registerFont(TTFont(face, str(path)))
            except (OSError, ValueError) as exc:
                raise RenderError("pdf", f"font {path} could not be loaded: {exc}") from exc
        pdfmetrics.registerFontFamily(
            base, normal=faces[0], bold=faces[1], italic=faces[2], boldItalic=faces[3]
        )
        names[key] = base
    return names


def load_style(directories: Iterable[Path], columns: int = 1) -> dict[str, dict[str, Any]]:
    """Return pdf.toml merged over the directories in order (later files override keys).

    With two columns the `[two_columns.*]` tables are applied last, key by key.
    """
    merged: dict[str, dict[str, Any]] = {}
    for directory in directories:
        path = directory / STYLE_FILE
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise RenderError(str(path), f"not valid TOML: {exc}") from exc
        _merge(merged, data)
    variants = merged.pop("two_columns", {})
    if columns == 2:
        _merge(merged, variants)
    return merged


def _merge(into: dict[str, Any], data: Mapping[str, Any]) -> None:
    for key, value in data.items():
        if isinstance(value, Mapping):
            _merge(into.setdefault(key, {}), value)
        else:
            into[key] = value


def hyphenator(language: str) -> Callable[[str], Iterator[tuple[str, str]]] | None:
    """Return a pyphen splitter for the language, or None when pyphen has no dictionary."""
    lang = _HYPHEN_LANGS.get(language, language)
    if lang not in pyphen.LANGUAGES:
        return None
    split: Callable[[str], Iterator[tuple[str, str]]] = pyphen.Pyphen(lang=lang).iterate
    return split


@dataclass(frozen=True, slots=True)
class Styles:
    """Every ParagraphStyle the PDF uses, plus the colours and page settings they came from."""

    raw: dict[str, dict[str, Any]]
    fonts: dict[str, str]
    masthead: ParagraphStyle
    tagline: ParagraphStyle
    toc_title: ParagraphStyle
    toc_section: ParagraphStyle
    toc_entry: ParagraphStyle
    section: ParagraphStyle
    headline: ParagraphStyle
    lead_headline: ParagraphStyle
    meta: ParagraphStyle
    body: ParagraphStyle
    facts: ParagraphStyle
    links: ParagraphStyle
    note: ParagraphStyle

    def color(self, name: str) -> colors.Color:
        """Return a colour from the [colors] table."""
        return colors.HexColor(str(self.raw["colors"][name]))

    def page(self, name: str) -> float:
        """Return a number from the [page] table."""
        return float(self.raw["page"][name])


def make_styles(raw: dict[str, dict[str, Any]], language: str) -> Styles:
    """Return the paragraph styles built from the merged style tables."""
    try:
        return _make_styles(raw, language)
    except (KeyError, TypeError, ValueError) as exc:
        raise RenderError(STYLE_FILE, f"bad or missing setting: {exc}") from exc


def _make_styles(raw: dict[str, dict[str, Any]], language: str) -> Styles:
    fonts = register_fonts()
    c = {k: colors.HexColor(str(v)) for k, v in raw["colors"].items()}

    def font(table: str, bold: bool = False, italic: bool = False) -> str:
        base, suffixes = FAMILIES[str(raw[table]["font"])]
        return f"{base}{suffixes[(1 if bold else 0) + (2 if italic else 0)]}"

    def size(table: str, key: str = "size") -> float:
        return float(raw[table][key])

    body = raw["body"]
    hyph = hyphenator(language) if body.get("hyphenate", True) else None
    base = ParagraphStyle("base", fontName=font("body"), textColor=c["ink"], splitLongWords=1)
    return Styles(
        raw=raw,
        fonts=fonts,
        masthead=ParagraphStyle(
            "masthead",
            base,
            fontName=font("masthead", bold=True),
            fontSize=size("masthead"),
            leading=size("masthead") * 1.1,
            alignment=TA_CENTER,
        ),
        tagline=ParagraphStyle(
            "tagline",
            base,
            fontName=font("meta"),
            fontSize=size("masthead", "tagline_size"),
            leading=size("masthead", "tagline_size") * 1.4,
            alignment=TA_CENTER,
            textColor=c["muted"],
        ),
        toc_title=ParagraphStyle(
            "toc_title",
            base,
            fontName=font("section", bold=True),
            fontSize=size("section"),
            leading=size("section") * 1.3,
            textColor=c["accent"],
            spaceBefore=4,
            spaceAfter=6,
        ),
        toc_section=ParagraphStyle(
            "toc_section",
            base,
            fontName=font("section", bold=True),
            fontSize=size("toc", "section_size"),
            leading=size("toc", "section_size") * 1.5,
            textColor=c["muted"],
            spaceBefore=5,
        ),
        toc_entry=ParagraphStyle(
            "toc_entry",
            base,
            fontName=font("toc"),
            fontSize=size("toc"),
            leading=size("toc") * 1.3,
            spaceAfter=1.5,
        ),
        section=ParagraphStyle(
            "section",
            base,
            fontName=font("section", bold=True),
            fontSize=size("section"),
            leading=size("section") * 1.3,
            textColor=c["accent"],
            spaceBefore=size("section", "space_before"),
            spaceAfter=size("section", "space_after"),
        ),
        headline=ParagraphStyle(
            "headline",
            base,
            fontName=font("headline", bold=True),
            fontSize=size("headline"),
            leading=size("headline", "leading"),
            spaceBefore=2,
            spaceAfter=3,
        ),
        lead_headline=ParagraphStyle(
            "lead_headline",
            base,
            fontName=font("headline", bold=True),
            fontSize=size("headline", "first_size"),
            leading=size("headline", "first_leading"),
            spaceAfter=4,
        ),
        meta=ParagraphStyle(
            "meta",
            base,
            fontName=font("meta"),
            fontSize=size("meta"),
            leading=size("meta") * 1.35,
            textColor=c["muted"],
            spaceAfter=5,
        ),
        body=ParagraphStyle(
            "body",
            base,
            fontName=font("body"),
            fontSize=size("body"),
            leading=size("body", "leading"),
            spaceAfter=3,
            alignment=TA_JUSTIFY if body.get("justify", True) else TA_LEFT,
            hyphenationLang=hyph or "",
            embeddedHyphenation=1,
            uriWasteReduce=0.3,
        ),
        facts=ParagraphStyle(
            "facts",
            base,
            fontName=font("facts"),
            fontSize=size("facts"),
            leading=size("facts") * 1.4,
            spaceBefore=2,
            textColor=c["ink"],
        ),
        links=ParagraphStyle(
            "links",
            base,
            fontName=font("facts"),
            fontSize=size("facts") - 0.4,
            leading=(size("facts") - 0.4) * 1.4,
            textColor=c["muted"],
            spaceBefore=2,
        ),
        note=ParagraphStyle(
            "note",
            base,
            fontName=font("facts"),
            fontSize=size("facts"),
            leading=size("facts") * 1.45,
            backColor=c["note_background"],
            borderPadding=6,
            spaceBefore=10,
            spaceAfter=10,
        ),
    )
