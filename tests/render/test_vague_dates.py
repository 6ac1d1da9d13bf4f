"""A vague date is shown as vague in every format; a date of another year shows its year.

"mid-February" and "in July this year" were printed "15 Feb" and "15 Jul" (marked "about"
in the PDF only), «в конце ноября» as «28 нояб.» in "Coming up". The digests here are built
from article text by the events stage itself, then rendered to every format.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta

from pypdf import PdfReader

from digest.config.settings import DigestSettings
from digest.events.summarize import summarize_event
from digest.models import Article, Digest, Event, Rendered
from digest.render.compose import compose_digest
from digest.render.outputs import render_digest

NOW = datetime(2019, 11, 18, 9, 0, tzinfo=UTC)
FORMATS = ("pdf", "html", "epub", "ics")


def _built(texts: list[str], language: str, *, one_event: bool = False) -> tuple[Digest, Rendered]:
    articles = [
        Article(
            feed_url=f"https://wire{n}.example/feed",
            source=f"Wire {n}",
            guid=str(n),
            url=f"https://wire{n}.example/{n}",
            title=f"Story {n}" if language == "en" else f"Сюжет {n}",
            published=NOW - timedelta(hours=2),
            text=text,
            language=language,
            id=n,
        )
        for n, text in enumerate(texts)
    ]
    groups = [articles] if one_event else [[a] for a in articles]
    summaries = [
        summarize_event(Event(key=f"e{n}", articles=tuple(g)), sentences=3, now=NOW)
        for n, g in enumerate(groups)
    ]
    settings = DigestSettings(
        name="d", title="T", feeds=(), language=language, timezone="UTC", formats=FORMATS
    )
    digest = compose_digest(
        settings, summaries, period_start=NOW - timedelta(days=1), period_end=NOW, now=NOW
    )
    return digest, render_digest(digest, settings, formats=FORMATS)


def _views(rendered: Rendered) -> dict[str, str]:
    assert rendered.pdf is not None and rendered.epub is not None
    pdf = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(rendered.pdf)).pages)
    with zipfile.ZipFile(io.BytesIO(rendered.epub)) as book:
        epub = " ".join(
            book.read(n).decode("utf-8") for n in book.namelist() if n.endswith(".xhtml")
        )
    views = {"text": rendered.text, "html": rendered.html, "pdf": pdf, "epub": epub}
    return {k: " ".join(re.sub(r"<[^>]+>", " ", v).split()) for k, v in views.items()}


def test_english_vague_dates_are_vague_everywhere() -> None:
    digest, rendered = _built(
        [
            "Prices will rise again in mid-February, the ministry said. "
            "The talks took place in July this year in Helsinki. "
            "The vote is due on 6 December in the capital.",
        ],
        "en",
    )
    items = {(d.when.isoformat(), d.part) for d in digest.events[0].dates}
    assert items == {("2020-02-15", "mid"), ("2019-07-15", "month"), ("2019-12-06", "")}
    for fmt, view in _views(rendered).items():
        assert "mid-Feb 2020" in view, fmt
        assert "15 Feb" not in view and "15 Jul" not in view, fmt
        assert "6 Dec" in view, fmt
    assert "Jul The talks took place" in _views(rendered)["text"].replace("- ", "")
    assert rendered.ics is not None
    ics = rendered.ics.decode()
    # mid-February spans the 11th to the 20th, tentative; 6 December is one day
    assert "DTSTART;VALUE=DATE:20200211" in ics and "DTEND;VALUE=DATE:20200221" in ics
    assert "DTSTART;VALUE=DATE:20191206" in ics and "DTEND;VALUE=DATE:20191207" in ics


def test_russian_vague_date_in_coming_up_and_the_year_of_another_year() -> None:
    digest, rendered = _built(
        [
            "Итоги экспертизы будут известны в конце ноября, сообщили в министерстве. "
            "Первый концерт тура пройдёт 3 мая 2020 года в Казани.",
        ],
        "ru",
    )
    assert [(d.when.isoformat(), d.part) for d in digest.coming_up] == [
        ("2019-11-25", "late"),
        ("2020-05-03", ""),
    ]
    for fmt, view in _views(rendered).items():
        assert "конец нояб." in view, fmt
        assert "25 нояб." not in view and "28 нояб." not in view, fmt
        assert "3 мая 2020" in view, fmt  # the event's Dates line too, not only Coming up


def test_coming_up_lists_each_thing_once() -> None:
    digest, _ = _built(
        [
            "They are due to take on Aston Villa in the quarter-finals on December 17 but also "
            "face their Club World Cup semi-final on December 18 in Doha.",
            "Liverpool are due to play Aston Villa in the quarter-finals on December 17, the "
            "club said, and will field a young side.",
        ],
        "en",
        one_event=True,
    )
    assert [d.when.isoformat() for d in digest.coming_up] == ["2019-12-17"]


def test_a_sentence_about_the_past_is_not_coming_up() -> None:
    # the story was filed with a wrong date: «В среду, 20 ноября» is after it, yet the car
    # overturned already
    digest, _ = _built(
        [
            "В среду, 20 ноября, на Северной окружной перевернулся автомобиль. "
            "Финал турнира пройдёт в субботу, 23 ноября, в Казани.",
        ],
        "ru",
    )
    assert [d.when.isoformat() for d in digest.coming_up] == ["2019-11-23"]
