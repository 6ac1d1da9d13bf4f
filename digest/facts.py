"""Key facts of an event: people, organisations, places, and dates resolved to calendar days.

No model is downloaded: names are capitalised word sequences sorted into kinds by small
per-language cue lists (titles before people, suffixes of organisations, known places);
dates are regular expressions resolved against the article's publish date.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from digest.models import DatedItem, KeyFacts
from digest.text import STOP_WORDS, split_sentences

MAX_NAMES = 6

_MONTHS_EN = "january february march april may june july august september october november december"
MONTHS: dict[str, int] = {m: i + 1 for i, m in enumerate(_MONTHS_EN.split())}
MONTHS |= {m[:3]: i for m, i in list(MONTHS.items())} | {"sept": 9}
_RU_STEMS = ["январ", "феврал", "март", "апрел", "ма", "июн", "июл", "август", "сентябр", "октябр", "ноябр", "декабр"]
_RU_MONTH = r"(январ|феврал|март|апрел|ма|июн|июл|август|сентябр|октябр|ноябр|декабр)[а-я]*"
WEEKDAYS = {
    d: i for i, d in enumerate(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])
}
WEEKDAYS_RU = {
    d: i for i, d in enumerate(["понедельник", "вторник", "сред", "четверг", "пятниц", "суббот", "воскресен"])
}

_EN_MONTH = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_YEAR = r"(?:,?\s+(\d{4}))?"
_DATE_PATTERNS: dict[str, list[tuple[str, re.Pattern[str]]]] = {
    "en": [
        (
            "day_month",
            re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_EN_MONTH}{_YEAR}\b", re.I),
        ),
        ("month_day", re.compile(rf"\b{_EN_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b{_YEAR}", re.I)),
        (
            "part_month",
            re.compile(rf"\b(early|mid|late|end of|beginning of)[-\s]+{_EN_MONTH}{_YEAR}\b", re.I),
        ),
        ("month_this_year", re.compile(rf"\bin\s+{_EN_MONTH}\s+(this|next|last)\s+year\b", re.I)),
        (
            "weekday",
            re.compile(
                r"\b(next|this|last|coming)\s+(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
                re.I,
            ),
        ),
        ("relative", re.compile(r"\b(tomorrow|yesterday|today)\b", re.I)),
    ],
    "ru": [
        ("day_month", re.compile(rf"\b(\d{{1,2}})\s+{_RU_MONTH}(?:\s+(\d{{4}}))?", re.I)),
        (
            "part_month",
            re.compile(rf"\b(в начале|в середине|в конце)\s+{_RU_MONTH}(?:\s+(\d{{4}}))?", re.I),
        ),
        (
            "month_this_year",
            re.compile(rf"\bв\s+{_RU_MONTH}\s+(этого|следующего|прошлого)\s+года", re.I),
        ),
        (
            "weekday",
            re.compile(
                r"\b(в следующ|в эт|в прошл)[а-я]*\s+(понедельник|вторник|сред|четверг|пятниц|суббот|воскресен)[а-я]*",
                re.I,
            ),
        ),
        ("relative", re.compile(r"\b(завтра|вчера|сегодня)\b", re.I)),
    ],
}
_PART_DAY = {"early": 5, "beginning of": 5, "mid": 15, "late": 25, "end of": 28}
_PART_DAY |= {"в начале": 5, "в середине": 15, "в конце": 28}
_RELATIVE = {"tomorrow": 1, "yesterday": -1, "today": 0, "завтра": 1, "вчера": -1, "сегодня": 0}
_YEAR_SHIFT = {"this": 0, "next": 1, "last": -1, "этого": 0, "следующего": 1, "прошлого": -1}


def _month(word: str, language: str) -> int:
    word = word.lower().rstrip(".")
    if language == "ru":
        return next((i + 1 for i, s in enumerate(_RU_STEMS) if word.startswith(s)), 0)
    return MONTHS.get(word, MONTHS.get(word[:3], 0))


def _nearest_year(month: int, day: int, published: date) -> date | None:
    """Return the month/day in the year that puts it closest to the publish date."""
    best: date | None = None
    for year in (published.year - 1, published.year, published.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if best is None or abs(candidate - published) < abs(best - published):
            best = candidate
    return best


def _resolve(
    kind: str, m: re.Match[str], published: date, language: str
) -> tuple[date, bool] | None:
    """Return (date, approximate) for one match of the pattern of `kind`, or None."""
    g = m.groups()
    try:
        if kind in ("day_month", "month_day"):
            day, month_word = (g[0], g[1]) if kind == "day_month" else (g[1], g[0])
            month, year = _month(month_word, language), g[2]
            if not month:
                return None
            if year:
                return date(int(year), month, int(day)), False
            found = _nearest_year(month, int(day), published)
            return (found, False) if found else None
        if kind == "part_month":
            month = _month(g[1], language)
            day = _PART_DAY[g[0].lower().replace("-", " ")]
            if g[2]:
                return date(int(g[2]), month, day), True
            found = _nearest_year(month, day, published)
            return (found, True) if found else None
        if kind == "month_this_year":
            return date(
                published.year + _YEAR_SHIFT[g[1].lower()], _month(g[0], language), 15
            ), True
        if kind == "weekday":
            return _weekday(g[0].lower(), g[1].lower(), published, language), False
        if kind == "relative":
            return published + timedelta(days=_RELATIVE[g[0].lower()]), False
    except (ValueError, KeyError):
        return None
    return None


def _weekday(which: str, name: str, published: date, language: str) -> date:
    table = WEEKDAYS_RU if language == "ru" else WEEKDAYS
    target = next(v for k, v in table.items() if name.startswith(k))
    ahead = (target - published.weekday()) % 7 or 7
    if which.startswith(("last", "в прошл")):
        return published + timedelta(days=ahead - 7 if ahead != 7 else -7)
    if which.startswith(("next", "в следующ")) and ahead < 2:
        ahead += 7
    return published + timedelta(days=ahead)


def find_dates(text: str, published: datetime, language: str) -> list[DatedItem]:
    """Return the dates mentioned in `text`, resolved against `published`, in text order."""
    patterns = _DATE_PATTERNS["ru" if language in ("ru", "uk") else "en"]
    lang = "ru" if language in ("ru", "uk") else "en"
    day0 = published.date()
    items: list[DatedItem] = []
    for sentence in split_sentences(text, language):
        taken: list[tuple[int, int]] = []
        for kind, pattern in patterns:
            for m in pattern.finditer(sentence):
                if any(m.start() < e and s < m.end() for s, e in taken):
                    continue
                resolved = _resolve(kind, m, day0, lang)
                if resolved is None:
                    continue
                taken.append(m.span())
                label = sentence if len(sentence) <= 160 else sentence[:157].rstrip() + "…"
                items.append(
                    DatedItem(
                        when=resolved[0], label=label, text=m.group(0), approximate=resolved[1]
                    )
                )
    return items


# --- names -------------------------------------------------------------------------------

_NAME = re.compile(
    r"(?:[A-ZА-ЯЁ][\w’'\-]*\.?)(?:\s+(?:of|de|von|van|al|bin|the|и)?\s*[A-ZА-ЯЁ][\w’'\-]*)*"
)
_PERSON_CUES = frozenset(
    ["president", "minister", "mr", "mrs", "ms", "dr", "secretary", "senator", "chancellor", "king", "queen", "prince", "judge", "spokesman", "spokeswoman", "leader", "chief", "ceo", "actor", "actress", "singer", "director", "coach", "said", "президент", "премьер", "министр", "глава", "лидер", "председатель", "пресс-секретарь"]
)
_ORG_WORDS = frozenset(
    ["inc", "corp", "company", "co", "ltd", "group", "bank", "party", "council", "committee", "agency", "ministry", "department", "university", "association", "union", "organisation", "organization", "court", "police", "army", "commission", "fund", "office", "house", "senate", "parliament", "congress", "government", "news", "times", "post", "reuters", "nato", "un", "eu", "fbi", "cia", "opec", "apec", "fifa", "kremlin", "pentagon", "ведомство", "министерство", "партия", "агентство", "компания", "банк", "совет", "комитет", "союз", "служба", "суд", "правительство", "кремль", "госдума", "дума"]
)
PLACES = frozenset(
    ["russia", "china", "japan", "france", "germany", "britain", "england", "scotland", "ukraine", "india", "iran", "iraq", "israel", "syria", "turkey", "italy", "spain", "poland", "canada", "mexico", "brazil", "australia", "europe", "asia", "africa", "america", "korea", "north", "south", "washington", "moscow", "london", "paris", "berlin", "beijing", "tokyo", "kiev", "kyiv", "helsinki", "hamburg", "carolina", "california", "texas", "york", "new", "brussels", "geneva", "rome", "madrid", "da", "nang", "malibu", "hollywood", "los", "angeles", "chicago", "florida", "us", "usa", "uk", "россия", "москва", "китай", "сша", "франция", "германия", "украина", "париж", "лондон", "вашингтон", "хельсинки", "европа", "япония"]
)


def _clean_name(raw: str) -> str:
    return raw.strip().rstrip(".").strip("’'")


def _names(text: str, language: str) -> Iterable[tuple[str, str]]:
    """Yield (name, previous word) for capitalised sequences not opening a sentence alone."""
    stop = STOP_WORDS.get(language, STOP_WORDS["en"])
    for sentence in split_sentences(text, language):
        for m in _NAME.finditer(sentence):
            name = _clean_name(m.group(0))
            words = name.split()
            while words and words[0].lower() in stop:
                words = words[1:]  # "The White House" keeps "White House"
            if not words or (len(words) == 1 and m.start() == 0):
                continue  # a single capitalised word opening a sentence is no evidence
            before = sentence[: m.start()].split()
            yield " ".join(words), (before[-1].lower().strip(",") if before else "")


def _kind(name: str, before: str) -> str:
    words = [w.lower().strip(".") for w in name.split()]
    if any(w in _ORG_WORDS for w in words) or (name.isupper() and len(name) > 1):
        return "organisations"
    if all(w in PLACES or w[:5] in {p[:5] for p in PLACES if len(p) > 5} for w in words):
        return "places"
    if before in _PERSON_CUES or (len(words) in (2, 3) and before != "in"):
        return "people"
    return "places" if before in ("in", "at", "from", "в", "из") else "organisations"


def find_facts(texts: Iterable[str], language: str) -> KeyFacts:
    """Return the people, organisations and places named in `texts`, most mentioned first."""
    counts: dict[str, Counter[str]] = {k: Counter() for k in ("people", "organisations", "places")}
    for text in texts:
        for name, before in _names(text, language):
            if len(name) > 1 and name.lower() not in STOP_WORDS.get(language, frozenset()):
                counts[_kind(name, before)][name] += 1
    return KeyFacts(**{k: tuple(n for n, _ in c.most_common(MAX_NAMES)) for k, c in counts.items()})
