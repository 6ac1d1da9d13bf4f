"""Tests for digest.events.cluster: clustering across sources, ranking, keys, developing stories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from digest.events.cluster import (
    find_events,
    find_events_baseline,
    past_event_from,
)
from digest.events.summarize import summarize_event
from digest.models import Article, Event, PastEvent

NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)

QUAKE_IRAN = (
    "A magnitude 5.9 earthquake struck Qeshm island off southern Iran on Sunday, killing "
    "seven people in the village of Dargahan, Iranian state media said. Rescue teams from "
    "Bandar Abbas reached the island by ferry. The Hormozgan governor said 40 houses collapsed."
)
QUAKE_CHILE = (
    "A magnitude 7.1 earthquake hit northern Chile near Iquique on Sunday, the Chilean "
    "navy said, and a tsunami warning was lifted after two hours. President Gabriel Boric "
    "said there were no deaths. Copper mines around Antofagasta stopped work for inspections."
)
RU_SUMMIT = (
    "Президент России Владимир Путин встретился с премьер-министром Индии Нарендрой Моди в "
    "Нью-Дели 5 декабря. Стороны подписали 12 соглашений о торговле и энергетике. Путин "
    "заявил, что товарооборот России и Индии превысил 60 млрд долларов."
)
LIBRARY = (
    "The Vienna city library reopened its reading rooms on Monday after eight months of roof "
    "repairs costing 2 million euros, mayor Michael Ludwig said."
)


def art(
    n: int,
    source: str,
    title: str,
    text: str,
    *,
    hours_ago: float = 2.0,
    language: str = "en",
    weight: float = 1.0,
    tags: tuple[str, ...] = (),
) -> Article:
    return Article(
        feed_url=f"https://{source}/feed",
        source=source,
        guid=str(n),
        url=f"https://{source}/news/{n}",
        title=title,
        published=NOW - timedelta(hours=hours_ago),
        text=text,
        language=language,
        id=n,
        weight=weight,
        tags=tags,
    )


def period() -> list[Article]:
    return [
        art(1, "irna.ir", "Quake kills seven on Iran's Qeshm island", QUAKE_IRAN),
        art(
            2,
            "bbc.co.uk",
            "Seven dead in southern Iran earthquake",
            QUAKE_IRAN.replace("struck", "hit"),
        ),
        art(3, "reuters.com", "Iran quake on Qeshm island kills 7", QUAKE_IRAN[:200]),
        art(4, "latercera.cl", "Strong quake shakes northern Chile, no deaths", QUAKE_CHILE),
        art(
            5,
            "apnews.com",
            "Chile earthquake: tsunami warning lifted",
            QUAKE_CHILE.replace("hit", "shook"),
        ),
        art(6, "tass.ru", "Путин и Моди подписали 12 соглашений", RU_SUMMIT, language="ru"),
        art(7, "ria.ru", "Путин встретился с Моди в Нью-Дели", RU_SUMMIT[:160], language="ru"),
        art(8, "wien.at", "Vienna library reopens", LIBRARY, hours_ago=1),
    ]


def groups(events: tuple[Event, ...]) -> set[frozenset[int]]:
    return {frozenset(a.id for a in e.articles if a.id is not None) for e in events}


def test_same_story_across_sources_is_one_event_and_two_quakes_are_two() -> None:
    found = find_events(period(), now=NOW)
    assert groups(found) == {
        frozenset({1, 2, 3}),
        frozenset({4, 5}),
        frozenset({6, 7}),
        frozenset({8}),
    }


def test_events_rank_by_distinct_sources_then_weights() -> None:
    found = find_events(period(), now=NOW)
    assert [len(e.sources) for e in found] == [3, 2, 2, 1]
    assert set(found[0].sources) == {"irna.ir", "bbc.co.uk", "reuters.com"}
    assert all(a.score >= b.score for a, b in pairwise(found))
    boosted = find_events(
        [*period()[:3], art(8, "wien.at", "Vienna library reopens", LIBRARY, weight=5.0)],
        now=NOW,
    )
    assert boosted[0].articles[0].id == 8  # a heavy feed outranks a three-source story


def test_tag_weights_change_the_order() -> None:
    articles = [
        art(1, "a.org", "Quake kills seven on Iran's Qeshm island", QUAKE_IRAN, tags=("world",)),
        art(2, "b.org", "Vienna library reopens", LIBRARY, tags=("local",)),
    ]
    assert find_events(articles, now=NOW, tag_weights={"local": 3.0})[0].tags == ("local",)
    assert find_events(articles, now=NOW, tag_weights={"world": 3.0})[0].tags == ("world",)


def test_key_is_stable_for_the_same_articles_in_any_order() -> None:
    first = {e.key: groups((e,)) for e in find_events(period(), now=NOW)}
    again = {e.key: groups((e,)) for e in find_events(list(reversed(period())), now=NOW)}
    assert first == again


def test_articles_a_week_apart_are_not_one_event() -> None:
    old = art(1, "a.org", "Quake kills seven on Iran's Qeshm island", QUAKE_IRAN, hours_ago=240)
    new = art(2, "b.org", "Quake kills seven on Iran's Qeshm island", QUAKE_IRAN, hours_ago=1)
    assert len(find_events([old, new], now=NOW)) == 2
    near = art(3, "c.org", "Quake kills seven on Iran's Qeshm island", QUAKE_IRAN, hours_ago=20)
    assert len(find_events([near, new], now=NOW)) == 1


def test_baseline_merges_only_near_identical_titles() -> None:
    articles = [
        art(1, "a.org", "Quake kills seven on Iran's Qeshm island - Reuters", QUAKE_IRAN),
        art(2, "b.org", "Quake kills seven on Iran's Qeshm island", QUAKE_IRAN),
        art(3, "c.org", "Seven dead in southern Iran earthquake", QUAKE_IRAN),
    ]
    assert groups(find_events_baseline(articles)) == {frozenset({1, 2}), frozenset({3})}


def test_empty_period_has_no_events() -> None:
    assert find_events([], now=NOW) == ()


def test_an_event_develops_across_two_digests() -> None:
    yesterday = NOW - timedelta(days=1)
    first_day = [
        art(1, "irna.ir", "Quake kills seven on Iran's Qeshm island", QUAKE_IRAN, hours_ago=26),
        art(2, "bbc.co.uk", "Seven dead in southern Iran earthquake", QUAKE_IRAN, hours_ago=25),
    ]
    shown = summarize_event(find_events(first_day, now=yesterday)[0], now=yesterday)
    past = past_event_from(shown)
    assert past.article_urls == tuple(a.url for a in first_day)
    assert "qeshm" in past.terms

    update = (
        "The death toll from Sunday's earthquake on Iran's Qeshm island rose to twelve on "
        "Monday as rescuers searched the ruins of Dargahan. Iranian state media said 40 "
        "houses collapsed and aftershocks kept families outdoors."
    )
    second_day = [
        art(9, "irna.ir", "Qeshm quake toll rises to twelve", update, hours_ago=2),
        art(4, "latercera.cl", "Strong quake shakes northern Chile, no deaths", QUAKE_CHILE),
    ]
    found = find_events(second_day, now=NOW, past=[past])
    developing = next(e for e in found if e.continues)
    assert developing.continues == past.key
    assert developing.key == past.key
    assert developing.developing_since == past.first_seen
    assert developing.new_article_ids == (9,)
    assert not next(e for e in found if not e.continues).developing_since

    summary = summarize_event(developing, now=NOW)
    assert summary.sentences[0].article_id == 9  # what is new comes first


def test_new_articles_join_an_event_already_shown_in_this_period() -> None:
    first = period()[:2]
    past = past_event_from(summarize_event(find_events(first, now=NOW)[0], now=NOW))
    found = find_events([*first, period()[2]], now=NOW, past=[past])
    assert found[0].continues == past.key
    assert found[0].new_article_ids == (3,)


def test_a_past_event_is_continued_by_one_event_only() -> None:
    early = art(1, "a.org", "Quake kills seven on Iran's Qeshm island", QUAKE_IRAN, hours_ago=200)
    late = art(2, "b.org", "Quake kills seven on Iran's Qeshm island", QUAKE_IRAN, hours_ago=1)
    terms = find_events([late], now=NOW)
    past = PastEvent(
        key="shown",
        headline="Quake on Qeshm",
        first_seen=NOW - timedelta(days=9),
        article_urls=("https://elsewhere.org/1",),
        terms=past_event_from(summarize_event(terms[0], now=NOW)).terms,
    )
    found = find_events([early, late], now=NOW, past=[past])
    assert len(found) == 2  # eight days apart: two events
    assert [e.continues for e in found].count("shown") == 1
    assert len({e.key for e in found}) == 2
