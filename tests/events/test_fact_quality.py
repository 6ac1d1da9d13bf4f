"""Key facts of real agency news as a subscriber reads them: each name in a form the text
supports, the story's own names only, each entity once.

The articles are crawled news of the Telegram Data Clustering Contest (Apache-2.0,
tests/data/eval/LICENSE-tgcontest), as `tests/data/eval/reader-facts-tgcontest.jsonl` keeps
them: datelines, credits and related-link tails left in.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest

from digest.events.fact_text import fact_text
from digest.events.facts import find_facts, one_per_entity
from digest.events.summarize import event_facts
from digest.models import Article, Event, KeyFacts

DATA = Path(__file__).parent.parent / "data" / "eval" / "reader-facts-tgcontest.jsonl"


@cache
def _items() -> dict[str, dict[str, str]]:
    lines = DATA.read_text(encoding="utf-8").splitlines()
    return {item["id"]: item for item in map(json.loads, lines)}


def facts_of(item_id: str) -> KeyFacts:
    item = _items()[item_id]
    return find_facts([item["text"]], item["language"], limit=None)


def names_of(item_id: str) -> set[str]:
    facts = facts_of(item_id)
    return {*facts.people, *facts.organisations, *facts.places}


@pytest.mark.parametrize(
    ("item_id", "kind", "right", "wrong"),
    [
        # pymorphy's guesses read unknown surnames as adjectives: «Волочковой» -> «Волочковая»
        ("ru-news-125", "people", "Анастасия Волочкова", "Анастасия Волочковая"),
        ("ru-news-159", "people", "Анастасия Волочкова", "Анастасия Волочковая"),
        ("ru-news-153", "people", "Игорь Сосин", "Игорь Сосиный"),
        ("ru-news-264", "people", "Ирина Созинова", "Ирина Созиновая"),
        # «Петером Тэгтгреном — вместе они…»: a dash after a name made it a subject
        ("ru-news-151", "people", "Петер Тэгтгрен", "Петером Тэгтгреном"),
        # a hyphenated first name: the dictionary inflected its last part only
        ("ru-news-142", "people", "Хуан-Себастьян Кабала", "Хуана-Себастьян Кабала"),
        # a participle in a name, and two heads joined by «и»
        ("ru-news-224", "places", "Соединенные Штаты", "Соединенных Штаты"),
        ("ru-news-138", "places", "Босния и Герцеговина", "Босния и Герцеговины"),
    ],
)
def test_russian_names_are_in_a_form_the_text_supports(
    item_id: str, kind: str, right: str, wrong: str
) -> None:
    names = getattr(facts_of(item_id), kind)
    assert right in names
    assert wrong not in names


def test_the_parts_of_a_coordinated_name_are_not_listed_again() -> None:
    places = facts_of("ru-news-138").places
    # was «Италия, Босния и Герцеговины, Босния, Герцеговина»
    assert "Босния" not in places and "Герцеговина" not in places


@pytest.mark.parametrize(
    ("item_id", "junk"),
    [
        ("ru-news-328", "Начислено вознаграждениеЭта"),  # a site's notice glued to the lead
        ("ru-news-106", "Елизавета ЧерняковаФото"),  # a byline glued to a photo credit
        ("ru-news-218", "Тойота"),  # a car, said by its owner
        ("ru-news-186", "Откроет"),  # a verb opening a sentence whose full stop was lost
        ("ru-news-259", "улица"),  # a lower-case word
        ("ru-news-262", "ГерманииТони"),  # two words glued by a lost space
    ],
)
def test_junk_is_no_name(item_id: str, junk: str) -> None:
    assert junk not in names_of(item_id)


def test_glued_words_are_parted_so_the_name_is_found() -> None:
    assert "Тони Кроос" in facts_of("ru-news-262").people
    assert "Елизавета Чернякова" in facts_of("ru-news-106").people


def test_a_street_named_after_someone_is_the_place() -> None:
    assert "Улица Карбышева" in facts_of("ru-news-259").places
    assert "Карбышев" not in names_of("ru-news-259")


@pytest.mark.parametrize(
    ("item_id", "outlets"),
    [
        ("ru-news-101", {"INTERFAX.RU", "Интерфакс"}),
        ("ru-news-186", {"INTERFAX.RU", "Интерфакс"}),
        ("ru-news-220", {"РИА Новости"}),
        ("ru-news-303", {"ТАСС"}),
        ("ru-news-138", {"Евро-Футбол.Ру"}),
        ("tgcat-0124", {"REUTERS", "Reuters"}),
        ("tgcat-0149", {"Reuters"}),
        ("tgcat-0138", {"Reuters"}),
        ("tgcat-0108", {"AFP"}),
    ],
)
def test_outlets_are_sources_not_organisations(item_id: str, outlets: set[str]) -> None:
    assert not outlets & names_of(item_id)


def test_bylines_are_not_people() -> None:
    assert "Мария Федорова" not in names_of("ru-news-276")  # «… Автор: Мария Федорова»
    # "(Reporting by Aishwarya Venugopal in Bengaluru …; Editing by Leslie Adler)"
    people = facts_of("tgcat-0124").people
    assert not {"Aishwarya Venugopal", "Nandita Bose", "Leslie Adler"} & set(people)
    assert "Brian Cornell" in people


def test_datelines_are_not_places() -> None:
    assert "МОСКВА" not in names_of("ru-news-220")  # «МОСКВА, 17 ноя — РИА Новости.»
    assert "Сан-Диего" in facts_of("ru-news-220").places
    # "… sources told Reuters. PARIS/LONDON/FRANKFURT: European investment firm …"
    assert not {"PARIS", "LONDON", "FRANKFURT"} & names_of("tgcat-0149")
    assert "ANKARA" not in names_of("tgcat-0138")  # "ANKARA (Reuters) - …"


def test_names_of_related_links_are_not_the_storys() -> None:
    # A DNA study of Finns, followed by «Читайте также» and fifteen gossip headlines.
    facts = facts_of("ru-news-214")
    assert "Финляндия" in facts.places
    assert not {"Андрей Малахов", "Анастасия Волочкова", "Ксения Собчак"} & set(facts.people)


def test_spelling_variants_and_aliases_are_one_entry() -> None:
    people = facts_of("ru-news-303").people
    # «Эммануэль Макрон» in the lead, «Эмманюэлем Макроном» in the White House's quote
    assert [p for p in people if p.endswith("Макрон")] == ["Эммануэль Макрон"]
    facts = find_facts(["Россия и РФ — одно и то же. Москва — столица России."], "ru")
    assert len({"Россия", "РФ"} & set(facts.places)) == 1


def test_fact_text_keeps_the_story() -> None:
    text = (
        "МОСКВА, 17 ноя — РИА Новости. Ученые из Калифорнии испытали способ. Автор: Мария Федорова"
    )
    assert fact_text(text) == ", 17 ноя — РИА Новости. Ученые из Калифорнии испытали способ.  "


def test_the_demos_seed_story_lists_donald_trump() -> None:
    # The machine-translated seed article of the sample feeds writes "Donald trump".
    seed = (Path(__file__).parent.parent / "data" / "pages" / "seed-article.txt").read_text(
        encoding="utf-8"
    )
    title, text = seed.split("\n", 1)
    article = Article(
        feed_url="https://agency-ru-en.example/en/rss",
        source="Agency RU (EN)",
        guid="seed",
        url="https://agency-ru-en.example/en/20181027/trump-victory-worst-thing-russia.html",
        title=title,
        published=datetime(2018, 10, 27, 9, tzinfo=UTC),
        text=text,
        language="en",
    )
    people = event_facts(Event(key="seed", articles=(article,))).people
    assert people[0] == "Donald Trump"


def test_a_form_kept_as_found_joins_its_nominative() -> None:
    counts = {
        "people": {},
        "organisations": {"Кредитинвест": 2, "Кредитинвеста": 1},
        "places": {"Тулун": 1, "Тулуна": 2, "Ивановская область": 2, "Ивановская области": 1},
    }
    merged = one_per_entity(counts)
    assert merged["organisations"] == {"Кредитинвест": 3}
    assert merged["places"] == {"Тулун": 3, "Ивановская область": 3}
    # other names that look alike stay apart
    apart = one_per_entity(
        {"people": {}, "organisations": {}, "places": {"Швеция": 1, "Швейцария": 1}}
    )
    assert apart["places"] == {"Швеция": 1, "Швейцария": 1}
