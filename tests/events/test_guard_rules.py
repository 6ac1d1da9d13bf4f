"""The fact guard's rules one by one: dates, numbers, names and sentences a summary states."""

from __future__ import annotations

from datetime import UTC, datetime

from digest.events.guard import Guard

SOURCES = ["The city lost 5 million euros on 6 November, mayor Anna Schmidt said."]
PUBLISHED = datetime(2024, 11, 7, tzinfo=UTC)


def _guard() -> Guard:
    return Guard(SOURCES, "en", PUBLISHED)


def test_a_date_no_source_states_is_found_and_every_date_is_blanked_for_the_other_rules() -> None:
    found, rest = _guard().unsupported_dates("Anna Schmidt spoke on 8 November and 6 November.")
    assert found == ["the date 8 November is not in the sources"]
    assert "November" not in rest and "8" not in rest and "6" not in rest
    assert len(rest) == len("Anna Schmidt spoke on 8 November and 6 November.")  # offsets kept
    assert _guard().unsupported_dates("The city lost money on 6 November.")[0] == []


def test_a_numeric_date_is_checked_as_a_date() -> None:
    found, rest = _guard().unsupported_dates("It happened on 07.11.2024.")
    assert found == ["the date 07.11.2024 is not in the sources"]
    assert "2024" not in rest  # its year is no number for the number rule


def test_a_number_is_checked_with_its_scale_and_currency() -> None:
    guard = _guard()
    assert guard.unsupported_numbers("The city lost 5 million euros.") == []
    assert guard.unsupported_numbers("The city lost 5 billion euros.") == [
        "the number 5 billion euros is not in the sources"
    ]
    assert guard.unsupported_numbers("It lost 5 billion euros, then 5 billion euros.") == [
        "the number 5 billion euros is not in the sources"  # each quantity once
    ]


def test_a_name_no_source_has_is_found_and_an_opening_word_is_called_a_word() -> None:
    guard = _guard()
    assert guard.unsupported_names("Mayor Anna Schmidt spoke.") == []
    assert guard.unsupported_names("The mayor blamed Peter Braun.") == [
        "the name Peter is not in the sources",
        "the name Braun is not in the sources",
    ]
    assert guard.unsupported_names("Rescuers came.") == ["the word Rescuers is not in the sources"]


def test_a_sentence_no_one_source_sentence_supports_is_found() -> None:
    guard = _guard()
    assert guard.unsupported_sentences("The city lost 5 million euros, Anna Schmidt said.") == []
    invented = "Volcanic eruptions closed every airport across northern Europe yesterday."
    assert guard.unsupported_sentences(invented) == [f'no source sentence says "{invented}"']


def test_violations_are_the_rules_findings_in_order() -> None:
    summary = "Peter lost 9 million euros on 8 November.\nVolcanoes erupted across Iceland today."
    guard = _guard()
    dates, rest = guard.unsupported_dates(summary)
    assert guard.violations(summary) == (
        *dates,
        *guard.unsupported_numbers(rest),
        *guard.unsupported_names(rest),
        *guard.unsupported_sentences(summary),
    )
    assert dates and guard.unsupported_numbers(rest) and guard.unsupported_names(rest)
