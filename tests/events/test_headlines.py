"""Headlines: a trailing " - Source" goes only when it is the article's own outlet."""

from __future__ import annotations

from datetime import UTC, datetime

from digest.events.headlines import clean_headline, shared_suffixes, site_name
from digest.events.summarize import summarize_event
from digest.models import Article, Event


def test_a_clause_after_a_dash_stays() -> None:
    ru = "«Жалко, что большинство участников митинга\xa0— не\xa0москвичи»"
    assert clean_headline(ru, ["Медуза", "meduza"]) == ru.replace("\xa0", " ")
    assert clean_headline("Brexit - what happens next?", ["BBC News", "bbc"]) == (
        "Brexit - what happens next?"
    )
    assert clean_headline("Аэрофлот сократил расходы — The Bell", ["The Insider", "theins"]) == (
        "Аэрофлот сократил расходы — The Bell"  # another outlet quoted: an attribution
    )


def test_the_own_outlet_goes() -> None:
    assert clean_headline("Storm closes harbour | BBC News", ["BBC News - World"]) == (
        "Storm closes harbour"
    )
    bbc = site_name("https://www.bbc.co.uk/x")
    assert clean_headline("Storm closes harbour - BBC News", [bbc]) == "Storm closes harbour"
    assert clean_headline("Рубль упал - Lenta.ru", ["lenta"]) == "Рубль упал"
    assert clean_headline("Storm - Part 2 - The Herald.", ["The Herald"]) == "Storm - Part 2"


def test_site_names_and_shared_suffixes() -> None:
    assert site_name("https://www.bbc.co.uk/news/1") == "bbc"
    assert site_name("https://meduza.io/feature/1") == "meduza"
    titles = ["A happens | Daily Planet", "B happens | Daily Planet", "C - what next?"]
    assert shared_suffixes(titles) == {"Daily Planet"}


def test_event_headline_keeps_the_clause() -> None:
    title = "«Жалко, что большинство участников митинга — не москвичи»"
    article = Article(
        feed_url="https://meduza.io/rss/all",
        source="Медуза",
        guid="1",
        url="https://meduza.io/feature/2019/08/06/zhalko",
        title=title,
        published=datetime(2019, 8, 6, tzinfo=UTC),
        text="Проректор Высшей школы экономики Валерия Касамара — кандидат на выборах.",
        language="ru",
        id=1,
    )
    summary = summarize_event(Event(key="k", articles=(article,)), now=article.published)
    assert summary.headline == title
