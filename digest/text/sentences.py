"""Sentences as exact substrings of their paragraph, abbreviations and initials kept whole.

Hand-written: pysbd alone costs ~10 ms per article, five times the whole events and summary
budget, and the rules needed here (news abbreviations, initials, quotes) are few.
"""

from __future__ import annotations

import re

from digest.text.language import STOP_WORDS


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that end with a period without ending a sentence, lower-cased, without the period.
_ABBREV = _words(
    """
    mr mrs ms dr prof sr jr st mt ft gen col lt sgt capt cmdr adm gov sen rep rev hon
    pres inc ltd co corp bros no nos vol pp fig approx est vs etc cf al jan feb mar apr
    jun jul aug sep sept oct nov dec mon tue tues wed thu thurs fri sat sun e.g i.e a.m
    p.m u.s u.k u.n u.s.a d.c ph.d г гг в вв т.е т.д т.п т.к др пр им ул д с стр рис см
    млн млрд тыс руб долл коп янв фев февр мар апр авг сент окт нояб дек ген проф акад
    обл р о кв тел ст ч п пп гл н.э ред изд пгт корп
    """
)
# A candidate boundary: end punctuation, optional closing quotes/brackets, whitespace, and
# something that may open a sentence (capital letter, digit, opening quote or dash).
_BOUNDARY = re.compile(r"([.!?…]+)([\"'»”’)\]]*)(\s+)(?=[\"'«“‘(\[—–-]?\s?[A-ZА-ЯЁ0-9])")
# Two sentences glued by a crawl that lost the space: "…quoting the lawyers.None of his…",
# «…в Москве.Однако…». Two small letters before and a capitalised word after tell them from
# "U.S.Army", "Node.js" or a web address.
_GLUED = re.compile(r"([.!?])(?<=[a-zа-яё]{2}[.!?])()()(?=[A-ZА-ЯЁ][a-zа-яё])")


# Initials written together: «Н.Э. Баумана», "J.D. Gibbs" (the last period is not in it).
_INITIALS = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")


def _is_abbreviation(before: str, after: str, language: str) -> bool:
    """Return True when the period that ends `before` belongs to an abbreviation."""
    words = before[-40:].split()  # only the last word matters; never scan the paragraph
    if not words:
        return False
    word = words[-1].lstrip("\"'«“(")
    token = word.lower()
    if len(token) == 1 and token.isalpha():
        return True  # an initial: "J. K. Rowling", "В. Путин"
    dotted = token in _ABBREV or (word.isupper() and _INITIALS.fullmatch(word) is not None)
    if dotted:
        # "U.S. The ..." still ends a sentence when a function word opens the next one.
        first = after.split(maxsplit=1)[0].lower() if after.strip() else ""
        return "." not in token or first not in STOP_WORDS.get(language, STOP_WORDS["en"])
    return False


_OPEN_QUOTES, _CLOSE_QUOTES = "«“", "»”"
QUOTED_NAME_CHARS = 60  # «Что? Где? Когда?»: a short quote is a name, never cut in two


def _in_quoted_name(para: str, m: re.Match[str]) -> bool:
    """Tell a boundary inside a short quote, or right after one ending in ?/!, from a real one."""
    if not m.group(2):
        return _inside_short_quote(para, m.end())
    if m.group(1)[-1] not in "?!" or not any(q in m.group(2) for q in _CLOSE_QUOTES):
        return False
    head = para[max(0, m.start() - QUOTED_NAME_CHARS) : m.start()]
    return any(q in head for q in _OPEN_QUOTES)  # «Что? Где? Когда?» 80 тысяч рублей


def _inside_short_quote(para: str, at: int) -> bool:
    """Tell whether position `at` lies inside a «…» or “…” quote that closes soon after."""
    head = para[max(0, at - 200) : at]
    opened = sum(head.count(q) for q in _OPEN_QUOTES) - sum(head.count(q) for q in _CLOSE_QUOTES)
    if opened <= 0:
        return False
    tail = para[at : at + QUOTED_NAME_CHARS]
    return any(q in tail for q in _CLOSE_QUOTES)


def split_sentences(text: str, language: str) -> list[str]:
    """Return the sentences of `text` as exact substrings, paragraphs never joined."""
    out: list[str] = []
    for para in text.split("\n"):
        para = para.strip()
        if not para:
            continue
        start = 0
        quoted = "«" in para or "“" in para
        boundaries = list(_BOUNDARY.finditer(para))
        if "." in para or "!" in para or "?" in para:
            glued = list(_GLUED.finditer(para))
            if glued:
                boundaries = sorted(boundaries + glued, key=lambda b: b.start())
        for m in boundaries:
            if m.group(1) == "." and _is_abbreviation(
                para[: m.start(1)], para[m.end() :], language
            ):
                continue
            if quoted and _in_quoted_name(para, m):
                continue
            sentence = para[start : m.end(2)].strip()
            if sentence:
                out.append(sentence)
            start = m.end()
        tail = para[start:].strip()
        if tail:
            out.append(tail)
    return out
