"""Key facts of an event: the people, organisations and places it names, most mentioned first.

Russian names come from natasha (facts_ru); English ones from capitalised word sequences
sorted into kinds by small cue lists (titles before people, words of organisations, known
places), with aliases merged. Dates are in dates.py (re-exported here).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Container, Iterable

from digest.events import facts_ru
from digest.events.dates import find_dates
from digest.models import KeyFacts
from digest.text import STOP_WORDS, split_sentences, stem_words

__all__ = ["MAX_NAMES", "find_dates", "find_facts"]

MAX_NAMES = 6
RUSSIAN = ("ru",)  # natasha reads Russian only
FACT_CHARS = 2500  # names that matter are in the first paragraphs; the rest costs time

# --- names -------------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _stems(text: str) -> frozenset[str]:
    """Return the words stemmed as English and as Russian (the lists mix both)."""
    return frozenset(stem_words(text.split(), "en") + stem_words(text.split(), "ru"))


# A name is a run of capitalised words on one line, joined by the connectors of names; a middle
# initial ("Franklin D. Roosevelt") stays inside it.
_NAME = re.compile(
    r"[A-ZА-ЯЁ][\w’'\-]*(?:[ \t\xa0]+(?:(?:of|de|von|van|al|bin)[ \t\xa0]+)?"
    r"[A-ZА-ЯЁ](?:\.(?=[ \t\xa0]+[A-ZА-ЯЁ]\w)|[\w’'\-]*))*"
)
_ROLES = """president minister prime mr mrs ms dr secretary senator chancellor king queen prince
    judge spokesman spokeswoman spokesperson leader chief ceo actor actress singer director coach
    general press former governor gov mayor commissioner constable sheriff officer detective
    inspector captain sergeant lieutenant colonel manager chairman chairwoman ambassador envoy
    pope bishop rev sen rep lt gen col sgt capt supt councilman councilwoman councillor
    президент премьер министр глава лидер председатель пресс-секретарь адвокат студент ректор
    проректор губернатор мэр депутат кандидат судья директор журналист прокурор следователь посол
    генерал сенатор активист"""
_TITLES = _words(_ROLES)
_TITLE_STEMS = _stems(_ROLES)
# Nationality words open names ("Russian President ...") but make nobody a person.
_DEMONYMS = _words(
    """russian american british french german chinese ukrainian israeli iranian indian pakistani
    afghan iraqi syrian saudi turkish greek italian spanish japanese korean european african
    asian arab persian egyptian mexican canadian australian somali polish dutch swedish
    palestinian brazilian english scottish irish welsh"""
)
# Common English words that open sentences and headlines in capitals ("Choosing", "Despite",
# "Fatal", "Ball Game"); none is a usual given name, so a name neither starts nor ends in one.
_COMMON_EN = _words(
    """about above across after against ahead along already also although amid among another
    around because before behind below besides between beyond breaking despite during each
    either every except exclusive following however including inside instead like live
    meanwhile near nearly neither never none outside plus since though thus today tomorrow
    toward towards unless unlike until update updated published posted upon via whenever
    whether yesterday yet latest watch read see video photo photos report reports story
    analysis opinion editorial comment interview review special feature exclusive
    fatal deadly major massive huge big small old new first second third last final top high
    low hot cold red blue dark bright great grand free good bad best worst early late acting
    interim senior junior national international federal royal naval military civil public
    private local global western eastern northern southern central upper lower sexiest alive
    man woman men women boy girl child children people family team star stars world city state
    country home night week year time life money water air land motion picture pictures arts
    art music film movie show series season episode award awards prize cup league ball game
    games fire fires hit war peace police crash death deaths attack attacks quake storm flood
    hire hires fired choosing take make get give put set keep let say says said tell told ask
    call calls go goes went come comes came find found know think want need look use work try
    leave meet shot shoot killed kill kills dies died dead win wins won lose loses lost beat"""
)
# Acronyms that are units, time zones, results or things, not organisations.
_NOT_ORGS = _words(
    """gmt utc edt est cst pst cet cest bst ist msk am pm ko tko ok tv cctv dwi dui gps dna ceo
    id suv mvp hiv mp mps vip usb gdp hq faq sms pdf et pt ct mt pdt mdt cdt"""
)
_ORG_WORDS = _stems(
    """inc corp company co ltd group bank party council committee agency ministry department
    university association union organisation organization court police army navy commission
    fund office house senate parliament congress government news times post reuters nato un
    eu fbi cia opec apec fifa kremlin pentagon summit academy awards survey institute
    reporter journal herald tribune telegraph gazette magazine radio television broadcasting
    network bbc cnn abc cbs nbc command forces corps brigade guard rescue service club league
    foundation college school entertainment distribution studios media airlines airways motors holdings
    министерство партия агентство компания банк совет комитет союз служба суд правительство
    кремль госдума дума совфед мосгордума росгвардия"""
)
_PLACES = _stems(
    """russia china japan france germany britain england scotland ukraine india iran iraq
    israel syria turkey italy spain poland canada mexico brazil australia europe asia africa
    america korea north south east west washington moscow london paris berlin beijing tokyo
    kiev kyiv helsinki hamburg carolina california texas york new brussels geneva rome madrid
    nang malibu hollywood arab emirates los angeles chicago florida us usa uk gulf aden united
    states kingdom boston philadelphia detroit atlanta houston dallas miami seattle denver
    portland toronto montreal vancouver sydney melbourne delhi mumbai tehran dubai cairo
    istanbul athens warsaw vienna uae drc prc dprk
    россия москва китай сша франция германия украина париж лондон вашингтон хельсинки
    европа япония петербург санкт киев минск беларусь"""
)
_PLACE_WORDS = _stems(
    """avenue ave street st road rd boulevard blvd square island river city bay gulf sea ocean
    mountains valley county province region district village airport theatre theater hotel
    hospital center centre church cathedral stadium arena station bridge palace harbour harbor
    площадь улица остров река область район"""
)
# "the city of Bandar Abbas", "35 miles south-west of Bandar Abbas": a place follows.
_BEFORE_OF_PLACE = _words(
    """city town port village province region island capital district county north south east
    west north-east north-west south-east south-west northeast northwest southeast southwest"""
)
_QUOTES = frozenset("\"“«'‘")
_QUOTED = re.compile(r"[,.!?]?[\"”»'’]")
_LOCATIVE = _words("in at from to near в из во на под около")
_WEAK_LOCATIVE = _words("to from")  # "lost to Lamon Brewster", "a call from MV Gibe"
# Nobody is "a Toyota Camry", "his 2013 Toyota Camry" or "the Hollywood Reporter".
_ARTICLES = _words("a an the his its their our your my")
# Titles that may follow a place ("Alaska Gov. Sarah Palin"); "Associated Press", "Attorney
# General" and "Billy King" end in title words that are part of the name.
_TRAILING_TITLES = _words(
    """president governor gov mayor minister senator sen rep chancellor secretary spokesman
    spokeswoman spokesperson"""
)
# Generic words that name no organisation alone ("Magazine", "Command", "Union").
_GENERIC_ORG = _stems(
    """company co group bank party council committee agency ministry department university
    association union organisation organization court police army navy commission fund office club
    league command forces service rescue magazine journal radio television network foundation
    министерство партия агентство компания банк совет комитет союз служба суд"""
)
_CONTRACTION = re.compile(r"[’'](?:m|re|ve|ll|d|t)$|n[’']t$")
_LOWER_WORD = re.compile(r"\b[a-zа-яё][a-zа-яё’'\-]+\b")
_SKIP = _words(
    """monday tuesday wednesday thursday friday saturday sunday january february march april
    june july august september october november december"""
)
_COMPASS = _stems("north south east west new upper lower")  # "South Richmond Hill" is one place
_KNOWN = _PLACES | _ORG_WORDS | _PLACE_WORDS
_SMALL_WORDS = {lang: frozenset(words) | _TITLES for lang, words in STOP_WORDS.items()}
_CODE = re.compile(r"\s?-?\s?\d")  # "AK-47", "Boeing 737"
_NEXT = re.compile(r"\s*(\S+)")
_OPENERS = {
    "en": _SMALL_WORDS["en"] | _DEMONYMS | _COMMON_EN,
    "ru": _SMALL_WORDS.get("ru", _SMALL_WORDS["en"]) | _DEMONYMS,
}


class _Either:
    """A word in one of two sets, without copying either."""

    def __init__(self, first: Container[str], second: Container[str]) -> None:
        self.first, self.second = first, second

    def __contains__(self, word: object) -> bool:
        return word in self.first or word in self.second


_ROMAN = frozenset({"II", "III", "IV", "VI", "VII", "VIII"})  # "Anthony LaCalamita III"
_ING_NAMES = _words("channing sterling irving browning fleming manning harding")
_SAYS = _words("says said reports reported adds added")


def _acronym(word: str) -> bool:
    return 2 <= len(word) <= 6 and word.isupper() and word.isalpha() and word not in _ROMAN


def _adverb_or_gerund(word: str, opens: bool) -> bool:
    """Tell "Ironically Nichols" and a sentence opening "Choosing DeGeneres" from a name."""
    w = word.lower()
    if len(w) < 7:
        return False
    return w.endswith(("ally", "edly", "ately", "ively", "ously")) or (
        opens and w.endswith("ing") and w not in _ING_NAMES
    )


def _parts(name: str) -> list[tuple[list[str], bool, bool]]:
    """Split a capitalised run at possessives and closing quotes: "BBC's Frances Harrison".

    Each part comes with whether it opens the run (only the first part has the run's context)
    and whether it ends in a possessive.
    """
    parts: list[tuple[list[str], bool, bool]] = []
    words: list[str] = []
    run = name.split()
    for i, word in enumerate(run):
        if _CONTRACTION.search(word):
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


def _names(text: str, language: str) -> Iterable[tuple[str, str, bool]]:
    """Yield (name, word before it, could be a person) for capitalised runs, titles split off."""
    text = text[:FACT_CHARS]
    russian = language in ("ru", "uk", "be")
    # A capitalised word that the text also uses in lower case is a common word opening a
    # sentence or a job title ("Comedian Ellen DeGeneres"), not part of a name.
    in_text = set(_LOWER_WORD.findall(text))
    lower = _Either(in_text, frozenset() if russian else _COMMON_EN)
    common = _Either(in_text, _OPENERS["ru" if russian else "en"])
    for sentence in split_sentences(text, language):
        if "©" in sentence:
            continue  # photo credits name photographers, not the story's people
        for m in _NAME.finditer(sentence):
            if _QUOTED.match(sentence, m.end()) and sentence[m.start() - 1 : m.start()] in _QUOTES:
                continue  # a quoted title of a film, song or book is not a name
            if _CODE.match(sentence, m.end()):
                continue  # a model or weapon code: "AK-47", "Boeing 737"
            before = sentence[: m.start()].rsplit(None, 2)[-2:]
            nxt = _NEXT.match(sentence, m.end())
            after = [nxt.group(1)] if nxt else []
            if len(m.group(0).split()) >= 3 and m.group(0).isupper():
                continue  # an all-capitals headline
            for words, first, possessive in _parts(m.group(0)):
                if possessive:
                    after = ["’s"]  # "from Nichols' attorneys": a possessor, not a place
                if first:
                    yield from _sorted_names(
                        words, before, after, m.start() == 0, common, lower, language
                    )
                else:
                    yield from _sorted_names(words, [], after, False, common, lower, language)


def _sorted_names(
    words: list[str],
    before: list[str],
    after: list[str],
    opens: bool,
    common: Container[str],
    lower: Container[str],
    language: str,
) -> Iterable[tuple[str, str, bool]]:
    """Yield the name(s) in one part of a capitalised run with its cue and person-likeness."""
    cue = before[-1].lower().strip(',«"“(') if before else ""
    if cue == "of" and len(before) > 1 and before[0].lower() in _BEFORE_OF_PLACE:
        cue = "in"  # "the port city of Bandar Abbas"
    person = not (
        cue in _ARTICLES or cue.isdigit() or (len(before) > 1 and before[0].lower() in ("a", "an"))
    )
    stems = stem_words(words, language)
    if stems and (stems[-1] in _ORG_WORDS or stems[-1] in _PLACE_WORDS):
        # "European Commission", "International Monetary Fund": only titles and small words
        # open such names ("The", "In", "President").
        common = _SMALL_WORDS.get(language) or _SMALL_WORDS["en"]
    if words and _adverb_or_gerund(words[0], opens):
        words, stems = words[1:], stems[1:]
    while words and words[0].lower() in common:
        if stems[0] in _PLACES and len(words) > 1 and words[1].lower() not in _TITLES:
            break  # "New York", "North Carolina" are places, not a common word and a name
        if words[0].lower() == "the":
            person = False  # "The Hollywood Reporter", "The Hunger Games"
        if words[0].lower() in _TITLES or stems[0] in _TITLE_STEMS:
            cue, person = "president", True  # "the Russian President Vladimir Putin"
            if len(words) > 1 and words[1] == "of":
                cue = "of"  # "Governor of Qeshm" is a role, and Qeshm no person
        words, stems = words[1:], stems[1:]
    while words and words[-1].lower().rstrip(".") in _TRAILING_TITLES:
        words, stems = words[:-1], stems[:-1]  # "Alaska Gov." -> "Alaska"
    if "of" in words[1:-1]:
        k = words.index("of")
        if all(s in _PLACES for s in stems[:k]) and not all(s in _PLACES for s in stems[k + 1 :]):
            # "Athens of Alexandros Grigoropoulos": a place, then someone else
            yield from _sorted_names(words[:k], before, [], opens, common, lower, language)
            yield from _sorted_names(words[k + 1 :], ["of"], after, False, common, lower, language)
            return
    cut = next((k for k, w in enumerate(words) if w.lower() in _SKIP), len(words))
    words, stems = words[:cut], stems[:cut]  # "South Richmond Hill Friday" -> "South Richmond Hill"
    if len(words) == 3 and (
        (stems[0] in _PLACES and stems[0] not in _COMPASS)
        or stems[0] in _ORG_WORDS
        or _acronym(words[0])
    ):
        rest = stems[1:]
        if not any(w in _KNOWN for w in rest) and not any(w.islower() for w in words):
            # "President of Russia Dmitry Peskov" -> Dmitry Peskov; "BBC Frances Harrison"
            if words[0].lower() not in _NOT_ORGS and (_acronym(words[0]) or not opens):
                yield words[0], cue, False
            words, stems, cue = words[1:], stems[1:], ""
    while words and words[0].islower():
        words, stems = words[1:], stems[1:]  # a connector left in front: "of Aden"
    if not words or len(words) > 4 or len(words[0]) < 2:
        return  # headline-case phrases, months, stray initials
    if len(words) == 1:
        if stems[0] in _PLACE_WORDS:
            return  # "Street", "Island" alone name nothing
        if opens and not words[0].isupper():
            return  # one capitalised word opening a sentence is no evidence of a name
        if _acronym(words[0]) and (words[0].lower() in _NOT_ORGS or words[0].lower() in common):
            return  # "GMT", "KO", "FIRE", "UPDATED"
        if stems[0] in _GENERIC_ORG and not words[0].isupper():
            return  # "Magazine", "Command" alone name nothing
    if all(w.lower() in _NOT_ORGS for w in words):
        return  # "PM EDT"
    # A person's name has no acronym, digit or capitalised small word in it, and does not end
    # in a common word ("Somerset Fire", "Indian Naval", "Take Me Out").
    person = (
        person
        and not any(
            _acronym(w)
            or any(c.isdigit() for c in w)
            or w.lower() in STOP_WORDS.get(language, STOP_WORDS["en"])
            for w in words
        )
        and (len(words) == 1 or words[-1].lower() not in lower)
    )
    if cue in _LOCATIVE and after:
        nxt = after[0].strip(",.;:!?")
        if nxt in ("him", "her", "them", "it", "’s") or (
            len(words) == 1
            and nxt.islower()
            and nxt.endswith("s")
            and nxt not in _SAYS
            and nxt not in STOP_WORDS.get(language, STOP_WORDS["en"])
        ):
            cue = ""  # "to Taser him", "Molotov cocktails": no place here
    if cue in _WEAK_LOCATIVE and len(words) > 1 and language not in ("ru", "uk", "be"):
        cue = ""
    yield " ".join(words), cue, person


def _kind(name: str, cue: str, language: str, person: bool) -> str:
    """Return "people", "organisations", "places" or "" (unsure: left out)."""
    words = name.split()
    stems = stem_words(words, language)
    if (
        len(stems) > 1
        and all(s in _PLACES for s in stems[:-1])
        and (stems[0] not in _COMPASS or len(stems) > 2)
        and words[-1].endswith("s")
        and stems[-1] not in _PLACES
        and stems[-1] not in _PLACE_WORDS
    ):
        return "organisations"  # a team: "New York Mets", "Boston Celtics"
    if all(s in _PLACES for s, w in zip(stems, words, strict=True) if not w.islower()):
        return "places"  # "Gulf of Aden"
    if stems[-1] in _PLACE_WORDS:
        return "places"
    if all(_acronym(w) for w in words) or any(w in _ORG_WORDS for w in stems):
        return "organisations"  # acronyms that are not places: NATO, МИД, "МИД РФ"
    if len(stems) > 1 and stems[0] in _COMPASS:
        return "places"  # "East Flatbush", "Upper Silesia": nobody is called North or New
    if cue in _LOCATIVE and not any(_acronym(w) for w in words):
        return "places"
    if person and (cue in _TITLES or len(stems) in (2, 3)):
        return "people"
    return ""


def find_facts(texts: Iterable[str], language: str, limit: int | None = MAX_NAMES) -> KeyFacts:
    """Return the people, organisations and places named in `texts`, most mentioned first."""
    if language in RUSSIAN:
        russian = facts_ru.count_names(facts_ru.find_mentions(texts))
        return KeyFacts(**{k: _top(c, limit) for k, c in russian.items()})
    votes: dict[str, Counter[str]] = {}  # each mention votes for a kind; the majority wins
    forms: dict[str, Counter[str]] = {}  # "России", "Россией" are one name: key by stems
    mentions = [m for text in texts for m in _names(text, language)]
    # A surname met at the end of one name and in front of another is a possessor there:
    # "адвокат Ивана Голунова Сергей Бадамшин" is Golunov's lawyer Sergei Badamshin.
    surnames = {n.rsplit(" ", 1)[1] for n, _, _ in mentions if " " in n}
    for name, cue, person in mentions:
        kind = _kind(name, cue, language, person)
        words = name.split()
        if kind == "people" and len(words) > 2:
            k = next((k for k in range(1, len(words) - 1) if words[k - 1] in surnames), 0)
            name = " ".join(words[k:])
        key = " ".join(stem_words(_canonical(name).split(), language))
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
    return KeyFacts(**{k: _top(c, limit) for k, c in counts.items()})


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
        for name in [n for n in names if _acronym(n) and n in expansions]:
            kind, full = expansions[name]
            counts[kind][full] += names.pop(name)


def _top(counts: dict[str, int], limit: int | None) -> tuple[str, ...]:
    """Return the names most mentioned first; ties keep the order the texts named them in."""
    ranked = sorted(counts, key=lambda n: -counts[n])
    return tuple(ranked[:limit])
