"""Key facts of an event: the people, organisations and places it names, most mentioned first.

Russian names come from natasha (facts_ru); other languages' from capitalised runs (names).
Both read the story's own text (fact_text: no dateline, byline or related-link tail), and
both lists pass the same checks before a reader sees them: outlets are sources, not
organisations, and each entity is listed once (aliases such as «Россия» and «РФ», spelling
variants of one person, the parts of «Босния и Герцеговина»). Dates are in dates.py
(re-exported here).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping

from digest.events import facts_ru, name_counts
from digest.events.dates import find_dates
from digest.events.fact_text import fact_text
from digest.events.outlets import is_outlet
from digest.models import KeyFacts

__all__ = ["MAX_NAMES", "find_dates", "find_facts"]

MAX_NAMES = 6
RUSSIAN = ("ru",)  # natasha reads Russian only
KINDS = ("people", "organisations", "places")
Counts = dict[str, dict[str, int]]  # mentions per name, per kind

# Names of one entity: a reader counts «Россия» and «РФ» once.
_ALIASES = [
    "россия|рф|российская федерация|russia|russian federation",
    "сша|соединенные штаты|соединенные штаты америки|us|usa|u.s.|united states"
    "|united states of america",
    "великобритания|британия|соединенное королевство|uk|u.k.|britain|great britain|united kingdom",
    "ес|евросоюз|европейский союз|eu|european union",
    "оон|организация объединенных наций|un|united nations",
    "кнр|китай|china|prc",
    "кндр|северная корея|north korea|dprk",
    "оаэ|объединенные арабские эмираты|uae|united arab emirates",
    "фрг|германия|germany",
    "белоруссия|беларусь|республика беларусь|belarus",
    "молдавия|молдова|moldova",
    "киргизия|кыргызстан|киргизстан|kyrgyzstan",
    "госдума|государственная дума|дума",
    "совфед|совет федерации",
    "мид|министерство иностранных дел",
    "мвд|министерство внутренних дел",
    "мчс|министерство по чрезвычайным ситуациям",
    "фсб|федеральная служба безопасности",
    "минобороны|министерство обороны",
    "минздрав|министерство здравоохранения",
]
_ALIAS = {name: group for group, line in enumerate(_ALIASES) for name in line.split("|")}
_COORDINATED = re.compile(r"^(.+?)\s+(?:и|and|&)\s+(.+)$")
# Two spellings of a first name are one person's when they are this alike (0-1, difflib).
VARIANT_SIMILARITY = 0.75


def find_facts(
    texts: Iterable[str],
    language: str,
    limit: int | None = MAX_NAMES,
    *,
    outlets: Iterable[str] = (),
    titles: Iterable[str] = (),
) -> KeyFacts:
    """Return the people, organisations and places named in `texts`, most mentioned first.

    `outlets` are the names of the event's own sources (left out like any outlet); `titles`
    only say which words are names: a machine translation may write "Donald trump" where
    the headline has "Trump".
    """
    story = [fact_text(t) for t in texts]
    if language in RUSSIAN:
        counts: Counts = facts_ru.count_names(facts_ru.find_mentions(story))
    else:
        story = name_counts.recapitalise(story, tuple(titles))
        found = name_counts.count_names(story, language)
        counts = {kind: dict(found.get(kind, {})) for kind in KINDS}
    counts = one_per_entity(without_outlets(counts, tuple(outlets)))
    return KeyFacts(**{k: _top(counts[k], limit) for k in KINDS})


def without_outlets(counts: Counts, outlets: tuple[str, ...]) -> Counts:
    """Return the counts without outlets: they are the story's sources, not its subject."""
    return {
        kind: {n: c for n, c in found.items() if not is_outlet(n, outlets)}
        for kind, found in counts.items()
    }


def _fold(name: str) -> str:
    return " ".join(name.casefold().replace("ё", "е").split())


def one_per_entity(counts: Counts) -> Counts:
    """Return the counts with each entity once, under its most mentioned name and kind.

    One entity's names: aliases («Россия», «РФ»), the parts of a coordinated name
    («Босния», «Герцеговина» of «Босния и Герцеговина»), a short form («Рада» of
    «Верховная Рада»), a person's spelling variants («Эммануэль Макрон», «Эмманюэл
    Макрон»), one name found as two kinds.
    """
    owner: dict[tuple[str, str], tuple[str, str]] = {}  # (kind, name) -> (kind, name) it joins
    mentions = {(kind, n): c for kind, found in counts.items() for n, c in found.items()}
    ranked = sorted(mentions, key=lambda k: -mentions[k])  # the most mentioned name leads
    for i, key in enumerate(ranked):
        lead = next((other for other in ranked[:i] if _same_entity(key, other)), None)
        if lead is not None:
            owner[key] = owner.get(lead, lead)
    for part, whole in [*_coordinated_parts(mentions), *_short_forms(mentions)]:
        owner.setdefault(part, whole)
    shown: dict[tuple[str, str], tuple[str, str]] = {}  # lead -> the form a reader sees
    for key in ranked:
        lead = _lead(owner, key)
        best = shown.setdefault(lead, lead)
        if _inflected_alike(_fold(key[1]).split(), _fold(best[1]).split()) and _plainer(
            key[1], best[1]
        ):
            shown[lead] = key  # «Тулун» shown for «Тулуна» (a form kept as found)
    out: Counts = {kind: {} for kind in KINDS}
    for key in ranked:
        kind, name = shown[_lead(owner, key)]
        out[kind][name] = out[kind].get(name, 0) + mentions[key]
    return out


_OBLIQUE_END = re.compile(r"(?:[иыуюе]|ом|ем|ой|ей|ам|ям|ах|ях)$")


def _plainer(one: str, other: str) -> bool:
    """Tell whether `one` looks more like a nominative than `other`, its other form: shorter
    («Тулун», «Тулуна»), or as long without an oblique ending («область», «области»)."""
    if len(one) != len(other):
        return len(one) < len(other)
    return bool(_OBLIQUE_END.search(other)) and not _OBLIQUE_END.search(one)


def _lead(
    owner: Mapping[tuple[str, str], tuple[str, str]], key: tuple[str, str]
) -> tuple[str, str]:
    """Return the name a name joins, following joins of joins («Босния» -> its whole)."""
    seen = {key}
    while key in owner and owner[key] not in seen:
        key = owner[key]
        seen.add(key)
    return key


def _same_entity(one: tuple[str, str], other: tuple[str, str]) -> bool:
    """Tell whether two names (with their kinds) are one entity; see one_per_entity."""
    (kind, name), (other_kind, lead) = one, other
    a, b = _fold(name), _fold(lead)
    if a == b:
        return True  # one name, two kinds
    group = _ALIAS.get(a)
    if group is not None and group == _ALIAS.get(b):
        return True
    if kind == other_kind and _inflected_alike(a.split(), b.split()):
        return True  # «Тулуна» kept as found beside «Тулун»: one place
    if kind != "people" or other_kind != "people":
        return False
    first, last = a.split(), b.split()
    if len(first) != 2 or len(last) != 2 or first[1] != last[1]:
        return False
    if first[0] in last[0] or last[0] in first[0]:
        return True  # «Катерина Осадчая», «Екатерина Осадчая»
    if first[0][0] != last[0][0]:
        return False
    ratio = difflib.SequenceMatcher(None, first[0], last[0]).ratio()
    return ratio >= VARIANT_SIMILARITY


# A Russian case ending: how much two forms of one word may differ at their end.
INFLECTION_LETTERS = 2
MIN_STEM = 4


def _inflected_alike(one: list[str], other: list[str]) -> bool:
    """Tell two forms of one name, word by word: «Тулуна» and «Тулун», «Ивановская области»
    and «Ивановская область» (a stem of four letters or more, at most two letters after it
    differing, and one form ending where the other's stem does or in a vowel or «ь»)."""
    if len(one) != len(other) or one == other:
        return False
    for a, b in zip(one, other, strict=True):
        if a == b:
            continue
        stem = len(_common_prefix(a, b))
        if stem < MIN_STEM or max(len(a), len(b)) - stem > INFLECTION_LETTERS:
            return False
        if not all(w[stem:] == "" or w[stem] in _VOWELS for w in (a, b)):
            return False
    return True


_VOWELS = frozenset("аеёиоуыэюяь")


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def _coordinated_parts(
    mentions: Mapping[tuple[str, str], int],
) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """Return (part, whole) for names that are a part of a coordinated name of their kind."""
    out = []
    folded = {(kind, _fold(n)): (kind, n) for kind, n in mentions}
    for kind, name in mentions:
        m = _COORDINATED.match(name)
        if not m:
            continue
        for part in m.groups():
            key = folded.get((kind, _fold(part)))
            if key is not None:
                out.append((key, (kind, name)))
    return out


def _short_forms(
    mentions: Mapping[tuple[str, str], int],
) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """Return (name, the name it joins) for an organisation or place named by one word of its
    two-word name: «Нафтогаз» of «Нафтогаз Украины», «Рада» of «Верховная Рада» (when no
    other name of its kind has that word); the less mentioned joins the more."""
    out = []
    for kind, name in mentions:
        if kind == "people" or " " in name:
            continue
        word = _fold(name)
        fuller = [
            (k, n)
            for k, n in mentions
            if k == kind and len(n.split()) == 2 and word in _fold(n).split()
        ]
        if len(fuller) == 1:
            short, full = (kind, name), fuller[0]
            # the one said more often is the name a reader knows («Рада» said thrice)
            out.append((full, short) if mentions[short] > mentions[full] else (short, full))
    return out


def _top(counts: dict[str, int], limit: int | None) -> tuple[str, ...]:
    """Return the names most mentioned first; ties keep the order the texts named them in."""
    ranked = sorted(counts, key=lambda n: -counts[n])
    return tuple(ranked[:limit])
