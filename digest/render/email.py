"""The email's three parts from their templates: the subject, the inlined HTML and the text.

`email.html.j2`, `email.txt.j2` and `subject.txt.j2` are filled with the context of
`templates.build_context`; the HTML's stylesheet is then inlined (css-inline), since mail
clients drop <style> blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import css_inline
import jinja2

from digest.config import DigestSettings
from digest.errors import RenderError
from digest.models import Digest
from digest.render.templates import build_context, render_template

_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


@dataclass(frozen=True, slots=True)
class EmailParts:
    """What a message's body is made of: its subject line, HTML part and text part."""

    subject: str
    html: str
    text: str


def render_email(
    digest: Digest,
    settings: DigestSettings,
    env: jinja2.Environment,
    language: str,
    *,
    pdf_note: str | None = None,
    has_pdf: bool = False,
) -> EmailParts:
    """Return the email's subject, HTML (styles inlined) and plain-text part."""
    context = build_context(digest, settings, language, pdf_note=pdf_note, has_pdf=has_pdf)
    subject = " ".join(render_template(env, "subject.txt.j2", context).split())
    html = render_template(env, "email.html.j2", context)
    try:
        html = _INLINER.inline(html)
    except ValueError as exc:
        raise RenderError("email.html.j2", f"CSS could not be inlined: {exc}") from exc
    return EmailParts(subject, html, render_template(env, "email.txt.j2", context))
