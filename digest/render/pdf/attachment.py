"""The PDF as an attachment: rendered to fit the digest's `attachment_limit`.

A PDF with lead images that is over the limit is rendered again without them; one still over
it is left out, and the note says why, so the email can tell its reader.
"""

from __future__ import annotations

from collections.abc import Callable

import jinja2

from digest.config import DigestSettings
from digest.models import Digest
from digest.render import i18n
from digest.render.pdf.document import render_pdf

FetchImage = Callable[[str], bytes | None]


def fit_attachment(
    digest: Digest,
    settings: DigestSettings,
    language: str,
    fetch_image: FetchImage | None,
    env: jinja2.Environment,
) -> tuple[bytes | None, str | None]:
    """Return the PDF that fits the attachment limit (images dropped first) and a note."""
    strings: i18n.Strings = env.globals["t"]  # type: ignore[assignment]
    limit = settings.attachment_limit
    limit_text = i18n.format_size(limit, language)
    with_images = settings.images and fetch_image is not None
    pdf = render_pdf(
        digest, settings, language=language, fetch_image=fetch_image, images=with_images
    )
    if len(pdf) <= limit:
        return pdf, None
    if with_images:
        pdf = render_pdf(digest, settings, language=language, images=False)
        if len(pdf) <= limit:
            return pdf, strings("pdf_without_images", limit=limit_text)
    size_text = i18n.format_size(len(pdf), language)
    return None, strings("pdf_too_large", size=size_text, limit=limit_text)
