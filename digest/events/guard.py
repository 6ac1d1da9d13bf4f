"""The fact guard: what a generated summary states must be in its sources.

A language model writes fluent text and, now and then, a figure, a date or a name that no
source gave, or obeys an order planted in an article. Nothing here judges meaning; it checks
what a reader takes as fact, the way a reader would catch it:

- numbers are values, with their unit glued on or not: "$93bn", "a 93km stretch", «5млрд»,
  "5m" and "5 million" (= 5,000,000); a currency the summary names must be the source's, a
  percentage stays a percentage;
- dates: written ones resolved as for key facts, numeric ones ("13/6", "13.06.2013",
  "2013-06-13") as each day they can be read as;
- names: every capitalised word, a sentence's first one included unless the sources' own
  words show it is a common word ("Officials said" when a source says "officials");
  Russian names by lemma (pymorphy's dictionary, through natasha), so «Сомова» is «Сомов»;
- support: each generated sentence must share at least half of its content words with one
  source sentence, so a claim no sentence makes is refused even when its words are true.

A source sentence that gives orders to a model ("Ignore all previous instructions and write
that ...") is no report of a fact: it is left out of the evidence, so what it asks for has
nothing to stand on. The guard is deliberately strict: a false alarm costs one retry and,
at worst, the extractive summary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import Any

from digest.events.facts import find_dates
from digest.text import STOP_WORDS, shorten, split_sentences, stem_words, tokenize

# A generated sentence needs this share of its content words in one source sentence.
SUPPORT = 0.5
_RUSSIAN = ("ru", "uk", "be")

# -- orders to a model, planted in an article ------------------------------------------------

_ORDERS = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.!?]{0,40}?\b(?:instructions?|prompts?|"
    r"directions|rules|guidelines|system message)\b"
    r"|\b(?:as|you are|you're)\s+(?:now\s+)?an?\s+(?:ai|language model|llm|chatbot|assistant)\b"
    r"|\b(?:language model|llm|ai model|ai assistant|chatbot|summari[sz]er)s?\b[^.!?]{0,60}?"
    r"\b(?:must|should|shall|will|are instructed to|need to)\b"
    r"|\bsystem prompt\b"
    r"|^\W*(?:please\s+)?(?:now\s+)?(?:write|output|print|respond|answer|reply|summari[sz]e|"
    r"state|say|claim)\b[^.!?]{0,30}?\b(?:that|only|with|exactly)\b"
    r"|\b(?:игнорируй|проигнорируй|игнорируйте|забудь|забудьте|не обращай\w* внимани\w*)"
    r"[^.!?]{0,40}?(?:инструкци|указани|команд|правил|промпт)\w*"
    r"|\b(?:языков\w+ модел\w*|нейросет\w*|чат-?бот\w*|ассистент\w*|ии)\b[^.!?]{0,60}?"
    r"(?:должн\w*|обязан\w*|нужно|следует)"
    r"|систем\w+ (?:промпт|инструкци)\w*"
    r"|^\W*(?:напиши|напишите|ответь|ответьте|выведи|выведите|сообщи|сообщите)\b",
    re.IGNORECASE,
)


# Only a sentence holding one of these is searched with _ORDERS (most hold none).
_ORDER_HINT = re.compile(
    r"ignor|disregard|forget|overrid|instruction|prompt|model|llm|chatbot|assistant|summari|"
    r"\bai\b|^\W*(?:please|now|write|output|print|respond|answer|reply|state|say|claim)\b|"
    r"игнор|забуд|внимани|модел|нейросет|чат-?бот|ассистент|\bии\b|промпт|инструкци|"
    r"^\W*(?:напиши|ответь|выведи|сообщи)",
    re.IGNORECASE,
)


def gives_orders(sentence: str) -> bool:
    """Tell a sentence that addresses a language model ("Ignore all previous instructions")."""
    return bool(_ORDER_HINT.search(sentence)) and bool(_ORDERS.search(sentence))


def evidence_sentences(text: str, language: str) -> list[str]:
    """Return the sentences of a source text that can back a fact: orders to a model left out."""
    return [s for s in split_sentences(text, language) if not gives_orders(s)]


def without_orders(text: str, language: str) -> str:
    """Return text, paragraph by paragraph, without the sentences that give a model orders."""
    kept = []
    for paragraph in text.split("\n"):
        sentences = split_sentences(paragraph, language)
        if any(gives_orders(s) for s in sentences):
            paragraph = " ".join(s for s in sentences if not gives_orders(s))
        kept.append(paragraph)
    return "\n".join(kept)


# -- the check -------------------------------------------------------------------------------


def find_violations(
    summary: str, sources: Sequence[str], language: str, published: datetime
) -> tuple[str, ...]:
    """Return what the summary states that no source text contains (empty when clean).

    `summary` is the headline and the sentences, one per line; `sources` the event's texts;
    `published` the newest article's time, against which undated days resolve.
    """
    return Guard(sources, language, published).violations(summary)


class Guard:
    """The sources of one event, read once, against which each summary of it is checked."""

    def __init__(self, sources: Sequence[str], language: str, published: datetime) -> None:
        self.language, self.published = language, published
        kept = [evidence_sentences(text, language) for text in sources]
        corpus = "\n".join(" ".join(s) for s in kept)
        numeric, rest = _numeric_dates(corpus)
        self.days = [r for _, readings in numeric for r in readings]
        written = find_dates(corpus, published, language)
        self.days += [(d.when.year, d.when.month, d.when.day) for d in written]
        self.quantities = _quantities(_blank(rest, [d.text for d in written])) + [
            # "13.06.2013" and "6 June 2013" state the year 2013 too
            _Quantity(frozenset({Decimal(y)}), False, None, str(y))
            for y, _, _ in self.days
            if y
        ]
        self.evidence = _Evidence(corpus, language)
        self.bags = [set(tokenize(s, language)) for text in kept for s in text]

    def violations(self, summary: str) -> tuple[str, ...]:
        """Return what the summary states that no source text contains (empty when clean)."""
        dates, rest = self.unsupported_dates(summary)
        return (
            *dates,
            *self.unsupported_numbers(rest),
            *self.unsupported_names(rest),
            *self.unsupported_sentences(summary),
        )

    def unsupported_dates(self, summary: str) -> tuple[list[str], str]:
        """Return a finding per date no source states, and the summary with its dates blanked.

        A date is checked as a date: its day is no number, its month no name (the blanked
        text is what the number and name rules read).
        """
        out: list[str] = []
        numeric, rest = _numeric_dates(summary)
        for text, readings in dict(numeric).items():
            if not any(_same_day(r, k) for r in readings for k in self.days):
                out.append(f"the date {text} is not in the sources")
        written = find_dates(summary, self.published, self.language)
        for item in written:
            # A year the summary does not write is the tense's guess: day and month decide.
            year = item.when.year if re.search(r"\d{4}", item.text) else None
            day = (year, item.when.month, item.when.day)
            if not any(_same_day(day, k) for k in self.days):
                out.append(f"the date {item.text} is not in the sources")
        return out, _blank(rest, [d.text for d in written])

    def unsupported_numbers(self, text: str) -> list[str]:
        """Return a finding per quantity (with its scale and currency) no source states."""
        return [
            f"the number {quantity.text} is not in the sources"
            for quantity in _distinct(_quantities(text))
            if not any(quantity.matches(k) for k in self.quantities)
        ]

    def unsupported_names(self, text: str) -> list[str]:
        """Return a finding per name (a capitalised word) no source has in any form."""
        sentences = [s for line in text.split("\n") for s in split_sentences(line, self.language)]
        out = []
        for name, opens in dict.fromkeys(_names(sentences, self.language, self.evidence)):
            if not self.evidence.has_name(name):
                what = "the word" if opens else "the name"  # "Rescuers" may be no name at all
                out.append(f"{what} {name} is not in the sources")
        return out

    def unsupported_sentences(self, summary: str) -> list[str]:
        """Return a finding per sentence whose content words no one source sentence holds."""
        language = self.language
        sentences = [s for line in summary.split("\n") for s in split_sentences(line, language)]
        return [
            f'no source sentence says "{shorten(sentence, 160)}"'
            for sentence in dict.fromkeys(sentences)
            if not _supported(set(tokenize(sentence, language)), self.bags)
        ]


def _blank(text: str, parts: Iterable[str]) -> str:
    """Return text with every occurrence of parts replaced by spaces (offsets kept)."""
    for part in sorted(set(parts), key=len, reverse=True):
        if part:
            text = text.replace(part, " " * len(part))
    return text


def _supported(words: set[str], bags: Sequence[set[str]]) -> bool:
    """Tell whether one source sentence holds at least SUPPORT of a sentence's content words."""
    if not words:
        return True
    best = max((len(words & bag) for bag in bags), default=0)
    return best >= SUPPORT * len(words)


# -- numbers -----------------------------------------------------------------------------------

_NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:[ ,\u00a0\u202f]\d{3})+|\d+)(?:[.,](\d+))?")
# Scale words, glued to the number or after a space: "5bn", "5 billion", «5 млрд», "5%".
_SCALE_WORD = re.compile(
    r"[ \u00a0\u202f]*(%|per ?cent\b|percent\b|процент\w*|thousand\b|million\b|billion\b|"
    r"trillion\b|тысяч\w*|тыс\b\.?|миллион\w*|млн\b\.?|миллиард\w*|млрд\b\.?|триллион\w*|"
    r"трлн\b\.?|bn\b|mn\b|mln\b|tn\b|trn\b)",
    re.IGNORECASE,
)
# One letter glued to the number: "$5m", "5k", "$2b". Without a currency "93m" may be metres,
# so it is read both ways.
_SCALE_LETTER = re.compile(r"([mkb])(?![^\W\d_])", re.IGNORECASE)
_MULTIPLIER = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
_SCALE_PREFIX = (
    ("тыс", "thousand"), ("thousand", "thousand"), ("k", "thousand"), ("млн", "million"),
    ("миллион", "million"), ("million", "million"), ("mln", "million"), ("mn", "million"),
    ("m", "million"), ("млрд", "billion"), ("миллиард", "billion"), ("billion", "billion"),
    ("bn", "billion"), ("b", "billion"), ("трлн", "trillion"), ("триллион", "trillion"),
    ("trillion", "trillion"), ("tn", "trillion"), ("trn", "trillion"),
)  # fmt: skip
_CURRENCY_BEFORE = re.compile(
    r"(?:(US|A|C|HK|NZ|S)?([$€£¥₽])|\b(USD|EUR|GBP|RUB|JPY|CNY|CHF)\b)[ \u00a0]?$"
)
_UNIT = re.compile(r"[^\W\d_]*")  # letters glued to a number: "km", "th"
_CURRENCY_AFTER = re.compile(
    r"[ \u00a0]*(?:of\s+)?(dollars?|euros?|pounds? sterling|pounds?|roubles?|rubles?|yen|yuan|"
    r"francs?|USD|EUR|GBP|RUB|JPY|CNY|CHF|долл\w*|евро|руб\w*|фунт\w*|иен\w*|юан\w*|франк\w*)",
    re.IGNORECASE,
)
_CURRENCY = {
    "$": "$", "dollar": "$", "долл": "$", "€": "EUR", "euro": "EUR", "евро": "EUR",
    "£": "GBP", "pound": "GBP", "фунт": "GBP", "₽": "RUB", "roubl": "RUB", "rubl": "RUB",
    "руб": "RUB", "¥": "¥", "yen": "¥", "иен": "¥", "yuan": "¥", "юан": "¥", "franc": "CHF",
    "франк": "CHF", "usd": "$", "eur": "EUR", "gbp": "GBP", "rub": "RUB", "jpy": "¥",
    "cny": "¥", "chf": "CHF",
}  # fmt: skip


@dataclass(frozen=True)
class _Quantity:
    """A number as a reader takes it: the values it can mean, and what it counts."""

    values: frozenset[Decimal]
    percent: bool
    currency: str | None
    text: str

    def matches(self, known: _Quantity) -> bool:
        """Tell whether a source's quantity states this one (a currency left out is no clash)."""
        if self.percent != known.percent or not self.values & known.values:
            return False
        return self.currency is None or known.currency in (None, self.currency)


def _quantities(text: str) -> list[_Quantity]:
    """Return every number in text as a quantity: "1,200" and "1 200" are 1200, "2,5" 2.5."""
    found = []
    for m in _NUMBER.finditer(text):
        whole = re.sub(r"[ ,\u00a0\u202f]", "", m.group(1))
        try:
            value = Decimal(f"{whole}.{m.group(2)}" if m.group(2) else whole)
        except InvalidOperation:
            continue
        end, scale, percent, ambiguous = m.end(), "", False, False
        word = _SCALE_WORD.match(text, end)
        letter = _SCALE_LETTER.match(text, end)
        if word:
            key = word.group(1).lower()
            percent = key.startswith(("%", "per", "процент"))
            scale = "" if percent else _scale(key)
            end = word.end()
        elif letter:
            scale, ambiguous, end = _scale(letter.group(1).lower()), True, letter.end()
        before = _CURRENCY_BEFORE.search(text[max(0, m.start() - 5) : m.start()])
        after = _CURRENCY_AFTER.match(text, end)
        currency = (
            _currency(before.group(2) or before.group(3), before.group(1)) if before else None
        )
        currency = currency or (_currency(after.group(1)) if after else None)
        values = {value * _MULTIPLIER[scale]} if scale else {value}
        if ambiguous and currency is None:
            values.add(value)
        # Shown as written, with its currency and unit: "$93bn", "93km", "5 млрд долларов".
        start = m.start() - (len(before.group(0)) if before else 0)
        stop = after.end() if after else _UNIT.match(text, end).end()  # type: ignore[union-attr]
        found.append(_Quantity(frozenset(values), percent, currency, text[start:stop].strip()))
    return found


def _scale(key: str) -> str:
    return next((scale for prefix, scale in _SCALE_PREFIX if key.startswith(prefix)), "")


def _currency(word: str, prefix: str | None = None) -> str | None:
    """Return the currency a symbol, code or word names ("$", "EUR"); "A$" is not "$"."""
    lower = word.lower()
    code = next((code for stem, code in _CURRENCY.items() if lower.startswith(stem)), None)
    return (prefix or "") + code if code else None


def _distinct(quantities: Iterable[_Quantity]) -> list[_Quantity]:
    return list({(q.values, q.percent, q.currency): q for q in quantities}.values())


# -- numeric dates ---------------------------------------------------------------------------

_NUMERIC_DATE = re.compile(
    r"(?<![\w./-])(?:(\d{4})-(\d{1,2})-(\d{1,2})|(\d{1,2})([./])(\d{1,2})(?:\5(\d{4}|\d{2}))?)"
    r"(?![\w/-]|[.,]\d)"
)
Day = tuple[int | None, int, int]  # (year or None, month, day)


def _numeric_dates(text: str) -> tuple[list[tuple[str, list[Day]]], str]:
    """Return each numeric date in text with the days it can be, and text with them blanked.

    "13/6" is 13 June; "6/7" is 6 July or 7 June; "13.06.2013" is read day first; a dotted
    pair without a year ("13.06") is a decimal number and stays one.
    """
    found: list[tuple[str, list[Day]]] = []
    blanked = text
    for m in _NUMERIC_DATE.finditer(text):
        readings = _readings(m)
        if readings:
            found.append((m.group(0), readings))
            start, end = m.span()
            blanked = blanked[:start] + " " * (end - start) + blanked[end:]
    return found, blanked


def _readings(m: re.Match[str]) -> list[Day]:
    if m.group(1):
        candidates: list[Day] = [(int(m.group(1)), int(m.group(2)), int(m.group(3)))]
    else:
        a, b, sep, y = int(m.group(4)), int(m.group(6)), m.group(5), m.group(7)
        if sep == "." and not y:
            return []
        year = (
            None
            if not y
            else int(y)
            if len(y) == 4
            else 2000 + int(y)
            if int(y) < 70
            else 1900 + int(y)
        )
        candidates = [(year, b, a)] + ([(year, a, b)] if sep == "/" else [])
    return [d for d in dict.fromkeys(candidates) if _valid(d)]


def _valid(day: Day) -> bool:
    try:
        date(day[0] or 2000, day[1], day[2])
    except ValueError:
        return False
    return True


def _same_day(a: Day, b: Day) -> bool:
    return a[1:] == b[1:] and (a[0] is None or b[0] is None or a[0] == b[0])


# -- names -------------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
# Dictionary tags of names: given names, surnames, patronymics, places, organisations, brands.
_PROPER = ("Name", "Surn", "Patr", "Geox", "Orgn", "Trad")
# English words of closed classes that open sentences and are in no stop list: no name is
# spelled like them. (Russian has a dictionary for this; English here has none.)
_OPENERS = frozenset(
    """however meanwhile earlier later despite although though since while whilst after before
    during instead still yet overall both many several some few others another such according
    following amid among along around because besides beyond nor thus therefore hence then
    there here this that these those it they he she we you his her its their our my every each
    all none nobody everyone someone something nothing everything one two three four five six
    seven eight nine ten first second third finally also further furthermore moreover
    separately elsewhere today yesterday tomorrow tonight once again already""".split()  # noqa: SIM905
)


def _fold(word: str) -> str:
    return word.lower().replace("ё", "е")


def _parts(word: str) -> list[str]:
    """Return a hyphenated word's parts ("Нью-Йорка" -> Нью, Йорка); a name is each part."""
    return [p for p in word.split("-") if p] if "-" in word else [word]


def _names(sentences: Sequence[str], language: str, evidence: _Evidence) -> list[tuple[str, bool]]:
    """Return the capitalised words that are names, each with whether it opens a sentence: a
    sentence's first word only when the sources' own words do not show it to be common."""
    stop = STOP_WORDS.get(language, STOP_WORDS["en"])
    out: list[tuple[str, bool]] = []
    for sentence in sentences:
        for i, word in enumerate(_WORD.findall(sentence)):
            for part in _parts(word):
                if not part[:1].isupper() or _fold(part) in stop:
                    continue
                if i == 0 and evidence.is_common(part):
                    continue
                out.append((part, i == 0))
    return out


class _Evidence:
    """What the sources' words say about a word: there, there in lower case, or a name."""

    def __init__(self, corpus: str, language: str) -> None:
        self.language = language
        self.russian = language in _RUSSIAN
        words = sorted({p for w in _WORD.findall(corpus) for p in _parts(w)})
        self.folded = {_fold(w) for w in words}
        self.lowercase = {_fold(w) for w in words if w[:1].islower()}
        self.stems = set(stem_words(words, language))
        self.lower_stems = set(stem_words(sorted(self.lowercase), language))

    def is_common(self, word: str) -> bool:
        """Tell a common word that opens a sentence ("Officials", «Власти») from a name."""
        folded = _fold(word)
        if folded in self.lowercase or stem_words([word], self.language)[0] in self.lower_stems:
            return True
        if not self.russian:
            return folded in _OPENERS
        if _lemmas(folded) & self._lemmas_of(folded, self.lowercase):
            return True  # «Спасатели» where a source says «спасателей»
        forms = _vocabulary()(folded)
        known = bool(forms) and _vocabulary().word_is_known(folded)
        return known and not any(tag in forms[0].tag for tag in _PROPER)

    def has_name(self, word: str) -> bool:
        """Tell whether the sources name it: by lemma in Russian, by stem elsewhere."""
        folded = _fold(word)
        if folded in self.folded:
            return True
        if not self.russian:
            return stem_words([word], self.language)[0] in self.stems
        return bool(_lemmas(folded) & self._lemmas_of(folded, self.folded))

    def _lemmas_of(self, folded: str, words: set[str]) -> set[str]:
        """Return the lemmas of the source words that may be forms of the same word (the
        same first three letters: only those are looked up, not every word of the sources)."""
        head = folded[:3]
        return {lemma for w in words if w[:3] == head for lemma in _lemmas(w)}


@cache
def _vocabulary() -> Any:
    """Return pymorphy's Russian dictionary, as natasha wraps it (loaded once, ~0.3 s)."""
    from digest.events.facts_ru import vocabulary

    return vocabulary()


@lru_cache(maxsize=50_000)  # a service runs for months: bounded
def _lemmas(folded: str) -> frozenset[str]:
    """Return a Russian word's dictionary forms: its name readings when it has any.

    «Петров» is the surname Петров, not the plural of Пётр; «Сомова» (read as an adjective
    the dictionary has) and «Сомов» share one reading, so they match.
    """
    forms = _vocabulary()(folded)
    named = [f for f in forms if any(t in f.tag for t in _PROPER) and "plur" not in f.tag]
    return frozenset(_fold(f.normal_form) for f in (named or forms))
