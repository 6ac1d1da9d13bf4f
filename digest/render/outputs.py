"""Every format a recipient can ask for, rendered from one `Digest`: `render_digest`.

Each format has its own module (`email.py`, `pdf/`, `epub.py`, `calendar.py`); this one only
decides which to make and puts them together as a `Rendered`.
"""

from __future__ import annotations

from collections.abc import Sequence

from digest.config import DigestSettings
from digest.models import Digest, Rendered
from digest.render.calendar import render_calendar
from digest.render.compose import scrub_digest
from digest.render.email import render_email
from digest.render.epub import render_epub
from digest.render.pdf.attachment import FetchImage, fit_attachment
from digest.render.templates import make_environment


def render_digest(
    digest: Digest,
    settings: DigestSettings,
    *,
    language: str | None = None,
    formats: Sequence[str] | None = None,
    fetch_image: FetchImage | None = None,
) -> Rendered:
    """Return the subject, inlined HTML, plain text and (when asked for) PDF of a digest.

    Every message needs a body, so HTML and text are always rendered; `formats` (default
    settings.formats) decides whether a PDF is made. The PDF is rendered first so the email
    can say when it was slimmed or left out (`Rendered.pdf_note`).
    """
    digest = scrub_digest(digest)  # one control character must not cost every format
    language = language or settings.language or digest.language
    formats = tuple(settings.formats if formats is None else formats)
    env = make_environment(settings, language)
    pdf, note = None, None
    if "pdf" in formats:
        pdf, note = fit_attachment(digest, settings, language, fetch_image, env)
    email = render_email(digest, settings, env, language, pdf_note=note, has_pdf=pdf is not None)
    epub = render_epub(digest, settings, env, language) if "epub" in formats else None
    # The calendar is a few KB and the archive site always publishes it: always made.
    ics = render_calendar(digest, title=env.globals["t"]("coming_up"))  # type: ignore[operator]
    return Rendered(
        subject=email.subject,
        html=email.html,
        text=email.text,
        pdf=pdf,
        pdf_note=note,
        epub=epub,
        ics=ics,
    )
