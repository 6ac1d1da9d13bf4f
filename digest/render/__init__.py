"""Render: events become a `Digest` (`compose_digest`), then HTML, text and PDF.

`render_digest` fills the Jinja2 templates (the user's `templates_dir` first, the packaged
ones after) for the email's HTML and text parts and the subject, and lays out the PDF with
ReportLab (`render.pdf`); `write_previews` turns PDFs and emails into PNG pages; `i18n`
holds the labels and date formats per language.
"""

from digest.render import i18n
from digest.render.compose import compose_digest
from digest.render.email import render_digest, template_dirs
from digest.render.previews import write_previews

__all__ = ["compose_digest", "i18n", "render_digest", "template_dirs", "write_previews"]
