"""Key facts of an event: people, organisations, places, and dates resolved to calendar days.

No model is downloaded: names are capitalised word sequences sorted into kinds by small
per-language cue lists (titles before people, words of organisations, known places), and
dates are regular expressions resolved against the article's publish date.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from digest.models import DatedItem, KeyFacts
from digest.text import STOP_WORDS, split_sentences, stem_words

MAX_NAMES = 6
FACT_CHARS = 2500  # names that matter are in the first paragraphs; the rest costs time

_EN_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_RU_MONTHS = [
    "январ",
    "феврал",
    "март",
    "апрел",
    "ма[йяе]",
    "июн",
    "июл",
    "август",
    "сентябр",
    "октябр",
    "ноябр",
    "декабр",
]
_MON = {
    # English months are matched capitalised only: "may" and "march" are also common words.
    "en": r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\b\.?",
    "ru": "(" + "|".join(_RU_MONTHS) + r")[а-я]*",
}
_WEEKDAYS = {
    "en": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
    "ru": ["понедельник", "вторник", "сред", "четверг", "пятниц", "суббот", "воскресен"],
}
_PART = {
    "early": 5, "beginning of": 5, "mid": 15, "late": 25, "end of": 28,
    "в начале": 5, "в середине": 15, "в конце": 28,
}  # fmt: skip
_SHIFT = {"this": 0, "next": 1, "last": -1, "этого": 0, "следующего": 1, "прошлого": -1}
_PATTERNS: dict[str, list[tuple[str, str]]] = {
    "en": [
        ("part", r"\b((?i:early|mid|late|end of|beginning of))[-\s]+{M}(?:,?\s+(\d{{4}}))?"),
        ("day", r"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{M}(?:,?\s+(\d{{4}}))?"),
        ("mday", r"\b{M}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?"),
        ("year", r"\b[Ii]n\s+{M}\s+(this|next|last)\s+year\b"),
        ("weekday", r"\b((?i:next|this|coming))\s+(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"),
        ("tomorrow", r"\b([Tt]omorrow)\b"),
    ],
    "ru": [
        ("part", r"(в начале|в середине|в конце)\s+{M}(?:\s+(\d{{4}}))?"),
        ("day", r"\b(\d{{1,2}})\s+{M}(?:\s+(\d{{4}}))?"),
        ("year", r"\bв\s+{M}\s+(этого|следующего|прошлого)\s+года"),
        ("weekday", r"(в следующ|в эт|в ближайш)[а-я]*\s+(понедельник|вторник|сред|четверг|пятниц|суббот|воскресен)"),
        ("tomorrow", r"(завтра)"),
    ],
}  # fmt: skip
# One cheap search tells whether a paragraph can name a date at all.
_ANY_DATE = {
    "en": re.compile(
        r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|Mon|Tue|Wed|Thu|Fri|Sat|Sun|[Tt]omorrow)"
    ),
    "ru": re.compile(
        "(?i:" + _MON["ru"] + "|завтра|вторник|сред|четверг|пятниц|суббот|воскресен|понедельник)"
    ),
}
DATE_PATTERNS = {
    lang: [
        (kind, re.compile(p.format(M=_MON[lang]), re.I if lang == "ru" else 0)) for kind, p in pats
    ]
    for lang, pats in _PATTERNS.items()
}
# Words that put an undated month and day in the future or the past of the publish date.
_FUTURE = re.compile(
    r"\b(will|scheduled|due to|to be held|upcoming|next"
    r"|будет|будут|пройд[уеё]т|состоится|намечен|запланирован|предстоящ)",
    re.I,
)
_PAST = re.compile(
    r"\b(was|were|had|took place|ago|earlier|last|прошл\w*|был\w?|\w+(?:ил|ал|ел|ял)[аио]?)\b", re.I
)


def _month(word: str, language: str) -> int:
    word = word.lower()
    if language == "ru":
        return next((i + 1 for i, s in enumerate(_RU_MONTHS) if re.match(s, word)), 0)
    return next((i + 1 for i, s in enumerate(_EN_MONTHS) if word.startswith(s)), 0)


def _in_year(month: int, day: int, published: date, tense: int) -> date:
    """Return the month/day in the year implied by the sentence's tense (0: the nearest)."""
    options = []
    for year in (published.year - 1, published.year, published.year + 1):
        candidate = date(year, month, min(day, 28) if month == 2 else day)
        if tense == 0 or (candidate >= published) == (tense > 0):
            options.append(candidate)
    return min(options or [published], key=lambda d: abs(d - published))


def _resolve(kind: str, g: tuple[str, ...], published: date, lang: str, tense: int) -> date | None:
    """Return the date that one match of the pattern of `kind` names, or None."""
    if kind in ("day", "mday", "part"):
        first, word = (g[1], g[0]) if kind == "mday" else (g[0], g[1])
        month = _month(word, lang)
        day = _PART[first.lower().replace("-", " ")] if kind == "part" else int(first)
        if not month or not 1 <= day <= 31:
            return None
        return date(int(g[2]), month, day) if g[2] else _in_year(month, day, published, tense)
    if kind == "year":
        return date(published.year + _SHIFT[g[1].lower()], _month(g[0], lang), 15)
    if kind == "weekday":
        target = next(i for i, w in enumerate(_WEEKDAYS[lang]) if g[1].lower().startswith(w))
        ahead = (target - published.weekday()) % 7 or 7
        return published + timedelta(
            days=ahead + (7 if g[0].lower() == "next" and ahead < 2 else 0)
        )
    return published + timedelta(days=1)  # tomorrow


def _tense(sentence: str) -> int:
    return 1 if _FUTURE.search(sentence) else -1 if _PAST.search(sentence) else 0


def find_dates(text: str, published: datetime, language: str) -> list[DatedItem]:
    """Return the dates mentioned in `text`, resolved against `published`, in text order."""
    lang = "ru" if language in ("ru", "uk", "be") else "en"
    patterns, day0 = DATE_PATTERNS[lang], published.date()
    items: list[DatedItem] = []
    for paragraph in text.split("\n"):
        if not _ANY_DATE[lang].search(paragraph):
            continue  # most paragraphs name no date: skip splitting them
        for sentence in split_sentences(paragraph, language):
            taken: list[tuple[int, int]] = []
            for kind, pattern in patterns:
                for m in pattern.finditer(sentence):
                    if any(m.start() < e and s < m.end() for s, e in taken):
                        continue
                    try:
                        when = _resolve(kind, m.groups(), day0, lang, _tense(sentence))
                    except ValueError:  # 31 February and the like
                        continue
                    if when is not None:
                        taken.append(m.span())
                        label = sentence if len(sentence) <= 160 else sentence[:157] + "…"
                        items.append(
                            DatedItem(
                                when,
                                label,
                                m.group(0).rstrip("."),
                                approximate=kind in ("part", "year"),
                            )
                        )
    return items


# --- names -------------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _stems(text: str) -> frozenset[str]:
    """Return the words stemmed as English and as Russian (the lists mix both)."""
    return frozenset(stem_words(text.split(), "en") + stem_words(text.split(), "ru"))


_NAME = re.compile(r"[A-ZА-ЯЁ][\w’'\-]*(?:\s+(?:of|de|von|van|al|bin)?\s*[A-ZА-ЯЁ][\w’'\-]*)*")
_TITLES = _words(
    """president minister prime mr mrs ms dr secretary senator chancellor king queen prince
    judge spokesman spokeswoman leader chief ceo actor actress singer director coach general
    press russian american british french german chinese ukrainian israeli iranian former
    президент премьер министр глава лидер председатель пресс-секретарь"""
)
_ORG_WORDS = _stems(
    """inc corp company co ltd group bank party council committee agency ministry department
    university association union organisation organization court police army navy commission
    fund office house senate parliament congress government news times post reuters nato un
    eu fbi cia opec apec fifa kremlin pentagon summit academy awards survey institute министерство партия агентство компания
    банк совет комитет союз служба суд правительство кремль госдума дума"""
)
_PLACES = _stems(
    """russia china japan france germany britain england scotland ukraine india iran iraq
    israel syria turkey italy spain poland canada mexico brazil australia europe asia africa
    america korea north south east west washington moscow london paris berlin beijing tokyo
    kiev kyiv helsinki hamburg carolina california texas york new brussels geneva rome madrid
    nang malibu hollywood arab emirates los angeles chicago florida us usa uk gulf aden united states
    kingdom россия москва китай сша франция германия украина париж лондон вашингтон хельсинки
    европа япония петербург санкт киев минск беларусь"""
)
_PLACE_WORDS = _stems(
    """avenue street square island river city bay gulf sea ocean mountains valley county
    province region district village airport площадь улица остров река область район"""
)
_QUOTES = frozenset("\"“«'‘")
_QUOTED = re.compile(r"[,.!?]?[\"”»'’]")
_LOCATIVE = _words("in at from to near в из во на под около")
_LOWER_WORD = re.compile(r"\b[a-zа-яё][a-zа-яё’'\-]+\b")
_SKIP = _words(
    """monday tuesday wednesday thursday friday saturday sunday january february march april
    june july august september october november december"""
)


def _names(text: str, language: str) -> Iterable[tuple[str, str]]:
    """Yield (name, word before it) for capitalised sequences, titles split off."""
    text = text[:FACT_CHARS]
    stop = STOP_WORDS.get(language, STOP_WORDS["en"])
    # A capitalised word that the text also uses in lower case is a common word opening a
    # sentence or a job title ("Comedian Ellen DeGeneres"), not part of a name.
    common = set(_LOWER_WORD.findall(text)) | stop | _TITLES
    for sentence in split_sentences(text, language):
        if "©" in sentence:
            continue  # photo credits name photographers, not the story's people
        for m in _NAME.finditer(sentence):
            words = m.group(0).replace("’s", "").replace("'s", "").split()
            before = sentence[: m.start()].split()[-1:] or [""]
            cue = before[0].lower().strip(',«"')
            while words and words[0].lower() in common:
                cue = "president" if words[0].lower() in _TITLES else cue
                words = words[1:]  # "Russian President Vladimir Putin" -> "Vladimir Putin"
            stems = stem_words(words, language)
            if len(words) == 3 and stems[0] in _PLACES and not set(stems) <= _PLACES:
                words = words[1:]  # "President of Russia Dmitry Peskov" -> "Dmitry Peskov"
            if _QUOTED.match(sentence, m.end()) and sentence[m.start() - 1 : m.start()] in _QUOTES:
                continue  # a quoted title of a film, song or book is not a name
            cut = next((k for k, w in enumerate(words) if w.lower() in _SKIP), len(words))
            words = words[:cut]  # "South Richmond Hill Friday" -> "South Richmond Hill"
            while words and words[0].islower():
                words = words[1:]  # a connector left in front: "of Aden"
            if not words or len(words) > 4 or len(words[0]) < 2:
                continue  # headline-case phrases, months, stray initials
            if len(words) == 1 and stem_words(words, language)[0] in _PLACE_WORDS:
                continue  # "Street", "Island" alone name nothing
            if len(words) == 1 and m.start() == 0 and not words[0].isupper():
                continue  # one capitalised word opening a sentence is no evidence of a name
            yield " ".join(words), cue


def _kind(name: str, cue: str, language: str) -> str:
    """Return "people", "organisations", "places" or "" (unsure: left out)."""
    stems = stem_words(name.split(), language)
    if all(w in _PLACES for w in stems) or stems[-1] in _PLACE_WORDS:
        return "places"
    if (name.isupper() and " " not in name) or any(w in _ORG_WORDS for w in stems):
        return "organisations"  # acronyms that are not places: NATO, МИД
    if cue in _LOCATIVE:
        return "places"
    if cue in _TITLES or len(stems) in (2, 3):
        return "people"
    return ""


def find_facts(texts: Iterable[str], language: str) -> KeyFacts:
    """Return the people, organisations and places named in `texts`, most mentioned first."""
    votes: dict[str, Counter[str]] = {}  # each mention votes for a kind; the majority wins
    forms: dict[str, Counter[str]] = {}  # "России", "Россией" are one name: key by stems
    for text in texts:
        for name, cue in _names(text, language):
            key = " ".join(stem_words(name.split(), language))
            votes.setdefault(key, Counter())[_kind(name, cue, language)] += 1
            forms.setdefault(key, Counter())[name] += 1
    counts: dict[str, Counter[str]] = {k: Counter() for k in ("people", "organisations", "places")}
    for key, kinds in votes.items():
        kind = max(kinds, key=lambda k: (kinds[k], k != ""))
        if kind:
            counts[kind][forms[key].most_common(1)[0][0]] = kinds.total()
    for names in counts.values():
        for short in sorted(names, key=len):
            full = [n for n in names if n.endswith(" " + short)]
            if full:  # "Putin" is "Vladimir Putin"; "Monetary Fund" is the IMF's full name
                names[full[0]] += names.pop(short)
    return KeyFacts(**{k: tuple(n for n, _ in c.most_common(MAX_NAMES)) for k, c in counts.items()})
