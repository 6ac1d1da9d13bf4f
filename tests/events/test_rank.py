"""News first: not-news pages told apart and listed last (or dropped), events ranked by
importance rather than recency, outlets counted once however many feeds carry them.

Real pages: tests/data/eval/news-or-not-tgcontest.jsonl (Telegram Data Clustering Contest,
Apache-2.0, tests/data/eval/LICENSE-tgcontest).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from localdigest import digest_text

from digest.events import rank
from digest.events.cluster import find_events
from digest.models import Article, Event

DATA = Path(__file__).parent.parent / "data" / "eval" / "news-or-not-tgcontest.jsonl"
NOW = datetime(2020, 5, 16, 9, 0, tzinfo=UTC)


def pages() -> list[dict[str, str]]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]


def article(title: str, text: str = "", *, url: str = "", hours: float = 1.0, **kw: str) -> Article:
    return Article(
        feed_url=kw.get("feed_url", "https://site.example/rss"),
        source=kw.get("source", "Site"),
        guid=url or title,
        url=url or f"https://site.example/{abs(hash(title))}",
        title=title,
        published=NOW - timedelta(hours=hours),
        text=text,
        language="ru",
        outlet=kw.get("outlet", ""),
    )


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("Гороскоп на сегодня: 16 мая 2020 года", "horoscope"),
        ("Сильный ветер, но без снега: прогноз погоды в Хабаровском крае на 16 ноября", "weather forecast"),
        ("10 правил идеальных выходных", "how-to"),
        ("Как выбрать зимние шины", "how-to"),
        ("The 6 Best Humidifiers For Winter", "how-to"),
        ("?GTA 5 RP? Сериал «Лысые разборки» Серия 1 +Розыгрыш!!!", "contest"),
        ("Sudoku 2,596 easy", "puzzle"),
        ("Скидки до 70% на зимнюю одежду", "advert"),
    ],
)  # fmt: skip
def test_not_news_pages_are_told_by_their_titles(title: str, kind: str) -> None:
    assert rank.not_news_kind(article(title)) == kind


@pytest.mark.parametrize(
    "title",
    [
        "Россия обогнала США и страны Евросоюза по экспорту зерна",
        "Как Трамп проиграл выборы",  # "how" of a story, not how-to
        "5 человек погибли при пожаре в Подмосковье",
        "Trade deal talks stall as tariffs loom",
        "Facing shorter holiday season, US retailers rev up faster delivery, early deals",
        "Акция протеста прошла в центре Москвы",
    ],
)
def test_news_is_news(title: str) -> None:
    assert rank.not_news_kind(article(title)) == ""


def test_a_horoscope_is_told_by_its_lead_when_the_title_hides_it() -> None:
    lead = "Овны почувствуют себя главными везунчиками, а Водолеи будут стремиться к стабильности."
    assert rank.not_news_kind(article("Что ждёт нас в пятницу", lead)) == "horoscope"


def _events(policy: rank.NotNews) -> list[Event]:
    # The horoscope is the freshest page: ranked by recency it led the digest.
    found = find_events(
        [article(p["title"], p["text"], url=p["url"], hours=1 + i) for i, p in enumerate(pages())],
        now=NOW,
    )
    return list(rank.news_first(found, (), policy)[0])


def test_not_news_is_listed_after_the_news_by_default() -> None:
    events = _events("last")
    flags = [e.not_news for e in events]
    assert flags == sorted(flags)  # every news event before every not-news event
    # two horoscopes, a weather forecast, a list of rules, an explainer
    assert sum(flags) == 5
    assert not any(e.not_news for e in events[:5])


def test_not_news_dropped_or_kept_in_rank() -> None:
    assert not any(e.not_news for e in _events("drop"))
    assert len(_events("drop")) == len(_events("keep")) - 5


def test_importance_counts_outlets_not_feeds_and_names_not_minutes() -> None:
    one_site = Event(
        key="a",
        articles=(
            article("Пожар в Москве", url="https://lenta.ru/a", feed_url="https://lenta.ru/rss/a"),
            article("Пожар в Москве", url="https://lenta.ru/b", feed_url="https://lenta.ru/rss/b"),
        ),
    )
    aggregator = Event(
        key="b",
        articles=(
            article("Пожар в Москве", url="https://news.example/1", outlet="ТАСС"),
            article("Пожар в Москве", url="https://news.example/2", outlet="Интерфакс"),
        ),
    )
    assert rank.importance(aggregator, NOW, {}) > rank.importance(one_site, NOW, {})
    named = Event(key="c", articles=(article("Путин встретился с Макроном в Париже", hours=9),))
    fresh = Event(key="d", articles=(article("Встреча прошла в пятницу", hours=0),))
    assert rank.importance(named, NOW, {}) > rank.importance(fresh, NOW, {})


def _feed(path: Path, items: list[dict[str, str]]) -> None:
    body = "".join(
        f"<item><title>{escape(p['title'])}</title><link>{escape(p['url'])}</link>"
        f"<guid>{escape(p['id'])}</guid>"
        f"<pubDate>{format_datetime(NOW - timedelta(hours=1 + i))}</pubDate>"
        f"<description>{escape(p['text'])}</description></item>"
        for i, p in enumerate(items)
    )
    path.write_text(
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Лента'
        f"</title><language>ru</language>{body}</channel></rss>",
        encoding="utf-8",
    )


@pytest.mark.parametrize("policy", ["", "drop"])
def test_a_digest_opens_with_news(tmp_path: Path, policy: str) -> None:
    _feed(tmp_path / "feed.xml", pages())
    setting = f'not_news = "{policy}"\n' if policy else ""
    text = digest_text(tmp_path, '[[feed]]\nurl = "feed.xml"\n', NOW, setting)
    first = text.index("Россия обогнала") if "Россия обогнала" in text else len(text)
    horoscope = text.find("Гороскоп на сегодня")
    if policy == "drop":
        assert horoscope == -1
    else:
        assert first < horoscope
