"""Render: events become a `Digest` (`compose_digest`), then every format a reader gets.

`render_digest` (`outputs.py`) makes each format a recipient asks for, one module each: the
email's subject, HTML and text parts (`email.py`), the PDF laid out with ReportLab (`pdf/`,
fitted to the attachment limit), the EPUB (`epub.py`) and the "Coming up" calendar
(`calendar.py`). The Jinja2 templates (the user's `templates_dir` first, the packaged ones
after) are filled through one sandboxed environment (`templates.py`). `publish_site` adds the
period to the static archive site with its Atom feed; `write_previews` turns PDFs and emails
into PNG pages; `Renders` makes each render a period's recipients ask for once, and
`write_period` writes the period's files and archive page (`output.py`);
`i18n` holds the labels and date formats per language.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from digest import lazy_exports

if TYPE_CHECKING:
    from digest.render import i18n
    from digest.render.compose import compose_digest
    from digest.render.output import write_period
    from digest.render.outputs import render_digest
    from digest.render.previews import write_previews
    from digest.render.renders import Renders
    from digest.render.site import publish_site
    from digest.render.templates import template_dirs

# Loaded on first use (digest.lazy_exports): where each public name lives.
_HOMES = {
    "i18n": "digest.render.i18n",
    "compose_digest": "digest.render.compose",
    "render_digest": "digest.render.outputs",
    "template_dirs": "digest.render.templates",
    "write_previews": "digest.render.previews",
    "publish_site": "digest.render.site",
    "write_period": "digest.render.output",
    "Renders": "digest.render.renders",
}

__all__ = [
    "Renders",
    "compose_digest",
    "i18n",
    "publish_site",
    "render_digest",
    "template_dirs",
    "write_period",
    "write_previews",
]

__getattr__ = lazy_exports(__name__, _HOMES)
