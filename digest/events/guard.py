"""The fact guard: every number, date and name in a generated summary must be in its sources.

A language model writes fluent text and, now and then, a number or a name that no source
gave. Nothing here judges meaning; it checks the kinds of token a reader takes as fact:
numbers with their scale word ("5 million" is not "5 billion"), resolved dates, and names
(capitalised words, compared by stem so that "Путина" matches "Путин"). It is deliberately
strict: a false alarm costs one retry and, at worst, the extractive summary.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from digest.events.facts import find_dates
from digest.text import STOP_WORDS, split_sentences, stem_words

_NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:[ ,\u00a0\u202f]\d{3})+|\d+)(?:[.,](\d+))?(?![\w])")
_SCALE = re.compile(
    r"\s*(%|per ?cent|percent|процент\w*|thousand|million|billion|trillion|тыс\w*|млн|"
    r"миллион\w*|млрд|миллиард\w*|трлн|триллион\w*)",
    re.I,
)
_SCALE_KEY = {"тыс": "thousand", "млн": "million", "миллион": "million", "млрд": "billion",
              "миллиард": "billion", "трлн": "trillion", "триллион": "trillion",
              "процент": "%", "percent": "%", "per cent": "%", "percent ": "%"}  # fmt: skip
_CAPITALISED = re.compile(r"(?<![\w])([A-ZА-ЯЁ][\w’'-]*)")


def find_violations(
    summary: str, sources: Sequence[str], language: str, published: datetime
) -> tuple[str, ...]:
    """Return what the summary states that no source text contains (empty when clean)."""
    corpus = "\n".join(sources)
    out: list[str] = []
    known_numbers = set(_numbers(corpus))
    for number in dict.fromkeys(_numbers(summary)):
        if number not in known_numbers:
            out.append(f"the number {_show(number)} is not in the sources")
    known_dates = {d.when for d in find_dates(corpus, published, language)}
    for item in find_dates(summary, published, language):
        if item.when not in known_dates:
            out.append(f"the date {item.label or item.text} is not in the sources")
    known_names = set(stem_words(_WORD.findall(corpus), language))
    for name in dict.fromkeys(_names(summary, language)):
        if stem_words([name], language)[0] not in known_names:
            out.append(f"the name {name} is not in the sources")
    return tuple(out)


_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")


def _numbers(text: str) -> list[tuple[str, str]]:
    """Return (value, scale) pairs: "1,200" and "1 200" are 1200; "2,5" and "2.5" are 2.5."""
    found = []
    for m in _NUMBER.finditer(text):
        whole = re.sub(r"[ ,\u00a0\u202f]", "", m.group(1))
        value = f"{int(whole)}.{m.group(2)}" if m.group(2) else str(int(whole))
        scale = _SCALE.match(text, m.end())
        found.append((value, _scale_key(scale.group(1)) if scale else ""))
    return found


def _scale_key(word: str) -> str:
    lower = word.lower()
    for prefix, key in _SCALE_KEY.items():
        if lower.startswith(prefix):
            return key
    return lower


def _show(number: tuple[str, str]) -> str:
    return f"{number[0]} {number[1]}".strip()


def _names(text: str, language: str) -> list[str]:
    """Return capitalised words that are not a sentence's ordinary first word."""
    stop = STOP_WORDS.get(language, STOP_WORDS["en"])
    out: list[str] = []
    for sentence in split_sentences(text, language):
        words = _WORD.findall(sentence)
        for i, word in enumerate(words):
            if not _CAPITALISED.fullmatch(word) or word.lower() in stop:
                continue
            # The first word of a sentence is capitalised anyway: a name only when the next
            # word is capitalised too ("Joe Biden said"), as an ordinary opener rarely is.
            if i == 0 and not (len(words) > 1 and _CAPITALISED.fullmatch(words[1])):
                continue
            out.append(word)
    return out
