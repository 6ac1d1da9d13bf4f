"""Names in languages natasha does not read: capitalised runs sorted into kinds by cues.

A name is a run of capitalised words; small cue lists sort it: titles before people
("President", "Goalkeeper"), words of organisations ("Council", "Agency"), known places and
place words ("Street"), and the word before it ("in", "the"). The rules that turn one
capitalised run into names are small named functions below, applied in order by
`sorted_names`; `name_counts.count_names` counts each name's mentions per kind, aliases merged.
"""

from __future__ import annotations

from collections.abc import Container, Iterator, Sequence
from dataclasses import dataclass, replace

from digest.events.cues import (
    ARTICLES,
    BEFORE_OF_PLACE,
    CODE,
    COMMON_EN,
    COMPASS,
    CONTRACTION,
    DEMONYMS,
    FOREIGN_ARTICLES,
    GENERIC_ORG,
    KNOWN,
    LOCATIVE,
    LOWER_WORD,
    NAME,
    NEXT,
    NOT_ORGS,
    OPENERS,
    ORG_WORDS,
    PLACE_WORDS,
    PLACES,
    QUOTED,
    QUOTES,
    SAYS,
    SKIP,
    SMALL_WORDS,
    TITLE_STEMS,
    TITLES,
    TRAILING_TITLES,
    WEAK_LOCATIVE,
    Either,
    adverb_or_gerund,
    is_acronym,
)
from digest.text import STOP_WORDS, split_sentences, stem_words

_CYRILLIC_LANGUAGES = ("ru", "uk", "be")


def _parts(name: str) -> list[tuple[list[str], bool, bool]]:
    """Split a capitalised run at possessives and closing quotes: "BBC's Frances Harrison".

    Each part comes with whether it opens the run (only the first part has the run's context)
    and whether it ends in a possessive.
    """
    parts: list[tuple[list[str], bool, bool]] = []
    words: list[str] = []
    run = name.split()
    for i, word in enumerate(run):
        if CONTRACTION.search(word):
            return []  # "I'm OK", "Don't Stop": speech, not names
        if word.endswith(("s’", "s'")) and i < len(run) - 1:
            words.append(word[:-1])  # "Taunton Deane Magistrates' Court" stays one name
            continue
        if word.endswith(("’s", "'s", "’", "'")):
            # a possessive or a closing quote ends a name: "BBC's", "Nichols'", "'Kiki'"
            words.append(word[:-2] if word[-1] == "s" else word[:-1])
            possessive = word[-1] == "s" or word[-2:-1] == "s"
            parts.append(([w for w in words if w], not parts, possessive))
            words = []
        else:
            words.append(word.lstrip("’'"))
    if words:
        parts.append((words, not parts, False))
    return parts


def find_names(text: str, language: str) -> Iterator[tuple[str, str, bool]]:
    """Yield (name, word before it, could be a person) for capitalised runs, titles split off."""
    russian = language in _CYRILLIC_LANGUAGES
    # A capitalised word that the text also uses in lower case is a common word opening a
    # sentence or a job title ("Comedian Ellen DeGeneres"), not part of a name.
    in_text = set(LOWER_WORD.findall(text))
    lower = Either(in_text, frozenset() if russian else COMMON_EN)
    common = Either(in_text, OPENERS["ru" if russian else "en"])
    for sentence in split_sentences(text, language):
        if "©" in sentence:
            continue  # photo credits name photographers, not the story's people
        for m in NAME.finditer(sentence):
            if QUOTED.match(sentence, m.end()) and sentence[m.start() - 1 : m.start()] in QUOTES:
                continue  # a quoted title of a film, song or book is not a name
            if CODE.match(sentence, m.end()):
                continue  # a model or weapon code: "AK-47", "Boeing 737"
            before = sentence[: m.start()].rsplit(None, 2)[-2:]
            nxt = NEXT.match(sentence, m.end())
            after = [nxt.group(1)] if nxt else []
            if len(m.group(0).split()) >= 3 and m.group(0).isupper():
                continue  # an all-capitals headline
            if m.group(0).isupper() and sentence[m.end() : m.end() + 1] == ":":
                continue  # a section's label: "BAILEY:", "REF:", "NEXT UP:"
            for words, first, possessive in _parts(m.group(0)):
                if possessive:
                    after = ["’s"]  # "from Nichols' attorneys": a possessor, not a place
                if first:
                    yield from sorted_names(
                        words, before, after, m.start() == 0, common, lower, language
                    )
                else:
                    yield from sorted_names(words, [], after, False, common, lower, language)


@dataclass(frozen=True)
class Run:
    """A candidate name: its words and their stems, the cue word before it, person-likeness.

    The cue is the word before the name, lower case ("in", "president", "the"): it says a
    place, a person or a thing follows.
    """

    words: tuple[str, ...]
    stems: tuple[str, ...]
    cue: str
    person: bool

    def drop(self, first: int = 0, last: int | None = None) -> Run:
        """Return the run with only words[first:last]."""
        # Built directly: dataclasses.replace reads the fields anew on every call, and runs
        # are cut hundreds of thousands of times in a digest's key facts.
        return Run(self.words[first:last], self.stems[first:last], self.cue, self.person)


def cue_of(before: Sequence[str]) -> str:
    """Return the word before a name as a cue; "of" after a place word reads as "in".

    "the port city of Bandar Abbas" names a place as surely as "in Bandar Abbas" does.
    """
    cue = before[-1].lower().strip(',«"“(') if before else ""
    if cue == "of" and len(before) > 1 and before[0].lower() in BEFORE_OF_PLACE:
        return "in"
    return cue


def may_be_person(cue: str, before: Sequence[str]) -> bool:
    """Tell whether the words before a name leave it free to be a person.

    Nobody is "a Toyota Camry", "his 2013 Toyota Camry" or "an Amazon Echo".
    """
    return not (
        cue in ARTICLES or cue.isdigit() or (len(before) > 1 and before[0].lower() in ("a", "an"))
    )


def openers(stems: Sequence[str], common: Container[str], language: str) -> Container[str]:
    """Return the words that may open the name and are no part of it.

    A name ending in a word of organisations or places ("European Commission",
    "International Monetary Fund") is opened only by titles and small words ("The", "In",
    "President"): its other capitalised words belong to it.
    """
    if stems and (stems[-1] in ORG_WORDS or stems[-1] in PLACE_WORDS):
        return SMALL_WORDS.get(language) or SMALL_WORDS["en"]
    return common


def drop_adverb(run: Run, opens: bool) -> Run:
    """Drop an adverb or gerund opening the run: "Ironically Nichols", "Choosing DeGeneres"."""
    if run.words and adverb_or_gerund(run.words[0], opens):
        return run.drop(1)
    return run


def drop_openers(run: Run, common: Container[str]) -> Run:
    """Drop the common words and titles that open the run; a title makes it a person's.

    "The" makes the rest a thing ("The Hollywood Reporter"); "President" a person ("the
    Russian President Vladimir Putin"), unless "of" follows ("Governor of Qeshm" is a role).
    "New York" and "North Carolina" are places, not a common word and a name.
    """
    while run.words and run.words[0].lower() in common:
        word, stem = run.words[0].lower(), run.stems[0]
        if stem in PLACES and len(run.words) > 1 and run.words[1].lower() not in TITLES:
            break
        if word == "the":
            run = replace(run, person=False)
        if word in TITLES or stem in TITLE_STEMS:
            of = len(run.words) > 1 and run.words[1] == "of"
            run = replace(run, cue="of" if of else "president", person=True)
        run = run.drop(1)
    return run


def drop_trailing_titles(run: Run) -> Run:
    """Drop titles that follow a place: "Alaska Gov." -> "Alaska"."""
    while run.words and run.words[-1].lower().rstrip(".") in TRAILING_TITLES:
        run = run.drop(0, -1)
    return run


def split_at_of(run: Run) -> tuple[Run, Run] | None:
    """Return a place and the name after its "of": "Athens of Alexandros Grigoropoulos".

    None when the run is one name ("Gulf of Aden", "Bank of England").
    """
    if "of" not in run.words[1:-1]:
        return None
    k = run.words.index("of")
    if all(s in PLACES for s in run.stems[:k]) and not all(s in PLACES for s in run.stems[k + 1 :]):
        return run.drop(0, k), run.drop(k + 1)
    return None


def cut_at_day(run: Run) -> Run:
    """Cut the run at a day or month name: "South Richmond Hill Friday" -> "South Richmond Hill"."""
    for k, word in enumerate(run.words):
        if word.lower() in SKIP:
            return run.drop(0, k)
    return run


def split_leading_org(run: Run, opens: bool) -> tuple[str | None, Run]:
    """Split an outlet, country or organisation off the front of a three-word run.

    "BBC Frances Harrison" is the BBC and Frances Harrison; "President of Russia Dmitry
    Peskov" leaves Dmitry Peskov. Returns the organisation's name (None when there is none
    worth naming: a unit, a sentence's first word) and the rest.
    """
    words, stems = run.words, run.stems
    if len(words) != 3 or not (
        (stems[0] in PLACES and stems[0] not in COMPASS)
        or stems[0] in ORG_WORDS
        or is_acronym(words[0])
    ):
        return None, run
    if any(w in KNOWN for w in stems[1:]) or any(w.islower() for w in words):
        return None, run
    org = None
    if words[0].lower() not in NOT_ORGS and (is_acronym(words[0]) or not opens):
        org = words[0]
    return org, replace(run.drop(1), cue="")


def drop_connectors(run: Run) -> Run:
    """Drop a lower-case connector left in front: "of Aden" -> "Aden"."""
    while run.words and run.words[0].islower():
        run = run.drop(1)
    return run


def too_weak(run: Run, opens: bool, common: Container[str]) -> bool:
    """Tell a run that is no evidence of a name.

    Headline-case phrases (over four words), stray initials, a place word or a generic
    organisation word alone ("Street", "Magazine"), one capitalised word opening a sentence,
    units and time zones ("GMT", "PM EDT"), capitals of a heading ("FIRE", "UPDATED").
    """
    words, stems = run.words, run.stems
    if not words or len(words) > 4 or len(words[0]) < 2:
        return True
    if len(words) == 1:
        word = words[0]
        if stems[0] in PLACE_WORDS or (opens and not word.isupper()):
            return True
        if is_acronym(word) and (word.lower() in NOT_ORGS or word.lower() in common):
            return True
        if stems[0] in GENERIC_ORG and not word.isupper():
            return True
    return all(w.lower() in NOT_ORGS for w in words)


def person_like(run: Run, lower: Container[str], language: str) -> bool:
    """Tell whether the run may be a person's name.

    A person's name has no acronym, digit or capitalised small word in it, and does not end
    in a common word ("Somerset Fire", "Indian Naval", "Take Me Out").
    """
    small = STOP_WORDS.get(language, STOP_WORDS["en"])
    words = run.words
    if words[0].lower() in FOREIGN_ARTICLES or (len(words) == 3 and run.stems[0] in PLACES):
        return False  # "La Paz", "Paris St Germain": a place or a club, never a person
    if len(words[-1]) == 1 or words[-1].lower() in DEMONYMS:
        return False  # "Washington D", "Perceived Iranian": no person's name ends so
    return (
        run.person
        and not any(
            is_acronym(w) or any(c.isdigit() for c in w) or w.lower() in small for w in words
        )
        and (len(words) == 1 or words[-1].lower() not in lower)
    )


def locative_cue(run: Run, after: Sequence[str], language: str) -> str:
    """Return the cue, emptied when "in"/"to" before the name names no place.

    "to Taser him", "Molotov cocktails", "lost to Lamon Brewster", "a call from MV Gibe".
    """
    cue = run.cue
    small = STOP_WORDS.get(language, STOP_WORDS["en"])
    if cue in LOCATIVE and after:
        nxt = after[0].strip(",.;:!?")
        if nxt in ("him", "her", "them", "it", "’s") or (
            len(run.words) == 1
            and nxt.islower()
            and nxt.endswith("s")
            and nxt not in SAYS
            and nxt not in small
        ):
            return ""
    if cue in WEAK_LOCATIVE and len(run.words) > 1 and language not in _CYRILLIC_LANGUAGES:
        return ""
    return cue


def sorted_names(
    words: list[str],
    before: list[str],
    after: list[str],
    opens: bool,
    common: Container[str],
    lower: Container[str],
    language: str,
) -> Iterator[tuple[str, str, bool]]:
    """Yield the name(s) in one part of a capitalised run with its cue and person-likeness.

    The rules above run in order; each says what it drops or splits off and why.
    """
    cue = cue_of(before)
    stems = tuple(stem_words(words, language))
    run = Run(tuple(words), stems, cue, may_be_person(cue, before))
    common = openers(stems, common, language)
    run = drop_trailing_titles(drop_openers(drop_adverb(run, opens), common))
    parts = split_at_of(run)
    if parts:
        yield from sorted_names(list(parts[0].words), before, [], opens, common, lower, language)
        yield from sorted_names(list(parts[1].words), ["of"], after, False, common, lower, language)
        return
    run = cut_at_day(run)
    org, rest = split_leading_org(run, opens)
    if org:
        yield org, run.cue, False
    run = drop_connectors(rest)
    if too_weak(run, opens, common):
        return
    run = Run(run.words, run.stems, run.cue, person_like(run, lower, language))
    yield " ".join(run.words), locative_cue(run, after, language), run.person


def _team(words: Sequence[str], stems: Sequence[str]) -> bool:
    """Tell a team named after its city: "New York Mets", "Boston Celtics"."""
    return (
        len(stems) > 1
        and all(s in PLACES for s in stems[:-1])
        and (stems[0] not in COMPASS or len(stems) > 2)
        and words[-1].endswith("s")
        and stems[-1] not in PLACES
        and stems[-1] not in PLACE_WORDS
    )


def _place(words: Sequence[str], stems: Sequence[str], cue: str) -> bool:
    """Tell a place: known places ("Gulf of Aden"), a place word at the end ("Main Street"),
    a compass word first ("East Flatbush": nobody is called North or New), or a locative cue
    before a name that is no acronym ("in Bandar Abbas")."""
    if all(s in PLACES for s, w in zip(stems, words, strict=True) if not w.islower()):
        return True
    if stems[-1] in PLACE_WORDS:
        return True
    if _organisation(words, stems):
        return False
    if len(stems) > 1 and stems[0] in COMPASS:
        return True
    # A cue alone is weak evidence: "pass to Hoilett", "at Apollo Hospitals", "in Q2FY20"
    # name no place; a word with a digit («RM353») never is one.
    if cue not in LOCATIVE or cue in WEAK_LOCATIVE or cue == "at":
        return False
    return not any(is_acronym(w) or any(c.isdigit() for c in w) for w in words)


def _organisation(words: Sequence[str], stems: Sequence[str]) -> bool:
    """Tell acronyms that are not places (NATO, МИД, "МИД РФ") and names with an
    organisation's word ("Council", "Agency")."""
    return all(is_acronym(w) for w in words) or any(w in ORG_WORDS for w in stems)


def kind_of(name: str, cue: str, language: str, person: bool) -> str:
    """Return "people", "organisations", "places" or "" (unsure: left out)."""
    words = name.split()
    stems = stem_words(words, language)
    if words[-1].lower() in DEMONYMS:
        return ""  # "South American", "Perceived Iranian": a nationality names no one
    if _team(words, stems):
        return "organisations"
    if _place(words, stems, cue):
        return "places"
    if _organisation(words, stems):
        return "organisations"
    if person and (cue in TITLES or len(stems) in (2, 3)):
        return "people"
    return ""


# "Donald trump": a capitalised name word, then a lower-case word that may be its second.
