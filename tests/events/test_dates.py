"""Dates that are true: no invented day, no word read as a date, ranges by their start.

Each case is a date a reader found wrong in a digest of real Russian and English news.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from digest.events.dates import find_dates

PUBLISHED = datetime(2019, 11, 18, 9, 0, tzinfo=UTC)
LABEL_CHARS = 160  # a label is one line of the digest


def _found(text: str, language: str = "ru") -> list[tuple[date, str]]:
    return [(d.when, getattr(d, "part", "?")) for d in find_dates(text, PUBLISHED, language)]


def test_a_word_that_starts_like_a_date_word_is_no_date() -> None:
    assert _found("Учёные рассказали об идеальной диете для завтрака и ужина.") == []
    assert _found("Завтра в Москве пройдёт парад.") == [(date(2019, 11, 19), "")]


def test_a_date_inside_a_name_is_no_date() -> None:
    text = "Фестиваль японского кино пройдёт в кинотеатре «КАРО 11 Октябрь» с 19 по 24 ноября."
    assert _found(text) == [(date(2019, 11, 19), "")]


def test_a_range_gives_its_start() -> None:
    assert _found("Биеннале пройдёт с 20 по 25 ноября в Баку.") == [(date(2019, 11, 20), "")]
    assert _found("Распродажа пройдёт 23 и 24 ноября.") == [(date(2019, 11, 23), "")]
    assert _found("The fair runs 30 November – 2 December in Leeds.", "en") == [
        (date(2019, 11, 30), "")
    ]
    assert _found("The show runs November 20-24 in Paris.", "en") == [(date(2019, 11, 20), "")]


def test_vague_dates_keep_how_vague_they_are() -> None:
    assert _found("Итоги экспертизы будут известны в конце ноября.") == [
        (date(2019, 11, 25), "late")
    ]
    assert _found("Prices will rise again in mid-February.", "en") == [(date(2020, 2, 15), "mid")]
    assert _found("Talks took place in July this year.", "en") == [(date(2019, 7, 15), "month")]
    assert _found("Смартфон поступит в продажу в январе следующего года.") == [
        (date(2020, 1, 15), "month")
    ]


def test_a_concert_that_took_place_is_in_the_past() -> None:
    # published in November: «20 декабря» in a past-tense sentence is last December's
    assert _found("Концерт прошёл 20 декабря в Москве.") == [(date(2018, 12, 20), "")]
    assert _found("Концерт состоялся 20 декабря в Москве.") == [(date(2018, 12, 20), "")]
    assert _found("В прошлом году 20 декабря группа выступила в Москве.") == [
        (date(2018, 12, 20), "")
    ]
    assert _found("Концерт состоится 20 декабря в Москве.") == [(date(2019, 12, 20), "")]


def test_a_long_sentence_keeps_the_clause_with_its_date() -> None:
    sentence = (
        "Министерство, которое в последние годы неоднократно пересматривало правила "
        "проведения экспертизы и публикации её результатов для всех участников рынка, "
        "сообщило, что итоги экспертизы будут известны 20 декабря, после заседания комиссии."
    )
    (item,) = find_dates(sentence, PUBLISHED, "ru")
    assert len(item.label) <= LABEL_CHARS + 1
    assert "итоги экспертизы будут известны 20 декабря" in item.label
    assert item.label.startswith("…")


def test_a_weekday_beside_the_day_fixes_its_year() -> None:
    # published 18 November 2019: "Saturday, November 9" is the 9th just gone (a Saturday in
    # 2019), not November 2020; «в субботу, 16 ноября» likewise
    assert _found("NEXT UP: Fulham (h), Saturday, November 9, 3pm kick-off", "en") == [
        (date(2019, 11, 9), "")
    ]
    assert _found("Ariana is next scheduled to perform on Sunday (November 17).", "en") == [
        (date(2019, 11, 17), "")
    ]
    assert _found("Матч пройдёт в субботу, 16 ноября.") == [(date(2019, 11, 16), "")]


def test_a_year_cue_belongs_to_the_date_beside_it() -> None:
    text = "Thanksgiving falls on Nov. 28 this year, a week later than last year's Nov. 22."
    assert _found(text, "en") == [(date(2019, 11, 28), ""), (date(2018, 11, 22), "")]


def test_between_one_day_and_another_is_a_range() -> None:
    text = "Retail sales are expected to rise 3.1 per cent between Nov. 1 and Dec. 24."
    assert _found(text, "en") == [(date(2019, 11, 1), "")]


def test_today_beside_a_day_and_the_publish_day_itself() -> None:
    # «сегодня, 17 ноября» in a story filed a day late is not next year's 17 November
    assert _found("Матч Сербия – Украина состоится сегодня, 17 ноября, в Белграде.") == [
        (date(2019, 11, 17), "")
    ]
    assert _found("Сообщение было опубликовано 18 ноября.") == [(date(2019, 11, 18), "")]
