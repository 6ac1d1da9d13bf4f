"""Text basics for the events and summarize stages: language, sentences, tokens, TF-IDF.

Everything here is hand-written on purpose: the whole events + summaries budget is about
2 ms per article, and pysbd alone costs ~10 ms per article, a language-id model would have
to be downloaded, and the stop-word corpora of NLTK are a run-time download as well.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import snowballstemmer  # uses PyStemmer's C implementation when installed: 10x faster

if TYPE_CHECKING:
    from scipy import sparse  # type: ignore[import-untyped]  # no stubs in the venv

from digest.events.named_days import named_days
from digest.events.scripts import script_counts

# Short, high-frequency function words: enough to tell Latin-script languages apart and to
# keep them out of TF-IDF vectors.
_STOP = {
    "en": """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in into is
    it its itself just me more most my myself no nor not now of off on once only or other our ours
    out over own same she should so some such than that the their theirs them then there these
    they this those through to too under until up very was we were what when where which while
    who whom why will with would you your yours yourself said says say told would could new one
    two three mr mrs ms year years last first week day days time people also just may might
    must us im dont its it's""",
    "ru": """а без более бы был была были было быть в вам вас весь во вот все всего всех вы где
    да даже для до его ее её если есть еще ещё же за здесь и из или им их к как ко когда кто ли
    либо мне может мы на надо наш не него нее неё нет ни них но ну о об однако он она они оно от
    очень по под при с со так также такой там те тем то того тоже той только том ты у уже хотя
    чего чей чем что чтобы чье чья эта эти это этого этой этом этот я который которая которые
    которых которое котором своей свой свои своих своего после между можно нужно сказал
    сказала заявил заявила также год года году лет том""",
    "de": "der die das und ist nicht ein eine zu den mit von auf für sich dem des im auch es",
    "fr": "le la les et est un une des du de dans pour que qui sur pas au avec il elle ce",
    "es": "el la los las y es un una de del en que por para con se no su al lo como",
    "it": "il la le e è un una di del che per con non si della gli al da sono",
}
STOP_WORDS: dict[str, frozenset[str]] = {k: frozenset(v.split()) for k, v in _STOP.items()}
_STEMMERS = {"en": "english", "ru": "russian", "de": "german", "fr": "french", "es": "spanish"}
_STEMMERS |= {"it": "italian", "uk": "russian"}

_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")


def detect_language(text: str) -> str:
    """Return an ISO 639-1 code ('en', 'ru', ...) guessed from script and stop words, or 'und'."""
    sample = text[:3000]
    cyr, lat = script_counts(sample)
    if cyr + lat < 3:
        return "und"
    if cyr > lat:
        return "uk" if re.search(r"[іїєґ]", sample, re.IGNORECASE) else "ru"
    # Each language's stop words looked up in the counts of the words: the same sums as
    # looking every word up in every language's stop words, at a fraction of the cost.
    counts = Counter(map(str.lower, _WORD.findall(sample)))
    best, hits = "und", 0
    for lang in ("en", "de", "fr", "es", "it"):
        n = sum(counts.get(w, 0) for w in STOP_WORDS[lang])
        if n > hits:
            best, hits = lang, n
    # Latin text without recognisable function words (a headline, a name list) is most
    # likely English in a news feed, so guess that rather than 'und'.
    return best if hits else "en"


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
    обл р о кв тел
    """
)
# A candidate boundary: end punctuation, optional closing quotes/brackets, whitespace, and
# something that may open a sentence (capital letter, digit, opening quote or dash).
_BOUNDARY = re.compile(r"([.!?…]+)([\"'»”’)\]]*)(\s+)(?=[\"'«“‘(\[—–-]?\s?[A-ZА-ЯЁ0-9])")


def _is_abbreviation(before: str, after: str, language: str) -> bool:
    """Return True when the period that ends `before` belongs to an abbreviation."""
    words = before[-40:].split()  # only the last word matters; never scan the paragraph
    if not words:
        return False
    token = words[-1].lstrip("\"'«“(").lower()
    if len(token) == 1 and token.isalpha():
        return True  # an initial: "J. K. Rowling", "В. Путин"
    if token in _ABBREV:
        # "U.S. The ..." still ends a sentence when a function word opens the next one.
        first = after.split(maxsplit=1)[0].lower() if after.strip() else ""
        return "." not in token or first not in STOP_WORDS.get(language, STOP_WORDS["en"])
    return False


def split_sentences(text: str, language: str) -> list[str]:
    """Return the sentences of `text` as exact substrings, paragraphs never joined."""
    out: list[str] = []
    for para in text.split("\n"):
        para = para.strip()
        if not para:
            continue
        start = 0
        for m in _BOUNDARY.finditer(para):
            if m.group(1) == "." and _is_abbreviation(
                para[: m.start(1)], para[m.end() :], language
            ):
                continue
            sentence = para[start : m.end(2)].strip()
            if sentence:
                out.append(sentence)
            start = m.end()
        tail = para[start:].strip()
        if tail:
            out.append(tail)
    return out


@lru_cache(maxsize=16)
def _stemmer(language: str) -> snowballstemmer.stemmer | None:
    name = _STEMMERS.get(language)
    return snowballstemmer.stemmer(name) if name else None


def tokenize(text: str, language: str) -> list[str]:
    """Return the lower-cased, stemmed content words of `text` (stop words removed)."""
    stop = STOP_WORDS.get(language, STOP_WORDS["en"])
    words = [w for w in (m.lower() for m in _WORD.findall(text)) if w not in stop and len(w) > 1]
    stemmer = _stemmer(language)
    return list(stemmer.stemWords(words)) if stemmer else words


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
    # square and the diagonal product cost most of an event's summary (issue 13's bench).
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
    stemmer = _stemmer(language)
    out = []
    for part in (title, text):
        names = [
            w
            for w in (m.lower() for m in _NAME_OR_NUMBER.findall(part))
            if w not in stop and w not in common
        ]
        out.append(list(stemmer.stemWords(names)) if stemmer else names)
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


def stem_words(words: Sequence[str], language: str) -> list[str]:
    """Return the words lower-cased and stemmed with the language's Snowball stemmer."""
    lowered = [w.lower() for w in words]
    stemmer = _stemmer(language)
    return list(stemmer.stemWords(lowered)) if stemmer else lowered
