"""Tests for digest.events.facts: dates resolved against the publish date, and names sorted by kind."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from digest.events.facts import find_dates, find_facts

SATURDAY = datetime(2018, 10, 27, 9, 0, tzinfo=UTC)


def dates(text: str, language: str = "en") -> list[tuple[date, str, bool]]:
    return [(d.when, d.text, d.approximate) for d in find_dates(text, SATURDAY, language)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Elections will be held in the US on 6 November.",
            (date(2018, 11, 6), "6 November", False),
        ),
        (
            "The next meeting is scheduled for November 11 in Paris.",
            (date(2018, 11, 11), "November 11", False),
        ),
        (
            "Talks took place in July this year in Helsinki.",
            (date(2018, 7, 15), "in July this year", True),
        ),
        (
            "In mid-February, the government was charged with fraud.",
            (date(2018, 2, 15), "mid-February", True),
        ),
        ("A vote is due in mid-February.", (date(2019, 2, 15), "mid-February", True)),
        ("The ministers will meet next Tuesday.", (date(2018, 10, 30), "next Tuesday", False)),
        ("The summit opens on Jan. 5, 2019.", (date(2019, 1, 5), "Jan. 5, 2019", False)),
        ("Выборы пройдут 6 ноября.", (date(2018, 11, 6), "6 ноября", False)),
        ("Встреча состоялась 16 июля в Хельсинки.", (date(2018, 7, 16), "16 июля", False)),
        (
            "В середине февраля министр заявил о планах.",
            (date(2018, 2, 15), "В середине февраля", True),
        ),
        ("Саммит пройдёт в следующий вторник.", (date(2018, 10, 30), "в следующий вторник", False)),
    ],
)
def test_dates_resolve_against_the_publish_date(
    text: str, expected: tuple[date, str, bool]
) -> None:
    language = "ru" if any("а" <= ch <= "я" for ch in text.lower()) else "en"
    assert dates(text, language) == [expected]


def test_words_that_look_like_months_are_not_dates() -> None:
    assert dates("Prices may 15 times rise as markets march on.") == []
    assert dates("В 5 машинах нашли оружие.", "ru") == []


def test_dated_items_keep_their_sentence_as_label() -> None:
    (item,) = find_dates(
        "Intro line.\nElections will be held on 6 November. Other news.", SATURDAY, "en"
    )
    assert item.label == "Elections will be held on 6 November."


def test_people_places_and_organisations_in_english() -> None:
    facts = find_facts(
        [
            "Russian President Vladimir Putin met Donald Trump in Helsinki. "
            "The press Secretary of the President of Russia Dmitry Peskov said the talks went well. "
            "Putin later flew to Moscow. NATO and the European Commission welcomed the talks.",
        ],
        "en",
    )
    assert facts.people[0] == "Vladimir Putin"  # "Putin" alone counts for him
    assert {"Donald Trump", "Dmitry Peskov"} <= set(facts.people)
    assert {"Helsinki", "Moscow"} <= set(facts.places)
    assert {"NATO", "European Commission"} <= set(facts.organisations)


def test_people_places_and_organisations_in_russian() -> None:
    facts = find_facts(
        [
            "Президент России Владимир Путин встретился с Нарендрой Моди в Нью-Дели. "
            "МИД сообщил о 12 соглашениях. Закон обсудит Госдума, переговоры прошли в Москве."
        ],
        "ru",
    )
    assert "Владимир Путин" in facts.people
    assert {"Нарендра Моди"} <= set(facts.people)
    assert {"Москва", "Нью-Дели"} <= set(facts.places)  # in the nominative
    assert {"МИД", "Госдума"} <= set(facts.organisations)


def test_photo_credits_are_not_people() -> None:
    facts = find_facts(["© AP Photo / Andrew Harnik\nThe US President Donald Trump spoke."], "en")
    assert "Andrew Harnik" not in facts.people


def test_quoted_titles_are_not_people_and_long_names_stay_whole() -> None:
    facts = find_facts(
        [
            'She starred in "Bathing Beauty," with Tony Thompson. «Vladimir Putin is right,» '
            "said Angela Merkel. The United States Geological Survey and the United Arab "
            "Emirates agreed."
        ],
        "en",
    )
    assert facts.people == ("Tony Thompson", "Vladimir Putin", "Angela Merkel")
    assert facts.organisations == ("United States Geological Survey",)
    assert facts.places == ("United Arab Emirates",)


def english(text: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    facts = find_facts([text], "en")
    return facts.people, facts.organisations, facts.places


def test_speech_and_headline_words_are_not_people() -> None:
    people, _, _ = english(
        '"I got caught but I\'m OK," Thompson said. "Choosing DeGeneres was easy," wrote '
        "Seth MacFarlane. She starred in Take Me Out to the Ball Game. Hire Maurice Cheeks, "
        "said Sam Williams. An Indian Naval ship sailed as Somerset Fire crews fought the fire."
    )
    assert set(people) == {"Seth MacFarlane", "Maurice Cheeks", "Sam Williams"}


def test_works_outlets_and_things_with_an_article_are_not_people() -> None:
    people, organisations, _ = english(
        "Gary Ross may leave The Hunger Games. The Hollywood Reporter says Gary Ross asks more. "
        "Raj Chohan was struck by a silver Toyota Camry. The BBC's Frances Harrison reports."
    )
    assert set(people) == {"Gary Ross", "Raj Chohan", "Frances Harrison"}
    # Outlets are the story's sources, not organisations it is about.
    assert not {"Hollywood Reporter", "BBC"} & set(organisations)


def test_roles_of_places_are_not_people_and_places_follow_place_words() -> None:
    people, _, places = english(
        "The quake struck the city of Bandar Abbas. Heydar Alishbandi, Governor of Qeshm "
        "island, said villages near Qeshm City were hit. Alaska Gov. Sarah Palin spoke "
        "in Atlanta's Fulton County and in East Flatbush, near the Gulf of Aden."
    )
    assert set(people) == {"Heydar Alishbandi", "Sarah Palin"}
    assert {"Bandar Abbas", "Qeshm City", "Atlanta", "Fulton County", "East Flatbush"} <= set(
        places
    )
    assert "Gulf of Aden" in places


def test_codes_units_and_time_zones_are_not_organisations() -> None:
    _, organisations, places = english(
        "Pirates carried AK-47 rifles. The quake struck at 1023 GMT. It was his 51st win by KO, "
        "the WBC said. PUBLISHED: 10 March. Protesters tossed in Molotov cocktails."
    )
    assert organisations == ("WBC",)
    assert "Molotov" not in places


def test_teams_middle_initials_and_lines() -> None:
    people, organisations, _ = english(
        "Carlos Delgado joined the New York Mets under President Franklin D. Roosevelt.\n"
        "Ivan Golunov\nSergei Badamshin said nothing."
    )
    assert "New York Mets" in organisations
    assert {"Carlos Delgado", "Franklin D. Roosevelt", "Ivan Golunov"} <= set(people)
    assert not any("Golunov Sergei" in p for p in people)


def test_russian_titles_acronyms_and_institutions_before_people() -> None:
    facts = find_facts(
        [
            "Адвокат Николай Полозов подал жалобу, сообщил МИД РФ. Студент ВШЭ Егор Жуков "
            "выступил. Суд арестовал кандидата в Мосгордуму Юлию Галямину.\n"
            "Ивана Голунова\nСергей Бадамшин пожаловался. Жалобу подал адвокат Ивана "
            "Голунова Сергей Бадамшин."
        ],
        "ru",
    )
    assert {"Николай Полозов", "Егор Жуков", "Юлия Галямина"} <= set(facts.people)
    assert not any("Адвокат" in p or "ВШЭ" in p or "РФ" in p for p in facts.people)
    assert {"МИД РФ", "Мосгордума"} <= set(facts.organisations)
    assert "Юлия Галямина" not in facts.places
    assert not any("Голунова Сергей" in p for p in facts.people)


def test_adverbs_roman_numerals_and_plural_possessives() -> None:
    people, organisations, _ = english(
        "Ironically Nichols smiled. Anthony LaCalamita III was charged at the Taunton Deane "
        "Magistrates' Court with Brian Nichols."
    )
    assert set(people) == {"Brian Nichols", "Anthony LaCalamita III"}
    assert organisations == ("Taunton Deane Magistrates Court",)


def test_english_aliases_are_one_entity_of_the_right_kind() -> None:
    # "US Geological Survey" and "United States Geological Survey" were both listed,
    # and "UAE" was an organisation
    people, organisations, places = english(
        "The US Geological Survey said the quake hit Iran. The United States Geological Survey "
        "(USGS) measured it. Officials in the UAE sent aid. Trump's envoy met Donald Trump. "
        "The U.S. Navy and the US Navy replied."
    )
    assert [o for o in organisations if "Geological" in o or o == "USGS"] == [
        "United States Geological Survey"
    ]
    assert "UAE" in places and "UAE" not in organisations
    assert people == ("Donald Trump",)
    assert len([o for o in organisations if o.endswith("Navy")]) == 1


def test_acronym_follows_its_expansion_into_places() -> None:
    _, organisations, places = english(
        "The United Arab Emirates closed the port. The UAE said the United Arab Emirates would "
        "reopen it."
    )
    assert places == ("United Arab Emirates",)
    assert organisations == ()


def test_a_date_inside_a_name_is_no_dated_event() -> None:
    published = datetime(2018, 10, 27, tzinfo=UTC)
    for text in (
        "Security was tightened after the September 11 attacks.",
        "The 9/11 memorial reopened.",
        "После терактов 11 сентября США ужесточили правила.",
    ):
        assert find_dates(text, published, "ru" if "США" in text else "en") == []
    dated = find_dates("The September 11 meeting will decide.", published, "en")
    assert [d.when for d in dated] == [date(2019, 9, 11)]


def test_acronym_of_a_name_that_lost_its_article() -> None:
    _, organisations, _ = english(
        "Gary Ross is in talks, The Weather Company said. TWC reported that Lionsgate agreed."
    )
    assert "TWC" not in organisations and "Weather Company" in organisations
