"""Photo credits and captions never reach summaries or key facts, in either language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from digest.events.summarize import summarize_event
from digest.models import Article, Event
from digest.text import is_credit_or_caption, strip_inline_credits

CAPTION = "Вертолет тушит лесной пожар в Красноярском крае. 4 августа 2019 года"
FIRE = (
    f"{CAPTION}\n"
    "Обширные лесные пожары, которые начались в Иркутской области в конце июня, продолжаются "
    "уже месяц, а их площадь готовится побить все рекорды.\n"
    "Первые неконтролируемые пожары начались в Иркутской области и начали быстро разрастаться.\n"
    "Фото в\xa0анонсе: Александр Неменов / AFP / Scanpix / LETA"
)


@pytest.mark.parametrize(
    "line",
    [
        "Фото в\xa0анонсе: Александр Неменов / AFP / Scanpix / LETA",
        "Фото: РИА Новости",
        "Источник фото: ТАСС",
        "© Reuters",
        "Photo: John Doe/Reuters",
        CAPTION,
        "Firefighters battle a blaze near Malibu, Calif., Nov. 9, 2018.",
        "На фото: Владимир Путин",
    ],
)
def test_credits_and_captions_are_recognised(line: str) -> None:
    assert is_credit_or_caption(line)


@pytest.mark.parametrize(
    "line",
    [
        "Выборы пройдут 6 ноября 2019 года.",
        "Встреча состоится 4 августа 2019 года",
        "Brexit - what happens next?",
    ],
)
def test_story_lines_are_not_credits(line: str) -> None:
    assert not is_credit_or_caption(line)


def test_a_dated_line_after_the_lead_is_story() -> None:
    assert not is_credit_or_caption("Суд вынес решение. 4 августа 2019 года", leading=False)


def test_inline_credit_is_removed() -> None:
    text = "Trump spoke in Ohio on Monday (AP Photo/Evan Vucci) before he left."
    assert strip_inline_credits(text) == "Trump spoke in Ohio on Monday before he left."


def test_summary_and_facts_skip_caption_and_credit() -> None:
    article = Article(
        feed_url="https://meduza.io/rss/all",
        source="Медуза",
        guid="1",
        url="https://meduza.io/feature/2019/08/06/more-ognya",
        title="Море огня",
        published=datetime(2019, 8, 6, tzinfo=UTC),
        text=FIRE,
        language="ru",
        id=1,
    )
    summary = summarize_event(
        Event(key="k", articles=(article,)), sentences=2, now=article.published
    )
    assert summary.sentences[0].text.startswith("Обширные лесные пожары")
    assert not any("Вертолет" in s.text or "Фото" in s.text for s in summary.sentences)
    assert "Александр Неменов" not in summary.facts.people
    assert not {"AFP", "Scanpix", "LETA"} & set(summary.facts.organisations)
