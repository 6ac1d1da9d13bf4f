"""Key facts of an event: the people, organisations and places it names, most mentioned first.

Russian names come from natasha (facts_ru); other languages' from capitalised runs (names).
Both read the story's own text (fact_text: no dateline, byline or related-link tail), and
both lists pass the same checks before a reader sees them. Dates are in dates.py
(re-exported here).
"""

from __future__ import annotations

from collections.abc import Iterable

from digest.events import facts_ru, names
from digest.events.dates import find_dates
from digest.models import KeyFacts

__all__ = ["MAX_NAMES", "find_dates", "find_facts"]

MAX_NAMES = 6
RUSSIAN = ("ru",)  # natasha reads Russian only


def find_facts(texts: Iterable[str], language: str, limit: int | None = MAX_NAMES) -> KeyFacts:
    """Return the people, organisations and places named in `texts`, most mentioned first."""
    if language in RUSSIAN:
        russian = facts_ru.count_names(facts_ru.find_mentions(texts))
        return KeyFacts(**{k: _top(c, limit) for k, c in russian.items()})
    counts = names.count_names(texts, language)
    return KeyFacts(**{k: _top(c, limit) for k, c in counts.items()})


def _top(counts: dict[str, int], limit: int | None) -> tuple[str, ...]:
    """Return the names most mentioned first; ties keep the order the texts named them in."""
    ranked = sorted(counts, key=lambda n: -counts[n])
    return tuple(ranked[:limit])
