"""Render: events become a `Digest` (`compose_digest`), then HTML, text and PDF.

`render_digest` fills the Jinja2 templates (the user's `templates_dir` first, the packaged
ones after) for the email's HTML and text parts and the subject, lays out the PDF with
ReportLab (`render.pdf`), and makes the EPUB (`epub`) and the "Coming up" calendar
(`calendar`); `publish_site` adds the period to the static archive site with its Atom feed;
`write_previews` turns PDFs and emails into PNG pages; `i18n`
holds the labels and date formats per language.
"""

from digest.render import i18n
from digest.render.compose import compose_digest
from digest.render.email import render_digest, template_dirs
from digest.render.previews import write_previews
from digest.render.site import publish_site

__all__ = [
    "compose_digest",
    "i18n",
    "publish_site",
    "render_digest",
    "template_dirs",
    "write_previews",
]
