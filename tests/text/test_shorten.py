"""shorten: text over a cap is cut at a word boundary and ends with an ellipsis."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from factories import make_article

from digest.events.summarize import representative_title
from digest.models import Event
from digest.text import shorten


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("exactly ten", 11, "exactly ten"),
        ("hello world this is long", 12, "hello world…"),
        ("ab, cd, ef, gh", 8, "ab, cd…"),  # no dangling comma before the ellipsis
        ("x" * 30, 10, "x" * 9 + "…"),  # one long "word" (a URL): cut hard
        ("Москва сегодня объявила план", 16, "Москва сегодня…"),
    ],
)
def test_shorten(text: str, limit: int, expected: str) -> None:
    assert shorten(text, limit) == expected
    assert len(shorten(text, limit)) <= limit


def test_headlines_stored_before_the_cap_are_cut_too() -> None:
    when = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
    article = replace(make_article("A", "x", 1, "en", when), title="word " * 100_000)
    headline = representative_title(Event(key="e", articles=(article,)))
    assert len(headline) <= 300 and headline.endswith("word…")
