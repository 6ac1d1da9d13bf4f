"""render_digest: subject, HTML email, plain text, attachment policy and template overrides."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from factories import HOSTILE_HEADLINES, empty_digest, hostile_digest, make_digest

from digest.config.settings import DigestSettings
from digest.errors import RenderError
from digest.models import Digest
from digest.render.outputs import render_digest
from digest.render.templates import safe_url, wrap


def settings_for(digest: Digest, **changes: object) -> DigestSettings:
    base = DigestSettings(
        name=digest.name,
        title=digest.title,
        feeds=(),
        language=digest.language,
        timezone=digest.timezone,
        unsubscribe="https://digest.example/settings",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


class _Text(HTMLParser):
    """Collects visible text and every tag/attribute pair of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(html: str) -> _Text:
    parser = _Text()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("language", ["en", "ru"])
def test_email_holds_every_event_with_facts_and_links(language: str) -> None:
    digest = make_digest(language)
    rendered = render_digest(digest, settings_for(digest), formats=("html",))
    page = parse_html(rendered.html)
    text = " ".join(" ".join(page.text).split())
    for event in digest.events:
        assert event.headline in text
        assert event.sentences[0].text in text
        for name in event.facts.people:
            assert name in text
    hrefs = {a.get("href") for tag, a in page.tags if tag == "a"}
    assert {s.url for e in digest.events for s in e.sentences} <= hrefs
    assert "https://digest.example/settings" in hrefs
    assert rendered.pdf is None


def test_email_css_is_inlined_and_dark_mode_kept() -> None:
    digest = make_digest("en")
    html = render_digest(digest, settings_for(digest), formats=("html",)).html
    assert re.search(r'<h2 class="headline[^"]*" style="[^"]*font', html)
    assert "prefers-color-scheme: dark" in html
    assert 'width="600"' in html


def test_subject_is_one_line_with_date_and_names() -> None:
    digest = make_digest("en")
    subject = render_digest(digest, settings_for(digest), formats=()).subject
    assert subject.startswith("Morning Briefing, 25 Nov 2026: ")
    assert "Ursula von der Leyen" in subject
    assert "\n" not in subject


def test_russian_labels_and_dates() -> None:
    digest = make_digest("ru")
    rendered = render_digest(digest, settings_for(digest), formats=())
    assert "нояб" in rendered.subject
    assert "3 источника" in rendered.text
    assert "ЧТО ВПЕРЕДИ" in rendered.text
    assert "«Я не ожидала такого»" in rendered.text


def test_plain_text_fits_72_columns() -> None:
    for language in ("en", "ru"):
        digest = make_digest(language, 20)
        text = render_digest(digest, settings_for(digest), formats=()).text
        long_lines = [line for line in text.splitlines() if len(line) > 72 and "://" not in line]
        assert long_lines == []
        assert digest.events[0].headline in text


def test_hostile_titles_never_become_markup() -> None:
    digest = hostile_digest()
    rendered = render_digest(digest, settings_for(digest), formats=("html",))
    page = parse_html(rendered.html)
    assert not [t for t, _ in page.tags if t in ("script", "b", "para", "font")]
    hrefs = [a.get("href") or "" for t, a in page.tags if t == "a"]
    assert not [h for h in hrefs if h.lower().startswith("javascript")]
    text = " ".join(page.text)
    assert "<script>alert('x')</script>" in text
    assert "]]>" in text
    assert "\x00" not in rendered.html and "\x00" not in rendered.text
    assert HOSTILE_HEADLINES[0] in text


def test_empty_digest_says_so() -> None:
    digest = empty_digest()
    rendered = render_digest(digest, settings_for(digest), formats=("pdf",))
    assert "No new stories" in rendered.text
    assert rendered.pdf is not None and rendered.pdf.startswith(b"%PDF")


def test_templates_dir_override_changes_only_the_email(tmp_path: Path) -> None:
    digest = make_digest("en")
    (tmp_path / "email.html.j2").write_text(
        "<html><body><p>Custom {{ digest.title }}: {{ events | length }}</p></body></html>",
        encoding="utf-8",
    )
    plain_render = render_digest(digest, settings_for(digest), formats=("pdf",))
    custom = render_digest(digest, settings_for(digest, templates_dir=tmp_path), formats=("pdf",))
    assert "Custom Morning Briefing: 8" in custom.html
    assert custom.html != plain_render.html
    assert custom.text == plain_render.text
    assert custom.subject == plain_render.subject
    assert custom.pdf == plain_render.pdf


def test_broken_user_template_names_the_template(tmp_path: Path) -> None:
    digest = make_digest("en", 2)
    (tmp_path / "subject.txt.j2").write_text("{% if %}", encoding="utf-8")
    with pytest.raises(RenderError, match=r"render: .*subject\.txt\.j2"):
        render_digest(digest, settings_for(digest, templates_dir=tmp_path), formats=())


def test_strings_override_changes_one_label(tmp_path: Path) -> None:
    digest = make_digest("en", 3)
    (tmp_path / "strings.toml").write_text('[en]\ncoming_up = "On the horizon"\n', "utf-8")
    text = render_digest(digest, settings_for(digest, templates_dir=tmp_path), formats=()).text
    assert "ON THE HORIZON" in text
    assert "3 sources" in text


def test_oversized_pdf_becomes_a_note() -> None:
    digest = make_digest("en", 4)
    rendered = render_digest(digest, settings_for(digest, attachment_limit=1000))
    assert rendered.pdf is None
    assert rendered.pdf_note and "not attached" in rendered.pdf_note
    assert rendered.pdf_note in " ".join(rendered.text.split())
    assert rendered.pdf_note in rendered.html


def test_images_are_dropped_before_the_pdf_is() -> None:
    import io
    import random

    from PIL import Image

    noise = random.Random(5).randbytes(900 * 700 * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (900, 700), noise).save(buffer, "PNG")
    photo = buffer.getvalue()
    digest = make_digest("en", 4, images=True)
    plain_size = len(render_digest(digest, settings_for(digest), formats=("pdf",)).pdf or b"")
    settings = settings_for(digest, images=True, attachment_limit=plain_size + 20_000)
    rendered = render_digest(digest, settings, fetch_image=lambda url: photo)
    assert rendered.pdf is not None and len(rendered.pdf) <= settings.attachment_limit
    assert rendered.pdf_note and "without images" in rendered.pdf_note
    assert re.search(r'<img [^>]*src="https://img\.example/0\.jpg"', rendered.html)
    roomy = render_digest(digest, settings_for(digest, images=True), fetch_image=lambda u: photo)
    assert roomy.pdf_note is None and roomy.pdf is not None and len(roomy.pdf) > plain_size


def test_safe_url_and_wrap() -> None:
    assert safe_url("javascript:alert(1)") == "#"
    assert safe_url(" https://a.example/x ") == "https://a.example/x"
    wrapped = wrap("x" * 200, width=72, indent="  ")
    assert max(len(line) for line in wrapped.splitlines()) <= 72


def test_plurals_sizes_and_dates_are_localised() -> None:
    from digest.render import i18n

    ru = i18n.load_strings("ru", [i18n.PACKAGED_TEMPLATES])
    assert [ru.plural("sources", n) for n in (1, 2, 5, 21)] == [
        "1 источник",
        "2 источника",
        "5 источников",
        "21 источник",
    ]
    en = i18n.load_strings("en", [i18n.PACKAGED_TEMPLATES])
    assert en.plural("events", 1) == "1 story" and en.plural("events", 12) == "12 stories"
    assert en("no_such_key") == "no_such_key"
    assert i18n.format_size(10 * 1024 * 1024, "en") == "10 MB"
    assert i18n.format_size(1536, "ru") == "1,5 KB"
    day = make_digest("ru").period_end
    assert i18n.format_date(day, "ru", "Europe/Moscow", "long") == "25 ноября 2026\u202fг."
    assert i18n.format_date(day, "en", "Europe/London", "full") == "Wednesday, 25 November 2026"


def test_preheader_and_subject_without_names() -> None:
    digest = make_digest("en", 2)
    rendered = render_digest(digest, settings_for(digest), formats=())
    preheader = re.search(r'<div class="preheader"[^>]*>([^<]*)', rendered.html)
    assert preheader and digest.events[0].headline in preheader.group(1)
    assert "display:none" in preheader.group(0).replace(" ", "")
    quiet = empty_digest()
    assert render_digest(quiet, settings_for(quiet), formats=()).subject == (
        "Morning Briefing, 25 Nov 2026"
    )


def test_twelve_event_email_stays_under_gmail_clipping() -> None:
    digest = make_digest("ru", 12)
    html = render_digest(digest, settings_for(digest), formats=()).html
    # Gmail clips HTML bodies over about 102 KB, hiding the footer and its settings link.
    assert len(html.encode()) < 60_000


@pytest.mark.parametrize(
    ("unsubscribe", "href", "shown"),
    [
        (
            "mailto:a@example.org https://example.org/u",
            "https://example.org/u",
            "https://example.org/u",
        ),
        ("https://example.org/u?id=1", "https://example.org/u?id=1", "https://example.org/u?id=1"),
        ("a@example.org", "mailto:a@example.org", "a@example.org"),
    ],
)
def test_footer_links_one_unsubscribe_target(unsubscribe: str, href: str, shown: str) -> None:
    # The same parsing as List-Unsubscribe: the first https target, else the mailto.
    digest = make_digest("en")
    settings = settings_for(digest, unsubscribe=unsubscribe)
    page = parse_html(render_digest(digest, settings, formats=("html",)).html)
    links = [a for tag, a in page.tags if tag == "a" and "footer-link" in (a.get("class") or "")]
    assert [a["href"] for a in links] == [href]
    assert shown in page.text


def test_footer_has_no_unsubscribe_link_without_a_target() -> None:
    digest = make_digest("en")
    page = parse_html(render_digest(digest, settings_for(digest, unsubscribe=None)).html)
    assert not [a for tag, a in page.tags if tag == "a" and "footer-link" in (a.get("class") or "")]
