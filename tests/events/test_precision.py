"""Same story, and only the same story: pairs the events stage used to fuse.

The texts are real crowd-labelled pairs (tests/data/eval/pairs-tgcontest-fused.jsonl,
Apache-2.0); each different-story pair below was one event before identity terms, the
title's own evidence and differing days were weighed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from digest.events.cluster import find_events
from digest.events.similarity import article_features, days_conflict
from digest.events.text import dates_in, identity_terms
from digest.models import Article

DATA = Path(__file__).resolve().parents[1] / "data" / "eval" / "pairs-tgcontest-fused.jsonl"
NOW = datetime(2019, 11, 20, 7, 0, tzinfo=UTC)
FUSED = {
    "tg-0045": "weather forecasts for 8 and for 16 November",
    "tg-0003": "a Strictly Come Dancing exit and a dancer's divorce",
    "tg-0007": "two Liverpool stories",
    "tg-0010": "a Hong Kong festival cancelled and a student's death",
    "tg-0058": "two Kazakh parliament stories",
    "tg-0065": "Kazan's self-isolation index on 4 May and on Victory Day (9 May)",
}


def load() -> list[dict[str, Any]]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]


def article(n: int, side: dict[str, str], language: str, hours_ago: float = 3.0) -> Article:
    return Article(
        feed_url=f"https://s{n}.example/feed",
        source=f"s{n}.example",
        guid=str(n),
        url=f"https://s{n}.example/{n}",
        title=side["title"],
        published=NOW - timedelta(hours=hours_ago),
        text=side["text"],
        language=language,
        id=n,
    )


def same_event(items: list[dict[str, Any]]) -> dict[str, bool]:
    """Return, per pair id, whether both sides land in one event when all go in together."""
    articles = [
        article(2 * i + k, item[side], item["language"])
        for i, item in enumerate(items)
        for k, side in enumerate("ab")
    ]
    event_of = {a.id: e.key for e in find_events(articles, now=NOW) for a in e.articles}
    return {item["id"]: event_of[2 * i] == event_of[2 * i + 1] for i, item in enumerate(items)}


def test_the_fixture_holds_the_fused_pairs_and_same_story_controls() -> None:
    items = load()
    assert {i["id"] for i in items if not i["same_event"]} == set(FUSED)
    assert sum(1 for i in items if i["same_event"]) == 5


@pytest.mark.parametrize("pair", sorted(FUSED))
def test_a_fused_pair_is_split_among_the_others(pair: str) -> None:
    assert same_event(load())[pair] is False, FUSED[pair]


@pytest.mark.parametrize("pair", sorted(FUSED))
def test_a_fused_pair_is_split_on_its_own(pair: str) -> None:
    (item,) = [i for i in load() if i["id"] == pair]
    assert same_event([item])[pair] is False, FUSED[pair]


def test_same_story_pairs_stay_joined() -> None:
    joined = same_event(load())
    same = [i["id"] for i in load() if i["same_event"]]
    assert [p for p in same if not joined[p]] == []  # 121 vs 120 medics is one story


def test_days_are_read_in_russian_and_english() -> None:
    assert dates_in("Прогноз погоды на 8 ноября") == {(11, 8)}
    assert dates_in("в субботу, 16-го ноября, и 3 Dec. ") == {(11, 16), (12, 3)}
    assert dates_in("On March 16 , 2012 and May 5th; in May 2019") == {(3, 16), (5, 5)}
    assert dates_in("They may 12 times") == set()  # no day: 12 is followed by no month


def test_days_known_by_name_are_their_dates() -> None:
    assert dates_in("Казань оказалась на последнем месте в День Победы") == {(5, 9)}
    assert dates_in("парад ко Дню Победы; площадь Победы") == {(5, 9)}  # a square is no day
    assert dates_in("Дня народного единства и Международный женский день") == {(11, 4), (3, 8)}
    assert dates_in("On Christmas Day and New Year's Eve; Christmas shopping") == {
        (12, 25),
        (12, 31),
    }
    assert dates_in("победы над Россией; a day at Christmas") == set()


def test_a_day_named_by_name_conflicts_with_another_day_in_the_lead() -> None:
    (item,) = [i for i in load() if i["id"] == "tg-0065"]
    a, b = (article(k, item[side], "ru") for k, side in enumerate("ab"))
    features = article_features([a, b])
    assert features.own_days == (frozenset({(5, 4)}), frozenset({(5, 9)}))  # «в День Победы»
    assert days_conflict(features, 0, 1, later=None)


def forecast(n: int, day: str, hours_ago: float, extra: str = "") -> Article:
    text = (
        f"По информации Амурского ЦГМС, {day} ночью в отдельных районах Амурской области "
        f"ожидается слабый снег. В Благовещенске ветер северо-западный. {extra}"
    )
    return article(n, {"title": f"Прогноз погоды на {day}", "text": text}, "ru", hours_ago)


def test_different_days_are_evidence_against_unless_the_later_is_an_update() -> None:
    a = forecast(1, "8 ноября", 30)
    b = forecast(2, "16 ноября", 2)
    c = forecast(3, "9 ноября", 2, "Обновлено: прогноз уточнён.")
    d = forecast(4, "9 ноября", 2, "Ранее синоптики обещали снег на 8 ноября.")
    features = article_features([a, b, c, d])
    assert days_conflict(features, 0, 1, later=1)
    assert not days_conflict(features, 0, 2, later=2)  # says it is an update
    assert not days_conflict(features, 0, 3, later=3)  # names the earlier day too
    assert len(find_events([a, b], now=NOW)) == 2


def test_names_are_one_term_whatever_their_case_and_sentence_openers_are_not_names() -> None:
    terms = identity_terms(
        "Путин встретился с Моди",
        "Владимира Путина встретили в Нью-Дели. Ветер был сильный, ветер стих к вечеру.",
        "ru",
    )
    assert terms.count("путин") == 2
    assert "ветер" not in terms  # written in lower case too: a common word
