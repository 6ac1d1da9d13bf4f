"""The PDF's fonts and paragraph styles, read from `templates/pdf.toml` (user keys override).

Fonts are the DejaVu families shipped in digest/fonts (regular, bold, italic, bold italic),
so Cyrillic, «», dashes and most scripts render; Hebrew and Arabic fall back to DejaVu Sans,
which covers them where DejaVu Serif does not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
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
from digest.render.i18n import deep_merge, read_toml_layers

STYLE_FILE = "pdf.toml"
FONTS_DIR = Path(__file__).resolve().parents[2] / "fonts"
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
    merged: dict[str, Any] = {}
    for data in read_toml_layers(directories, STYLE_FILE):
        deep_merge(merged, data)
    variants = merged.pop("two_columns", {})
    if columns == 2:
        deep_merge(merged, variants)
    return merged


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
    lead_body: ParagraphStyle
    facts: ParagraphStyle
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


# name: (font from table, bold, size from table.key, leading as a key or a factor of size,
#        colour, extra ParagraphStyle settings). Sizes and fonts come from pdf.toml.
_SPECS: dict[str, tuple[str, bool, str, str | float, str, dict[str, Any]]] = {
    "masthead": ("masthead", True, "masthead.size", 1.1, "ink", {"alignment": TA_CENTER}),
    "tagline": ("meta", False, "masthead.tagline_size", 1.4, "muted", {"alignment": TA_CENTER}),
    "toc_title": (
        "section",
        True,
        "section.size",
        1.3,
        "accent",
        {"spaceBefore": 4, "spaceAfter": 6},
    ),
    "toc_section": ("section", True, "toc.section_size", 1.5, "muted", {"spaceBefore": 5}),
    "toc_entry": ("toc", False, "toc.size", 1.3, "ink", {"spaceAfter": 1.5}),
    "section": ("section", True, "section.size", 1.3, "accent", {}),
    "headline": (
        "headline",
        True,
        "headline.size",
        "leading",
        "ink",
        {"spaceBefore": 2, "spaceAfter": 3},
    ),
    "lead_headline": (
        "headline",
        True,
        "headline.first_size",
        "first_leading",
        "ink",
        {"spaceAfter": 4},
    ),
    "meta": ("meta", False, "meta.size", 1.35, "muted", {"spaceAfter": 5}),
    "body": ("body", False, "body.size", "leading", "ink", {"spaceAfter": 3, "allowWidows": 0}),
    "lead_body": (
        "body",
        False,
        "body.lead_size",
        "lead_leading",
        "ink",
        {"spaceAfter": 4, "allowWidows": 0},
    ),
    # No widow: a lone last line ("Sources …") at the top of a column is cut from its story.
    "facts": ("facts", False, "facts.size", 1.4, "ink", {"spaceBefore": 2, "allowWidows": 0}),
    "note": (
        "facts",
        False,
        "facts.size",
        1.45,
        "ink",
        {"borderPadding": 6, "spaceBefore": 10, "spaceAfter": 10},
    ),
}


def _make_styles(raw: dict[str, dict[str, Any]], language: str) -> Styles:
    fonts = register_fonts()
    made = {name: _paragraph_style(name, spec, raw) for name, spec in _SPECS.items()}
    section, note = made["section"], made["note"]
    section.spaceBefore = float(raw["section"]["space_before"])
    section.spaceAfter = float(raw["section"]["space_after"])
    note.backColor = colors.HexColor(str(raw["colors"]["note_background"]))
    hyph = hyphenator(language) if raw["body"].get("hyphenate", True) else None
    for body in (made["body"], made["lead_body"]):
        if raw["body"].get("justify", True):
            body.alignment = TA_JUSTIFY
        if hyph is not None:
            # Hyphenate body text only: headlines and labels read better unbroken.
            body.hyphenationLang, body.embeddedHyphenation, body.uriWasteReduce = hyph, 1, 0.3
    return Styles(raw=raw, fonts=fonts, **made)


def _paragraph_style(
    name: str,
    spec: tuple[str, bool, str, str | float, str, dict[str, Any]],
    raw: dict[str, dict[str, Any]],
) -> ParagraphStyle:
    font_table, bold, size_at, leading, color, extra = spec
    base, suffixes = FAMILIES[str(raw[font_table]["font"])]
    size_table, size_key = size_at.split(".")
    size = float(raw[size_table][size_key])
    line = float(raw[size_table][leading]) if isinstance(leading, str) else size * leading
    return ParagraphStyle(
        name,
        fontName=base + suffixes[1 if bold else 0],
        fontSize=size,
        leading=line,
        textColor=colors.HexColor(str(raw["colors"][color])),
        splitLongWords=1,
        **{"alignment": TA_LEFT, **extra},
    )
