"""The PDF's panels and pictures: "Coming up", the feed-health note and lead images.

Like the rest of the story, feed text passes `esc()`; an image that is missing, too large
or unreadable is left out and never stops the PDF.
"""

from __future__ import annotations

import io

from PIL import Image as PILImage
from reportlab.platypus import Flowable, Image, Spacer, Table, TableStyle

from digest.models import Digest
from digest.render import i18n
from digest.render.pdf.story import FetchImage, RoomFor, esc, para, plain, section_head
from digest.render.pdf.styles import Styles


def coming_up(digest: Digest, t: i18n.Strings, style: Styles) -> list[Flowable]:
    """Return the "Coming up" panel: a date column and what happens, earliest first."""
    if not digest.coming_up:
        return []
    muted = style.raw["colors"]["muted"]
    rows = []
    today = i18n.to_zone(digest.generated_at, digest.timezone).date()
    for item in sorted(digest.coming_up, key=lambda d: d.when):
        when = i18n.format_dated(item, today, t, upcoming=True)
        source = f" <font color='{muted}'>— {esc(item.source)}</font>" if item.source else ""
        rows.append(
            [
                para(f"<b>{esc(when)}</b>", style.facts),
                para(f"{esc(plain(item.label, 200))}{source}", style.facts),
            ]
        )
    with_year = any(item.when.year != today.year for item in digest.coming_up)
    table = Table(rows, colWidths=[84 if with_year else 64, None], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), style.color("note_background")),
                ("LINEBEFORE", (0, 0), (0, -1), 2, style.color("accent")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("FONTNAME", (0, 0), (-1, -1), style.facts.fontName),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
                ("TOPPADDING", (0, 0), (-1, 0), 7),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 7),
            ]
        )
    )
    head = section_head(t("coming_up"), "coming-up", style)
    return [RoomFor(head, 3 * style.facts.leading), *head, table]


def feed_health(digest: Digest, t: i18n.Strings, style: Styles) -> list[Flowable]:
    """Return a shaded note saying how many sources failed (no names), or nothing."""
    failed = digest.failed_feeds
    if not failed:
        return []
    # Subscribers get the count; names and raw errors are for the operator (log, status).
    count = t.plural("unreachable", len(digest.feed_health), failed=len(failed))
    text = f"<b>{esc(t('feed_health'))}.</b> {esc(count)}"
    return [Spacer(1, 6), para(text, style.note)]


def lead_image(
    url: str | None, fetch_image: FetchImage | None, style: Styles, width: float
) -> Flowable | None:
    """Return the event's image scaled to the column, or None when missing or unreadable."""
    if not url or fetch_image is None:
        return None
    settings = style.raw["image"]
    try:
        data = fetch_image(url)
        picture = (
            _decode(data, int(settings.get("max_source_pixels", 40_000_000))) if data else None
        )
    except Exception:  # a bad or hostile image must never stop the PDF: it is left out
        return None
    if picture is None:
        return None
    w, h = picture.size
    scale = min(width / w, float(settings["max_height"]) / h)
    shown = (w * scale, h * scale)
    # Embed only the pixels print needs at the shown size: keeps 30 pictures in a few MB.
    dpi = float(settings.get("dpi", 200))
    picture.thumbnail((max(1, int(shown[0] / 72 * dpi)), max(1, int(shown[1] / 72 * dpi))))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=int(settings.get("quality", 80)), optimize=True)
    buffer.seek(0)
    return Image(buffer, width=shown[0], height=shown[1], hAlign="LEFT")


def _decode(data: bytes, max_pixels: int) -> PILImage.Image | None:
    """Return the image as RGB, or None when it claims more pixels than max_pixels."""
    with PILImage.open(io.BytesIO(data)) as img:
        if img.width * img.height > max_pixels:  # checked before decoding: no bombs
            return None
        img.draft("RGB", (2000, 2000))  # JPEG: decode at a reduced scale when it can
        return img.convert("RGB")
