"""Dates in an event's text, resolved to calendar days against the article's publish date.

Regular expressions per language ("6 November", "Jan. 5, 2019", "mid-February", "next
Tuesday", "6 ноября", "в середине февраля"); an undated month and day takes the year the
sentence's tense implies. A date inside a name ("the September 11 attacks") is no event.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from digest.models import DatedItem
from digest.text import split_sentences

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


# A date that names something is no dated event: "the September 11 attacks", "9/11",
# «теракты 11 сентября».
_NAMED_AFTER = re.compile(
    r"\s*(?:attack|attacker|bombing|hijacker|terror|massacre|memorial|commission|victim"
    r"|anniversar|generation|era\b|-era)",
    re.I,
)
_NAMED_BEFORE = re.compile(r"(?:теракт|трагеди|годовщин|атак)\w*\s+$", re.I)


def _names_something(sentence: str, start: int, end: int) -> bool:
    """Tell a date that is part of a name ("the September 11 attacks") from a dated event."""
    return bool(_NAMED_AFTER.match(sentence, end) or _NAMED_BEFORE.search(sentence[:start]))


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
                    if _names_something(sentence, m.start(), m.end()):
                        taken.append(m.span())
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
