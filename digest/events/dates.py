"""Dates in an event's text, resolved to calendar days against the article's publish date.

Regular expressions per language ("6 November", "Jan. 5, 2019", "mid-February", "next
Tuesday", "6 ноября", "в середине февраля"); an undated month and day takes the year the
sentence's tense implies. A date inside a name ("the September 11 attacks", a cinema «КАРО
11 Октябрь») is no event. A vague date keeps how vague it is (`DatedItem.part`), so no
format shows it as a day the text never gave; a range gives its start.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from digest.models import DatedItem, DatePart
from digest.text import shorten, split_sentences

_EN_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
# By their first letters: «мар» (март, марта) is tried before «ма» (мая, мае).
_RU_MONTHS = ["янв", "фев", "мар", "апр", "ма", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"]
_MON = {
    # English months are matched capitalised only: "may" and "march" are also common words.
    "en": r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\b\.?",
    # A Russian day is written with the month in the genitive and in small letters
    # («11 октября»); «11 Октябрь» is a name (a cinema «КАРО 11 Октябрь»), not a date.
    "ru": r"(января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября"
    r"|декабря|янв|февр?|мар|апр|июн|июл|авг|сент?|окт|нояб?|дек)(?![а-яё])\.?",
}
# Any case of a Russian month («в ноябре этого года», «в середине февраля»).
_RU_ANY_MONTH = (
    r"(январ|феврал|март|апрел|ма[йяе]|июн|июл|август|сентябр|октябр|ноябр|декабр)[а-я]*"
)
_WEEKDAYS = {
    "en": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
    "ru": ["понедельник", "вторник", "сред", "четверг", "пятниц", "суббот", "воскресен"],
}
_PART: dict[str, DatePart] = {
    "early": "early", "beginning of": "early", "mid": "mid", "late": "late", "end of": "late",
    "в начале": "early", "в середине": "mid", "в конце": "late",
}  # fmt: skip
# The day a vague date sorts by (never shown): the middle of its part of the month.
PART_DAY = {"early": 5, "mid": 15, "late": 25, "month": 15}
_SHIFT = {"this": 0, "next": 1, "last": -1, "этого": 0, "следующего": 1, "прошлого": -1}
_RANGE_EN = r"\s*(?:-|–|—|to|and|until|through)\s*"
_RANGE_RU = r"\s*(?:-|–|—|по|до|и)\s*"
_PATTERNS: dict[str, list[tuple[str, str]]] = {
    "en": [
        ("part", r"\b((?i:early|mid|late|end of|beginning of))[-\s]+{M}(?:,?\s+(\d{{4}}))?"),
        # "3-5 November", "3 to 5 November": the range's start
        ("day", r"\b(\d{{1,2}})(?:st|nd|rd|th)?" + _RANGE_EN + r"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{M}(?:,?\s+(\d{{4}}))?"),
        ("mday", r"\b{M}\s+(\d{{1,2}})(?:st|nd|rd|th)?" + _RANGE_EN + r"\d{{1,2}}\b(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?"),
        ("day", r"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{M}(?:,?\s+(\d{{4}}))?"),
        ("mday", r"\b{M}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?"),
        ("year", r"\b[Ii]n\s+{M}\s+(this|next|last)\s+year\b"),
        ("weekday", r"\b((?i:next|this|coming))\s+(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"),
        ("tomorrow", r"\b([Tt]omorrow)\b"),
    ],
    "ru": [
        ("part", r"(?<![\w-])([Вв] начале|[Вв] середине|[Вв] конце)\s+" + _RU_ANY_MONTH + r"(?:\s+(\d{{4}}))?"),
        # «с 20 по 25 ноября», «23 и 24 ноября»: the range's start
        ("day", r"(?<![\w.,-])(\d{{1,2}})" + _RANGE_RU + r"\d{{1,2}}\s+{M}(?:\s+(\d{{4}}))?"),
        ("day", r"(?<![\w.,-])(\d{{1,2}})(?:-?(?:го|е|ое))?\s+{M}(?:\s+(\d{{4}}))?"),
        ("year", r"(?<![\w-])[Вв]\s+" + _RU_ANY_MONTH + r"\s+(этого|следующего|прошлого)\s+года"),
        ("weekday", r"(?<![\w-])([Вв] следующ|[Вв] эт|[Вв] ближайш)[а-я]*\s+(понедельник|вторник|среду|четверг|пятницу|субботу|воскресенье)(?![а-яё])"),
        ("tomorrow", r"(?<![\w-])([Зз]автра)(?![а-яё])"),
    ],
}  # fmt: skip
# One cheap search tells whether a paragraph can name a date at all.
_ANY_DATE = {
    "en": re.compile(
        r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|Mon|Tue|Wed|Thu|Fri|Sat|Sun|[Tt]omorrow)"
    ),
    "ru": re.compile(
        "(?i:" + _RU_ANY_MONTH + "|янв|фев|мар|апр|авг|сен|окт|ноя|дек|завтра|вторник|сред"
        "|четверг|пятниц|суббот|воскресен|понедельник)"
    ),
}
DATE_PATTERNS = {
    lang: [(kind, re.compile(p.format(M=_MON[lang]))) for kind, p in pats]
    for lang, pats in _PATTERNS.items()
}
# Words that put an undated month and day in the future or the past of the publish date.
_FUTURE = re.compile(
    r"\b(will|scheduled|due to|to be held|upcoming|next"
    r"|будет|будут|пройд[уеё]т|состоится|намечен|запланирован|предстоящ|откроется|начнется"
    r"|начнётся)",
    re.I,
)
_PAST = re.compile(
    r"\b(was|were|had|took place|ago|earlier|last|прошл\w*|был\w?"
    r"|\w+(?:ил|ал|ел|ял|ыл)(?:[аио]|ись|ась|ось|ся|сь)?|прош[её]л|состоял\w*)\b",
    re.I,
)
# An undated day in a sentence that says which year: «в прошлом году», "next year".
_YEAR_CUE = re.compile(
    r"\b(?:(last|next|this) year|в (прошлом|следующем|этом|текущем) году)\b", re.I
)
_YEAR_SHIFT = {"last": -1, "next": 1, "this": 0, "прошлом": -1, "следующем": 1, "этом": 0}
_YEAR_SHIFT["текущем"] = 0
_CUE_CHARS = (
    30  # a year cue this near a date is about it: "last year's Nov. 22", "Nov. 28 this year"
)
# A weekday named beside a day: "Saturday, November 9", "Sunday (November 17)", «в субботу, 16
# ноября». The year whose calendar agrees is the date's, whatever the publish date says.
_WEEKDAY_BEFORE = {
    "en": re.compile(r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b,?\s*\(?\s*$"),
    "ru": re.compile(
        r"(?<![\w-])(понедельник|вторник|сред[уа]|четверг|пятниц[уа]|суббот[уа]|воскресенье)"
        r",?\s*\(?\s*$",
        re.I,
    ),
}
_WEEKDAY_CHARS = 20
_NEAR_TODAY = re.compile(
    r"(?:\b(?:today|yesterday|tomorrow)|(?<![\w-])(?:сегодня|вчера|завтра))\W{0,4}$", re.I
)


def _year_cue(sentence: str, start: int, end: int) -> int | None:
    """Return the year shift a cue near the date says ("last year's Nov. 22"), else None."""
    near = [
        c
        for c in _YEAR_CUE.finditer(sentence)
        if c.end() >= start - _CUE_CHARS and c.start() <= end + _CUE_CHARS
    ]
    if not near:
        return None
    cue = min(near, key=lambda c: min(abs(c.end() - start), abs(c.start() - end)))
    return _YEAR_SHIFT[(cue.group(1) or cue.group(2)).lower()]


def _weekday_named(sentence: str, start: int, end: int, lang: str) -> int | None:
    """Return the weekday (0 = Monday) named just before the date, else None."""
    m = _WEEKDAY_BEFORE[lang].search(sentence[max(0, start - _WEEKDAY_CHARS) : start])
    if m is None:
        return None
    return next(i for i, w in enumerate(_WEEKDAYS[lang]) if m.group(1).lower().startswith(w))


def _with_weekday(month: int, day: int, weekday: int, published: date) -> date:
    """Return the month/day nearest to the publish date that falls on that weekday."""
    options = []
    for year in (published.year - 1, published.year, published.year + 1):
        candidate = date(year, month, min(day, 28) if month == 2 else day)
        if candidate.weekday() == weekday:
            options.append(candidate)
    return min(options or [_in_year(month, day, published, 0)], key=lambda d: abs(d - published))


def _month(word: str, language: str) -> int:
    word = word.lower()
    months = _RU_MONTHS if language == "ru" else _EN_MONTHS
    return next((i + 1 for i, s in enumerate(months) if word.startswith(s)), 0)


def _in_year(month: int, day: int, published: date, tense: int) -> date:
    """Return the month/day in the year implied by the sentence's tense (0: the nearest)."""
    options = []
    for year in (published.year - 1, published.year, published.year + 1):
        candidate = date(year, month, min(day, 28) if month == 2 else day)
        # The publish day itself is both: "was published on 18 November" that very day.
        if tense == 0 or candidate == published or (candidate > published) == (tense > 0):
            options.append(candidate)
    return min(options or [published], key=lambda d: abs(d - published))


def _resolve(
    kind: str, m: re.Match[str], published: date, lang: str, sentence: str
) -> tuple[date, DatePart] | None:
    """Return the date that one match of the pattern of `kind` names and its vagueness."""
    g = m.groups()
    if kind in ("day", "mday", "part"):
        first, word = (g[1], g[0]) if kind == "mday" else (g[0], g[1])
        month = _month(word, lang)
        part: DatePart = _PART[first.lower().replace("-", " ")] if kind == "part" else ""
        day = PART_DAY[part] if part else int(first)
        if not month or not 1 <= day <= 31:
            return None
        if g[2]:
            return date(int(g[2]), month, day), part
        shift = _year_cue(sentence, m.start(), m.end())
        if shift is not None:
            return date(published.year + shift, month, day), part
        weekday = None if part else _weekday_named(sentence, m.start(), m.end(), lang)
        if weekday is not None:
            return _with_weekday(month, day, weekday, published), part
        # «сегодня, 17 ноября», "yesterday (Nov 17)": the day is by the publish date.
        today = _NEAR_TODAY.search(sentence[max(0, m.start() - _WEEKDAY_CHARS) : m.start()])
        tense = 0 if today else _tense(sentence)
        return _in_year(month, day, published, tense), part
    if kind == "year":
        month = _month(g[0], lang)
        return date(published.year + _SHIFT[g[1].lower()], month, PART_DAY["month"]), "month"
    if kind == "weekday":
        target = next(i for i, w in enumerate(_WEEKDAYS[lang]) if g[1].lower().startswith(w))
        ahead = (target - published.weekday()) % 7 or 7
        extra = 7 if g[0].lower() == "next" and ahead < 2 else 0
        return published + timedelta(days=ahead + extra), ""
    return published + timedelta(days=1), ""  # tomorrow


# A date that names something is no dated event: "the September 11 attacks", "9/11",
# «теракты 11 сентября».
_NAMED_AFTER = re.compile(
    r"\s*(?:attack|attacker|bombing|hijacker|terror|massacre|memorial|commission|victim"
    r"|anniversar|generation|era\b|-era)",
    re.I,
)
_NAMED_BEFORE = re.compile(r"(?:теракт|трагеди|годовщин|атак)\w*\s+$", re.I)
# The end of a range told as two dates: "30 November – 2 December", «с 30 ноября по 2 декабря».
_RANGE_END = re.compile(r"^\s*(?:-|–|—|to|until|till|through|по|до)\s*$", re.I)
# "between Nov. 1 and Dec. 24", «между 1 и 24 декабря»: "and" joins a range after "between".
_BETWEEN = re.compile(r"(?:\bbetween|\bмежду)\s+$", re.I)
_AND = re.compile(r"^\s*(?:and|и)\s*$", re.I)


def _names_something(sentence: str, start: int, end: int) -> bool:
    """Tell a date that is part of a name ("the September 11 attacks") from a dated event."""
    return bool(_NAMED_AFTER.match(sentence, end) or _NAMED_BEFORE.search(sentence[:start]))


def _tense(sentence: str) -> int:
    return 1 if _FUTURE.search(sentence) else -1 if _PAST.search(sentence) else 0


# Verbs that can only tell of the past: a reflexive past («перевернулся», «открылась»),
# «прошёл», «состоялся», "took place". Nouns never end so (unlike «финал», «канал»).
_CLEARLY_PAST = re.compile(
    r"\b(?:\w{3,}(?:лся|лась|лось|лись)|прош[её]л|прошла|прошло|прошли|took place|was held"
    r"|were held|happened)\b",
    re.I,
)


def told_as_past(sentence: str) -> bool:
    """Tell a sentence that can only be about the past («…перевернулся автомобиль»).

    Its date is no "Coming up" item even when the calendar puts it after the publish date
    ("В среду, 20 ноября, … перевернулся автомобиль" in a story filed with a wrong date).
    """
    return _FUTURE.search(sentence) is None and _CLEARLY_PAST.search(sentence) is not None


LABEL_CHARS = 160
_CLAUSE = re.compile(r"(?:[,;:]|\s[—–-])\s")


def _clauses_around(sentence: str, start: int, end: int) -> tuple[int, int]:
    """Return the span of whole clauses around the date that fits a label, the following
    clause tried first when widening."""
    bounds = [0, *(m.end() for m in _CLAUSE.finditer(sentence)), len(sentence)]
    left = max(b for b in bounds if b <= start)
    right = min((b for b in bounds if b >= end), default=len(sentence))
    while True:
        later = [b for b in bounds if b > right]
        earlier = [b for b in bounds if b < left]
        if later and later[0] - left <= LABEL_CHARS:
            right = later[0]
        elif earlier and right - earlier[-1] <= LABEL_CHARS:
            left = earlier[-1]
        else:
            return left, right


def date_label(sentence: str, start: int, end: int) -> str:
    """Return the sentence, or when it is long the clauses around the date, cut at words.

    The clause that carries the date is always kept: a label cut after 157 characters
    lost it when the date came late in a long sentence.
    """
    if len(sentence) <= LABEL_CHARS:
        return sentence
    left, right = _clauses_around(sentence, start, end)
    text = sentence[left:right].strip().rstrip(",;:—–-").strip()
    if len(text) > LABEL_CHARS:
        # One clause longer than a label: cut it at words, the date inside.
        head = max(left, start - LABEL_CHARS // 3)
        left = sentence.rfind(" ", left, head) + 1 if head > left else left
        text = sentence[left:right].strip()
    text = shorten(text, LABEL_CHARS - (1 if left else 0))
    if left:
        return "…" + text
    return text if text.endswith("…") or right >= len(sentence) else text + "…"


def find_dates(text: str, published: datetime, language: str) -> list[DatedItem]:
    """Return the dates mentioned in `text`, resolved against `published`, in text order."""
    lang = "ru" if language in ("ru", "uk", "be") else "en"
    patterns, day0 = DATE_PATTERNS[lang], published.date()
    items: list[DatedItem] = []
    for paragraph in text.split("\n"):
        if not _ANY_DATE[lang].search(paragraph):
            continue  # most paragraphs name no date: skip splitting them
        for sentence in split_sentences(paragraph, language):
            found: list[tuple[int, int, date, DatePart, str]] = []
            taken: list[tuple[int, int]] = []
            for kind, pattern in patterns:
                for m in pattern.finditer(sentence):
                    if any(m.start() < e and s < m.end() for s, e in taken):
                        continue
                    taken.append(m.span())
                    if _names_something(sentence, m.start(), m.end()):
                        continue
                    try:
                        resolved = _resolve(kind, m, day0, lang, sentence)
                    except ValueError:  # 31 February and the like
                        continue
                    if resolved is not None:
                        found.append((m.start(), m.end(), *resolved, m.group(0).rstrip(".")))
            found.sort()
            previous_start, previous_end = -1, -1
            for start, end, when, part, said in found:
                between = sentence[previous_end:start] if previous_end >= 0 else ""
                if previous_end >= 0 and (
                    _RANGE_END.match(between)
                    or (_AND.match(between) and _BETWEEN.search(sentence[:previous_start]))
                ):
                    continue  # a range's end: its start stands for it
                previous_start, previous_end = start, end
                items.append(
                    DatedItem(
                        when,
                        date_label(sentence, start, end),
                        said,
                        approximate=bool(part),
                        part=part,
                    )
                )
    return items
