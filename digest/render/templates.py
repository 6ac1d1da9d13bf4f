"""The Jinja2 side of rendering: the sandboxed environment and the context every template sees.

The email (`email.py`), the EPUB (`epub.py`) and the archive site (`site.py`) all fill
templates through `make_environment`, so one set of rules holds for all of them. Templates load through a ChoiceLoader: the digest's `templates_dir` first, the packaged
`digest/templates` after, so a user folder holding only `email.html.j2` changes only the email.
Feed text is never trusted as markup: HTML templates autoescape, every printed value passes
`_finalize` (control characters stripped) and links pass `safe_url` (http, https, mailto only).
User templates are data, not code: every template renders in Jinja's SandboxedEnvironment, so
`{{ cycler.__init__.__globals__.os.popen(...) }}` is a render error naming the template, and
nothing runs.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from digest.config import DigestSettings, several_a_day
from digest.deliver import unsubscribe_link
from digest.errors import RenderError
from digest.models import Digest, EventSummary
from digest.render import i18n
from digest.render.pdf.story import MAX_DATES, source_links

PACKAGED_TEMPLATES = i18n.PACKAGED_TEMPLATES
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SAFE_SCHEMES = ("http://", "https://", "mailto:")


def template_dirs(settings: DigestSettings) -> tuple[Path, ...]:
    """Return the digest's template folders in lookup order: the user's first, packaged last."""
    return i18n.template_dirs(settings.templates_dir)


def _finalize(value: Any) -> Any:
    # Runs on every {{ }} before escaping: control characters are invalid in XML and mail.
    if isinstance(value, str):
        return _CONTROL.sub("", value)
    return "" if value is None else value


def safe_url(url: str | None) -> str:
    """Return url when it is http(s) or mailto, '#' otherwise (no javascript: from feeds)."""
    url = _CONTROL.sub("", (url or "").strip())
    return url if url.lower().startswith(_SAFE_SCHEMES) else "#"


def wrap(text: str, width: int = 72, indent: str = "", first: str | None = None) -> str:
    """Return text wrapped at width columns, long words broken so no line runs over."""
    first = indent if first is None else first
    return textwrap.fill(
        " ".join(_CONTROL.sub("", text).split()),
        width=width,
        initial_indent=first,
        subsequent_indent=indent,
        break_on_hyphens=False,
    )


def make_environment(settings: DigestSettings, language: str) -> jinja2.Environment:
    """Return the sandboxed Jinja2 environment of a digest: user templates first, helpers."""
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(d)) for d in template_dirs(settings)])
    # Sandboxed: a templates_dir may be writable by others than the service user, and no
    # template needs more than reading the context (underscore attributes are refused).
    env = SandboxedEnvironment(
        loader=loader,
        autoescape=lambda name: name is not None and ".html" in name,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    tz = settings.timezone
    env.globals["t"] = strings = i18n.load_strings(language, reversed(template_dirs(settings)))
    env.globals["plural"] = strings.plural
    env.filters["date"] = lambda v, style="medium": i18n.format_date(v, language, tz, style)
    env.filters["datetime"] = lambda v, style="short": i18n.format_datetime(v, language, tz, style)
    env.filters["upcoming"] = lambda v, now: i18n.format_upcoming(
        v, i18n.to_zone(now, tz).date(), language
    )
    # A dated item's date as its text gives it ("mid-Feb", «конец нояб.», "3 May 2019").
    env.filters["dated"] = lambda item, now, upcoming=False: i18n.format_dated(
        item, i18n.to_zone(now, tz).date(), strings, upcoming=upcoming
    )
    env.globals["source_links"] = source_links
    env.globals["max_dates"] = MAX_DATES
    env.filters["safe_url"] = safe_url
    # The `unsubscribe` setting may hold several targets; one parser for the header and link.
    env.filters["unsubscribe_link"] = unsubscribe_link
    env.filters["wrap"] = wrap
    return env


def render_template(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    """Return one template rendered; every Jinja2 error becomes a RenderError naming it."""
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateNotFound as exc:
        raise RenderError(name, f"template not found in {_dirs(env)}") from exc
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"{exc.filename or name}:{exc.lineno}", exc.message or "syntax") from exc
    except jinja2.TemplateError as exc:
        raise RenderError(name, str(exc)) from exc


def _dirs(env: jinja2.Environment) -> str:
    loaders = getattr(env.loader, "loaders", [])
    return ", ".join(str(p) for ld in loaders for p in getattr(ld, "searchpath", []))


def build_context(
    digest: Digest,
    settings: DigestSettings,
    language: str,
    *,
    pdf_note: str | None = None,
    has_pdf: bool = False,
) -> dict[str, Any]:
    """Return the variables every template sees (listed in templates/README.md)."""
    events = digest.events
    return {
        "digest": digest,
        "settings": settings,
        "language": language,
        "sections": [s for s in digest.sections if s.events],
        "events": events,
        "anchor": _anchors(events),
        "headline_terms": headline_terms(events),
        "preheader": preheader(events),
        "failed_feeds": digest.failed_feeds,
        "pdf_note": pdf_note,
        "has_pdf": has_pdf,
        "unsubscribe": settings.unsubscribe,
        "images": settings.images,
        # A digest sent more than once a day names each issue by its time too (the subject).
        "several_a_day": several_a_day(settings, digest.issue_date),
    }


def _anchors(events: Sequence[EventSummary]) -> Callable[[EventSummary], str]:
    """Return a function giving each event its in-page anchor name (ev1, ev2, ...)."""
    names = {id(e): f"ev{i + 1}" for i, e in enumerate(events)}
    return lambda event: names.get(id(event), "")


def headline_terms(events: Sequence[EventSummary], limit: int = 3) -> list[str]:
    """Return the most prominent names of the top events, for the subject line."""
    terms: dict[str, None] = {}
    for e in events[:limit]:
        for name in (*e.facts.people[:1], *e.facts.places[:1], *e.facts.organisations[:1]):
            if len(terms) < limit and len(name) <= 40:
                terms.setdefault(" ".join(name.split()), None)
            if len(terms) >= limit:
                return list(terms)
    return list(terms)


def preheader(events: Sequence[EventSummary], width: int = 140) -> str:
    """Return the inbox preview line: the first headlines, shortened to about width chars."""
    text = " · ".join(" ".join(e.headline.split()) for e in events[:3])
    return textwrap.shorten(text, width=width, placeholder=" …") if text else ""
