"""Numbers and names compared as values: "three" = "3" = «трое», "half a billion" =
"500 million", «Зеленский» = "Zelenskiy" = "Zelensky".

Written by hand on purpose: number-parser (the one library that reads Russian numerals) costs
about 13 ms an article, six times the whole events stage's budget, and reads neither «трое»
nor "1,5 млрд"; one pass of a plain token pattern and dictionary look-ups costs a tenth; a transliteration library would give one spelling of a Russian name, while
English outlets use several ("Zelensky", "Zelenskiy", "Zelenskyy").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from digest.text import STOP_WORDS, stem_words

# Number words, by value: the English ones and every case (and the collective «трое») of
# the Russian ones. "one"/«один» are left out: they are pronouns as often as numbers.
_WORD_FORMS = {
    2: "two два две двух двум двумя двое двоих",
    3: "three три трех трёх трем трём тремя трое троих",
    4: "four четыре четырех четырёх четырем четырём четырьмя четверо четверых",
    5: "five пять пяти пятью пятеро пятерых",
    6: "six шесть шести шестью шестеро шестерых",
    7: "seven семь семи семеро семерых",  # not «семью»: a family as often as seven
    8: "eight восемь восьми восемью восьмеро",
    9: "nine девять девяти девятью девятеро",
    10: "ten десять десяти десятью десятеро",
    11: "eleven одиннадцать одиннадцати",
    12: "twelve dozen двенадцать двенадцати",
    13: "thirteen тринадцать тринадцати",
    14: "fourteen четырнадцать четырнадцати",
    15: "fifteen пятнадцать пятнадцати",
    16: "sixteen шестнадцать шестнадцати",
    17: "seventeen семнадцать семнадцати",
    18: "eighteen восемнадцать восемнадцати",
    19: "nineteen девятнадцать девятнадцати",
    20: "twenty двадцать двадцати",
    30: "thirty тридцать тридцати",
    40: "forty сорок сорока",
    50: "fifty пятьдесят пятидесяти",
    60: "sixty шестьдесят шестидесяти",
    70: "seventy семьдесят семидесяти",
    80: "eighty восемьдесят восьмидесяти",
    90: "ninety девяносто девяноста",
    100: "hundred сто ста",
}
_WORDS = {form: value for value, forms in _WORD_FORMS.items() for form in forms.split()}
_SCALE_WORDS = {
    **dict.fromkeys(["thousand", "thousands", "тыс"], 1e3),
    **dict.fromkeys(["million", "millions", "mln", "млн"], 1e6),
    **dict.fromkeys(["billion", "billions", "bn", "млрд"], 1e9),
    **dict.fromkeys(["trillion", "trillions", "tn", "трлн"], 1e12),
}
# Glued to digits only: "$5m", "2bn", "10k"; alone, "m" is as often metres.
_SUFFIXES = {**_SCALE_WORDS, "k": 1e3, "m": 1e6, "mn": 1e6, "b": 1e9}
_SCALE_STEMS = {"тысяч": 1e3, "миллион": 1e6, "миллиард": 1e9, "триллион": 1e12}
# Digits as "\d\d*", not "\d+": a pattern that opens with a set of characters is searched
# by skipping to them, in C.
_DIGITS = r"(?P<digits>\d\d*(?:[ \u00a0\u202f]\d{3}(?!\d))*(?:[.,]\d+)?)(?P<suffix>[^\W\d_]*)"
_CANDIDATE_WORDS = frozenset({*_WORDS, *_SCALE_WORDS, "half", "a", "an", "пол"})
_CANDIDATE_STEMS = ("пол", *_SCALE_STEMS)
_TOKEN = re.compile(rf"{_DIGITS}|(?P<word>[^\W\d_]+)")


WORD_CHARS = 1500  # number words are read in the lead (as identity terms are weighed)
_SCALE_AFTER = "|".join(
    [*(re.escape(w) for w in _SCALE_WORDS), *(f"{stem}[^\\W\\d_]*" for stem in _SCALE_STEMS)]
)
_BODY = re.compile(
    rf"{_DIGITS}(?:[\s\u00a0]+(?P<scale>{_SCALE_AFTER})(?![^\W\d_]))?", re.IGNORECASE
)


def _candidates() -> str:
    """Return a pattern matching, at a word's start, the words a number can be made of.

    Grouped by first letter, with a look-ahead on the first letters: the engine passes over
    any other word after one character test instead of trying every number word in turn.
    """
    by_first: dict[str, tuple[list[str], list[str]]] = {}
    for word in sorted(_CANDIDATE_WORDS):
        by_first.setdefault(word[0], ([], []))[0].append(re.escape(word[1:]))
    for stem in _CANDIDATE_STEMS:
        by_first.setdefault(stem[0], ([], []))[1].append(re.escape(stem[1:]))
    branches = []
    for first, (words, stems) in sorted(by_first.items()):
        alternatives = []
        if words:  # a whole word: no letter may follow
            alternatives.append(rf"(?:{'|'.join(words)})(?![^\W\d_])")
        if stems:
            alternatives.append(f"(?:{'|'.join(stems)})")
        branches.append(f"[{first}{first.upper()}](?i:{'|'.join(alternatives)})")
    firsts = "".join(f + f.upper() for f in sorted(by_first))
    return f"(?=[{firsts}])(?:{'|'.join(branches)})"


_CANDIDATE = _candidates()
# From a token's end to the next token's start in one match: runs of non-word characters,
# underscores and whole words that cannot be part of a number are consumed by the engine (a
# word starts after a non-letter: a run of letters right after digits is their suffix, "5G").
_LEAD_GAP = re.compile(rf"(?:[^\w]+|_+|(?!{_CANDIDATE})[^\W\d_]+)*+(?P<token>\d|{_CANDIDATE})?")


def _tokens(text: str) -> list[re.Match[str]]:
    """Return the digits of `text` and the words a number can be made of, in order.

    Number words ("three", «трое») are read in the lead only, each word looked up in a set;
    after it, only digits (with a scale word: "5 млн") are matched, in C: a long text costs
    what its lead does. In the lead, the engine skips to the next digit or possible number
    word (`_LEAD_GAP`) and `_TOKEN` reads the token there: only those come back to Python,
    not every word. The look-up stays the judge (the pattern's case folding is a superset of
    str.lower's).
    """
    out = []
    pos, stop = 0, min(len(text), WORD_CHARS)
    while pos < stop:
        gap = _LEAD_GAP.match(text, pos, WORD_CHARS)
        m = _TOKEN.match(text, gap.start("token"), WORD_CHARS) if gap and gap["token"] else None
        if m is None:
            break
        pos = m.end()
        if m.lastgroup == "word":
            word = m.group(0).lower()
            if word not in _CANDIDATE_WORDS and not word.startswith(_CANDIDATE_STEMS):
                continue
        out.append(m)
    if len(text) > WORD_CHARS:
        out.extend(_BODY.finditer(text, WORD_CHARS))
    return out


_JOIN = re.compile(r"[\s\u00a0-]*")  # what may stand between the words of one number


def _scale(word: str) -> float:
    """Return the multiplier a word names ("million", «млрд», «тысячами»), or 0."""
    word = word.lower()
    if word in _SCALE_WORDS:
        return _SCALE_WORDS[word]
    return next((v for stem, v in _SCALE_STEMS.items() if word.startswith(stem)), 0.0)


_GROUPING = re.compile(r"[ \u00a0\u202f]")  # between the thousands of "5 000 000"


def _digits_value(digits: str, language: str) -> float:
    digits = _GROUPING.sub("", digits)
    if "," in digits:
        whole, _, part = digits.partition(",")
        # "1,500" is fifteen hundred in English; «1,5» is one and a half in Russian.
        digits = whole + part if language == "en" and len(part) == 3 else f"{whole}.{part}"
    try:
        return float(digits)
    except ValueError:
        return 0.0


def format_value(value: float) -> str:
    """Return a number as its canonical term: "3", "500000000", "1.04"."""
    if value == int(value):
        return str(int(value))
    return f"{value:.6g}"


def _value(m: re.Match[str], language: str) -> float:
    """Return the value of one token: digits (with a glued "m", "bn"), a number word, or 0."""
    if m.group("digits"):
        suffix = m.group("suffix")
        scale = _SUFFIXES.get(suffix.lower(), 0.0) if suffix else 1.0
        return _digits_value(m.group("digits"), language) * scale  # "5G": 0, a name
    word = m.group("word").lower()
    if word.startswith("пол") and _scale(word[3:].lstrip("-")) >= 1e3:
        return 0.5 * _scale(word[3:].lstrip("-"))  # «полмиллиарда»
    return float(_WORDS.get(word, 0))


def _adjacent(text: str, tokens: Sequence[re.Match[str]], k: int, end: int) -> bool:
    """Return True when token k follows position `end` with only spaces or a hyphen between."""
    return k < len(tokens) and _JOIN.fullmatch(text, end, tokens[k].start()) is not None


def number_values(text: str, language: str) -> list[str]:
    """Return the numbers of `text` as values, in order: "Three" and «трое» give "3"."""
    tokens = _tokens(text)
    out: list[str] = []
    k = 0
    while k < len(tokens):
        m = tokens[k]
        value = _value(m, language)
        word = m.group(0).lower() if m.lastgroup == "word" else ""  # a word, not digits
        if not value and word in ("half", "пол") and k + 2 < len(tokens):
            # "half a billion": the article between
            nxt = tokens[k + 2] if tokens[k + 1].group(0).lower() in ("a", "an") else tokens[k + 1]
            if _scale(nxt.group(0)) >= 1e3:
                out.append(format_value(0.5 * _scale(nxt.group(0))))
                k = tokens.index(nxt) + 1
                continue
        end = m.end()
        k += 1
        if not value:
            continue
        if m.re is _BODY:
            scale = m.group("scale")
            out.append(format_value(value * (_scale(scale) if scale else 1.0)))
            continue

        if (
            value in range(20, 100, 10)
            and _adjacent(text, tokens, k, end)
            and 0 < _value(tokens[k], language) < 10
        ):
            value += _value(tokens[k], language)  # "twenty-five", «двадцать пять»
            end = tokens[k].end()
            k += 1
        if (
            _adjacent(text, tokens, k, end)
            and tokens[k].lastgroup == "word"
            and _scale(tokens[k].group(0))
        ):
            value *= _scale(tokens[k].group(0))
            k += 1
        out.append(format_value(value))
    return out


_CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "i",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "_",
            "y",
            "_",
            "e",
            "iu",
            "ia",
        ],
        strict=True,
    )
)
_LATIN_FOLDS = (
    ("shch", "sh"),
    ("kh", "h"),
    ("ck", "k"),
    ("ph", "f"),
    ("w", "v"),
    ("x", "ks"),
    ("q", "k"),
    ("j", "i"),
    ("y", "i"),
)

_TRANSLITERATE = str.maketrans(_CYRILLIC)
_DOUBLED = re.compile(r"(.)\1+")
_PLURAL_OV = re.compile(r"(?<=[a-z]{3})[oe]v$")
_FINAL_VOWELS = re.compile(r"[aeiou]+$")


@lru_cache(maxsize=65536)
def name_key(stem: str) -> str:
    """Return a spelling-free key of a (stemmed) name, the same in Latin and Cyrillic.

    «зеленск», "zelenski" (Zelensky) and "zelenskii" (Zelenskiy) all give "zelensk": the
    Cyrillic is transliterated, the variable letters of romanisation folded (y, j -> i;
    kh -> h), doubled letters merged and a final i or vowel dropped. Numbers are kept.
    """
    if not stem or stem[0].isdigit():
        return stem
    latin = stem.lower().translate(_TRANSLITERATE).replace("_", "")
    for old, new in _LATIN_FOLDS:
        latin = latin.replace(old, new)
    latin = _DOUBLED.sub(r"\1", latin)
    # The Russian stemmer takes a surname's or a town's nominative «-ов»/«-ев» for a plural
    # ending and keeps it in every other case: «Песков» gives «песк», «Пескова» «песков»,
    # and English writes "Peskov". Both spellings lose it here.
    latin = _PLURAL_OV.sub("", latin)
    folded = _FINAL_VOWELS.sub("", latin)
    return folded if len(folded) >= 3 else latin


# A word that starts with a capital letter (Latin, Latin-1, Cyrillic). The capital comes
# first and the look-behind (no letter or digit before it) after: a pattern that opens with
# a set of characters is searched by skipping to them, in C, twice as fast.
_CAPITALISED = re.compile(r"[A-ZÀ-ÖØ-ÞА-ЯЁ](?<![^\W_].)[^\W_]*(?:[-'’][^\W_]+)*")
# The first letters of a word written in lower case (as in "iPhone", «учёных»).
_LOWER_FIRST = frozenset(
    chr(c)
    for lo, hi in (("a", "z"), ("à", "ö"), ("ø", "ÿ"), ("а", "я"), ("ё", "ё"))
    for c in range(ord(lo), ord(hi) + 1)
)
_OPENERS = frozenset(
    " \t\u00a0\"'«„“”»()[]*•"
)  # may stand between a sentence's end and its first word
_ENDS = frozenset(".!?…:;\n\r-–—")  # a capitalised word after these may only open a sentence
# Abbreviations after which a capitalised word goes on the sentence («г. Иркутск», "Dr. Smith");
# any other word before a full stop ends a sentence, short ones too («сон.», "day.").
_ABBREVIATIONS = frozenset(
    [
        "г",
        "гг",
        "ул",
        "им",
        "пр",
        "просп",
        "д",
        "т",
        "св",
        "ст",
        "пос",
        "обл",
        "р",
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "jr",
        "sr",
        "gen",
        "col",
        "lt",
        "sgt",
        "rev",
        "prof",
        "gov",
        "sen",
        "rep",
        "inc",
        "co",
        "corp",
        "ltd",
        "mt",
        "ft",
        "no",
        "vs",
    ]
)
_LAST_WORD = re.compile(r"([^\W\d_]+)\.$")


def _opens_sentence(text: str, start: int) -> bool:
    """Return True when the word at `start` is the first of a sentence, a line or a clause.

    Such a word is capitalised whatever it is («Учёных поразил…», «Оказалось, что…»,
    "Police said…"), so its capital says nothing about its being a name.
    """
    k = start - 1
    while k >= 0 and text[k] in _OPENERS:
        k -= 1
    if k < 0:
        return True
    if text[k] == ".":
        m = _LAST_WORD.search(text, max(0, k - 8), k + 1)
        return m is None or m.group(1).lower() not in _ABBREVIATIONS
    return text[k] in _ENDS


SHORT_WORD = 2  # letters: a word this short is inside many others ("e", "st")


@lru_cache(maxsize=4096)
def _whole_word(word: str) -> re.Pattern[str]:
    """Return a pattern of `word` with no letter or digit either side of it.

    The word comes first and the look-behind after it, so the engine skips from one
    occurrence of the word to the next.
    """
    return re.compile(rf"{re.escape(word)}(?<![^\W_].{{{len(word)}}})(?![^\W_])")


def _written_lower(word: str, text: str) -> bool:
    """Return True when `text` has `word`, in lower case, as a whole word of its own.

    A whole word is a run of letters and digits; one that starts with a small letter is
    written in lower case. Each of an article's capitalised words is looked for with
    str.find, which costs a fraction of reading every word of the article with a pattern;
    a short one with a pattern of its own (compiled once), as str.find would stop inside
    every word that holds it.
    """
    if not word.isalnum() or word[0] not in _LOWER_FIRST:
        return False
    if len(word) <= SHORT_WORD:
        return _whole_word(word).search(text) is not None
    end = len(word)
    at = text.find(word)
    while at >= 0:
        if (at == 0 or not text[at - 1].isalnum()) and not text[at + end : at + end + 1].isalnum():
            return True
        at = text.find(word, at + 1)
    return False


def story_names(title: str, text: str, language: str) -> tuple[list[str], list[str]]:
    """Return the stemmed names of the title and, apart, of the text (numbers left out).

    A name is a capitalised word that the article never writes in lower case and writes
    capitalised at least once where no sentence starts (in the title or the text): a word
    seen only at the start of sentences, in whatever case («Учёных», «Авторы»,
    «Сталкивающиеся»), is a common word, and counting it as a name made stories of one topic
    look alike and two tellings of one story unlike. Stems merge cases («Путина» = «Путин»).
    """
    stop = STOP_WORDS.get(language, STOP_WORDS["en"])
    parts: list[list[str]] = []
    inside: set[str] = set()  # seen capitalised where no sentence starts
    for part in (title, text):
        words = []
        for m in _CAPITALISED.finditer(part):
            word = m.group(0).lower()
            if word in stop:
                continue
            if word not in inside and not _opens_sentence(part, m.start()):
                inside.add(word)
            words.append(word)
        parts.append(words)
    # A word the article also writes in lower case is a common word, no name: only the
    # words seen inside a sentence need that look-up, the others are dropped either way.
    whole = f"{title}\n{text}"
    inside = {w for w in inside if not _written_lower(w, whole)}
    # stem_words: the text toolkit's stemming, with its memory of the words already stemmed
    kept = [stem_words([w for w in words if w in inside], language) for words in parts]
    return kept[0], kept[1]


def value_terms(stems: Sequence[str], text: str, language: str) -> list[str]:
    """Return a text's identity terms as values: its names' keys, and its numbers' values.

    `stems` are the text's names (`story_names`); its numbers are read from `text`, with
    number words and scales.
    """
    return [name_key(t) for t in stems if not t.isdigit()] + number_values(text, language)


def name_prefixes(stems: Sequence[str]) -> frozenset[str]:
    """Return the first four letters of each name's key: «Тулунском» and «Тулун» meet."""
    keys = map(name_key, set(stems))  # each name once: a text repeats its names
    return frozenset(key[:4] for key in keys if len(key) >= 3 and not key.isdigit())


# "МОСКВА, 17 ноя — РИА Новости.", "ИРКУТСК, 10 августа. /ТАСС/.", "LONDON, Nov 3 (Reuters) -":
# where and by whom a text was filed, not who or where its story is.
_DATELINE = re.compile(
    r"^\s*[A-ZА-ЯЁ][A-ZА-ЯЁ .\-]{1,40},\s*(?:\d{1,2}\s+\w+\.?|\w+\.?\s+\d{1,2})(?:,?\s+\d{4})?"
    r"[^\w\n]{0,6}(?:[A-ZА-ЯЁ][\w\-]*(?:\s+[A-ZА-ЯЁ][\w\-]*){0,2}(?=\s*[./)—–-])[^\w\n]{0,6})?"
)


def without_dateline(text: str) -> str:
    """Return the text without a leading news-agency dateline."""
    m = _DATELINE.match(text)
    return text[m.end() :] if m else text
