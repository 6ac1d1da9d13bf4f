"""How often an event's texts name each person, organisation and place, aliases merged.

The names come from `names.find_names` (capitalised runs sorted into kinds); here they are
counted: a machine-translated name in small letters is capitalised where the event writes it
so elsewhere, a surname alone counts for the full name it belongs to, "the US" and "United
States" are one place, and an acronym counts for the name it abbreviates.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from digest.events.cues import OPENERS, SKIP, TITLES, Either, is_acronym
from digest.events.names import find_names, kind_of
from digest.text import stem_words

_LOWERED = re.compile(r"\b([A-Z][a-z’'\-]+)([ \t\xa0]+)([a-z][a-z’'\-]{2,})\b")
_CAPITALISED = re.compile(r"\b[A-Z][a-z’'\-]{2,}\b")


def recapitalise(texts: Sequence[str], titles: Sequence[str] = ()) -> list[str]:
    """Return the texts with a machine translation's lower-cased names capitalised again.

    A translator writes "Donald trump" where its own headline and other sentences say
    "Trump": a lower-case word right after a capitalised name word is the name's second word
    when the event also writes it capitalised and it is no common word; it is then a name
    wherever it is written in lower case ("Putin and trump"). Titles in headline
    case ("Trump Called His Victory") capitalise every word and so say nothing of names.
    """
    told = [t for t in titles if not _headline_case(t)]
    capitalised = {w.lower() for t in (*texts, *told) for w in _CAPITALISED.findall(t)}
    common = Either(OPENERS["en"], SKIP)
    names = capitalised - {w for w in capitalised if w in common}
    if not names:
        return list(texts)

    lowered = {
        second
        for t in texts
        for first, _, second in _LOWERED.findall(t)
        if second in names and (first.lower() not in common or first.lower() in TITLES)
    }
    if not lowered:
        return list(texts)
    # Once a name, the word is one wherever it is written in lower case ("Putin and trump").
    word = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(lowered))) + r")\b")
    return [word.sub(lambda m: m.group(0).capitalize(), t) for t in texts]


def _headline_case(title: str) -> bool:
    """Tell "Trump Called His Victory" (every word capitalised) from a sentence."""
    words = [w for w in title.split() if w[:1].isalpha() and len(w) > 3]
    return len(words) >= 3 and all(w[0].isupper() for w in words)


def count_names(texts: Iterable[str], language: str) -> dict[str, Counter[str]]:
    """Return mentions per name per kind ("people", "organisations", "places"), aliases merged."""
    votes: dict[str, Counter[str]] = {}  # each mention votes for a kind; the majority wins
    forms: dict[str, Counter[str]] = {}  # "России", "Россией" are one name: key by stems
    mentions = [m for text in texts for m in find_names(text, language)]
    # A surname met at the end of one name and in front of another is a possessor there:
    # "адвокат Ивана Голунова Сергей Бадамшин" is Golunov's lawyer Sergei Badamshin.
    surnames = {n.rsplit(" ", 1)[1] for n, _, _ in mentions if " " in n}
    # A name is mentioned many times with the same cue: its kind and key are found once.
    kinds_of: dict[tuple[str, str, bool], str] = {}
    keys: dict[str, str] = {}
    for name, cue, person in mentions:
        kind = kinds_of.get((name, cue, person))
        if kind is None:
            kind = kinds_of[name, cue, person] = kind_of(name, cue, language, person)
        words = name.split()
        if kind == "people" and len(words) > 2:
            k = next((k for k in range(1, len(words) - 1) if words[k - 1] in surnames), 0)
            name = " ".join(words[k:])
        key = keys.get(name)
        if key is None:
            key = keys[name] = " ".join(stem_words(_canonical(name).split(), language))
        votes.setdefault(key, Counter())[kind] += 1
        forms.setdefault(key, Counter())[name] += 1
    counts: dict[str, Counter[str]] = {k: Counter() for k in ("people", "organisations", "places")}
    for key, kinds in votes.items():
        kind = max(kinds, key=lambda k: (kinds[k], k != ""))
        if kind:
            # "US Geological Survey" and "United States Geological Survey": the longer says more
            form = max(forms[key], key=lambda n: (forms[key][n], len(n)))
            counts[kind][form] = kinds.total()
    _merge_acronyms(counts)
    for names in counts.values():
        for short in sorted(names, key=len):
            full = [n for n in names if n.endswith(" " + short)]
            if full:  # "Putin" is "Vladimir Putin"; "Monetary Fund" is the IMF's full name
                names[full[0]] += names.pop(short)
    _surnames_to_people(counts)
    return counts


def _surnames_to_people(counts: dict[str, Counter[str]]) -> None:
    """Count a one-word place or organisation that is a person's surname in the event for the
    person: "runner-up to Nadal" names Rafael Nadal, not a place."""
    people = counts["people"]
    for kind in ("places", "organisations"):
        names = counts[kind]
        for short in [n for n in names if " " not in n and not is_acronym(n)]:
            full = next((p for p in people if p.endswith(" " + short)), None)
            if full is not None:
                people[full] += names.pop(short)


# One spelling of the countries that names often open with: "U.S. Navy", "US Navy" and
# "United States Navy" are one navy.
_COUNTRY_PREFIX = re.compile(
    r"^(?:(?:U\.?S\.?A?\.?|United States(?: of America)?)(?=\s|$)|(?:U\.?K\.?|United Kingdom)(?=\s|$))"
)


def _canonical(name: str) -> str:
    """Return the name with a country prefix spelt one way, for keying aliases."""
    m = _COUNTRY_PREFIX.match(name)
    if not m:
        return name
    kingdom = m.group(0).upper().startswith(("UK", "U.K", "UNITED K"))
    return ("United Kingdom" if kingdom else "United States") + name[m.end() :]


def _initials(name: str) -> str:
    """Return the capitals of a name's words: "United Arab Emirates" -> "UAE"."""
    return "".join(w[0] for w in re.split(r"[\s-]+", name) if w[:1].isupper())


def _merge_acronyms(counts: dict[str, Counter[str]]) -> None:
    """Count an acronym for its expansion, in the expansion's kind: "UAE" is a place when the
    texts spell out "United Arab Emirates", "USGS" the "United States Geological Survey"."""
    expansions = {
        initials: (kind, n)
        for kind, names in counts.items()
        for n in names
        if " " in n
        # "THR" is "The Hollywood Reporter" whose "The" the name lost
        for initials in (_initials(_canonical(n)), "T" + _initials(_canonical(n)))
    }
    for names in counts.values():
        for name in [n for n in names if is_acronym(n) and n in expansions]:
            kind, full = expansions[name]
            counts[kind][full] += names.pop(name)
