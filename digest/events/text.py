"""What the events and summarize stages read from a text: TF-IDF, names, numbers and days.

The language, tokens, stems and sentences underneath come from the shared text toolkit
(`digest.text`), which fetch uses too. Hand-written: the whole events + summaries budget is
about 2 ms per article, and the TF-IDF rows are built straight as CSR for that budget.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy import sparse  # type: ignore[import-untyped]  # no stubs in the venv

from digest.text import STOP_WORDS, named_days, split_sentences, stemmer, tokenize


@dataclass(frozen=True)
class TfidfSpace:
    """L2-normalised TF-IDF rows (one per document) over one vocabulary."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    matrix: sparse.csr_matrix

    def transform(self, docs: Iterable[Sequence[str]]) -> sparse.csr_matrix:
        """Return L2-normalised TF-IDF rows for token lists, unknown terms dropped."""
        return _rows(docs, self.vocabulary, self.idf)


def _rows(
    docs: Iterable[Sequence[str]], vocabulary: dict[str, int], idf: np.ndarray
) -> sparse.csr_matrix:
    # Imported here: scipy costs a command that only fetches (detect_language lives here)
    # a sixth of a second at start.
    from scipy import sparse

    docs = list(docs)
    rows: list[int] = []
    cols: list[int] = []
    for row, tokens in enumerate(docs):
        ids = [j for j in map(vocabulary.get, tokens) if j is not None]
        cols.extend(ids)
        rows.extend([row] * len(ids))
    # Built as CSR directly (one sort of row * width + column gives each row's terms in
    # order, with their counts) and normalised in place: the COO conversion, the element-wise
    # square and the diagonal product cost most of an event's summary.
    width = len(vocabulary)
    keys, tf = np.unique(
        np.array(rows, dtype=np.int64) * width + np.array(cols, dtype=np.int64),
        return_counts=True,
    )
    indices = keys % width if width else keys
    indptr = np.searchsorted(keys, np.arange(len(docs) + 1, dtype=np.int64) * width)
    data = (1.0 + np.log(tf)) * idf[indices]
    shape = (len(docs), width)
    squares = sparse.csr_matrix((data * data, indices, indptr), shape=shape)
    norms = np.sqrt(np.asarray(squares.sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    data *= np.repeat(1.0 / norms, np.diff(indptr))
    return sparse.csr_matrix((data, indices, indptr), shape=shape)


def tfidf_vectors(docs: Sequence[Sequence[str]]) -> TfidfSpace:
    """Return a TF-IDF space fitted on token lists (sublinear tf, smoothed idf)."""
    df: dict[str, int] = {}
    for tokens in docs:
        # dict.fromkeys, not set: a set's order follows the per-process hash seed, and the
        # vocabulary's order decides the order of float sums, so near-ties (which sentence,
        # which merge) came out differently from one run to the next on the same articles.
        for t in dict.fromkeys(tokens):
            df[t] = df.get(t, 0) + 1
    vocabulary = {t: i for i, t in enumerate(df)}
    n = len(docs)
    idf = np.array([math.log((1 + n) / (1 + df[t])) + 1.0 for t in vocabulary])
    return TfidfSpace(vocabulary, idf, _rows(docs, vocabulary, idf))


# A word that starts with a capital letter or a digit (Latin, Latin-1, Cyrillic capitals).
_NAME_OR_NUMBER = re.compile(r"(?<![^\W_])[A-ZÀ-ÖØ-ÞА-ЯЁ0-9][^\W_]*(?:[-'’][^\W_]+)*")
# A word that starts with a small letter: a capitalised word also written this way in the
# same article is a common word that opened a sentence («Ветер», «Температура»), not a name.
_LOWER_WORD = re.compile(r"(?<![^\W_])[a-zà-öø-ÿа-яё][^\W_]*")
LEAD_SENTENCES = 2
LEAD_CHARS = 1500  # the lead is near the top: splitting only this much saves most of the cost


def identity_terms(title: str, text: str, language: str) -> list[str]:
    """Return the article's names and numbers, one term per name whatever its grammatical case.

    Stems merge Russian cases («Путина», «Путину» -> «путин»). This is the seam where the
    normalised entities of the key-facts stage (aliases merged) can replace the stems.
    """
    in_title, in_text = name_parts(title, text, language)
    return in_title + in_text


def name_parts(title: str, text: str, language: str) -> tuple[list[str], list[str]]:
    """Return the stemmed names and numbers of the title and, apart, of the text."""
    stop = STOP_WORDS.get(language, STOP_WORDS["en"])
    common = set(_LOWER_WORD.findall(f"{title}\n{text}"))  # "iPhone" stays a name
    stem = stemmer(language)
    out = []
    for part in (title, text):
        names = [
            w
            for w in (m.lower() for m in _NAME_OR_NUMBER.findall(part))
            if w not in stop and w not in common
        ]
        out.append(list(stem.stemWords(names)) if stem else names)
    return out[0], out[1]


def lead_terms(title: str, text: str, language: str) -> list[str]:
    """Return the stemmed content words of the lead (title and first sentences), "w:"-prefixed."""
    lead = " ".join(split_sentences(f"{title}\n{text[:LEAD_CHARS]}", language)[:LEAD_SENTENCES])
    return ["w:" + t for t in tokenize(lead, language)]


def title_terms(title: str, text: str, language: str) -> list[str]:
    """Return the title's stemmed words, "t:"-prefixed; the first sentence stands in for none."""
    head = title.strip() or next(iter(split_sentences(text[:LEAD_CHARS], language)), "")
    # "check-up" and "checkup" are one word; in a title it is worth the trouble.
    return ["t:" + t.replace("-", "") for t in tokenize(head, language)]


def event_features(title: str, text: str, language: str) -> list[str]:
    """Return an article's event-identity terms: its names and numbers, and its lead's words.

    What tells one event from another of the same kind (two earthquakes, two coach
    firings) is who, where and how many: capitalised words and numbers anywhere in the
    text. What the event is about is said in the lead (the title and first sentences).
    """
    return identity_terms(title, text, language) + lead_terms(title, text, language)


_MONTH_STEMS = (
    "янв фев мар апр ма июн июл авг сен окт ноя дек",
    "jan feb mar apr may jun jul aug sep oct nov dec",
)
_MONTHS = {m: i for stems in _MONTH_STEMS for i, m in enumerate(stems.split(), 1)}
_RU_MONTH = r"(января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря)"
# English month names are always capitalised: "they may 12 times" names no day.
_EN_MONTH = (
    r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DAY = r"([0-3]?\d)(?:st|nd|rd|th|-?(?:го|е|ое))?"
_DAY_MONTH = re.compile(rf"(?<!\d){_DAY}\s+(?:{_RU_MONTH}|{_EN_MONTH})\b")
_MONTH_DAY = re.compile(rf"\b{_EN_MONTH}\s+{_DAY}\b")


def _month(word: str) -> int:
    word = word.lower()
    return _MONTHS.get(word[:3], _MONTHS.get(word[:2], 0))


def dates_in(text: str) -> frozenset[tuple[int, int]]:
    """Return the calendar days (month, day) the text names: «8 ноября», "Nov. 8", "8 March".

    Days known by their name («День Победы», "Christmas Day") count as their date.
    """
    found = named_days(text)
    for m in _DAY_MONTH.finditer(text):
        found.add((_month(m.group(2) or m.group(3)), int(m.group(1))))
    for m in _MONTH_DAY.finditer(text):
        found.add((_month(m.group(1)), int(m.group(2))))
    return frozenset((month, day) for month, day in found if month and 1 <= day <= 31)
