"""Russian names from natasha: its NER finds people, organisations and places, its morphology
puts them in the nominative («Азовского моря» -> «Азовское море»).

natasha's models (navec embeddings, slovnet NER and morphology taggers, pymorphy2's
dictionaries) ship inside its PyPI wheels; nothing is downloaded. Loading them takes about
half a second, so they are loaded once per process, on first use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from digest.events.inflect_ru import PROPER_TAGS, nominative, proper

_KINDS = {"PER": "people", "ORG": "organisations", "LOC": "places"}


@dataclass(frozen=True)
class Mention:
    """One name in a text: its kind, its nominative form and its words as written."""

    kind: str
    name: str
    text: str
    known: bool = True  # a known surname, or a name of more than one word


@dataclass(frozen=True)
class _Models:
    segmenter: Any
    vocab: Any
    morph: Any
    ner: Any


@cache  # the models are read-only once loaded: one copy per process is shared by all calls
def _models() -> _Models:
    from natasha import (  # type: ignore[import-untyped]  # imported on first use: ~0.5 s
        NewsEmbedding,
        NewsMorphTagger,
        NewsNERTagger,
        Segmenter,
    )

    embedding = NewsEmbedding()
    return _Models(Segmenter(), vocabulary(), NewsMorphTagger(embedding), NewsNERTagger(embedding))


@cache  # one dictionary per process, shared with the fact guard's Russian names
def vocabulary() -> Any:
    """Return pymorphy's Russian dictionary as natasha wraps it (cached parses, UD tags)."""
    from natasha import MorphVocab

    return MorphVocab()


def find_mentions(texts: Iterable[str]) -> Iterator[Mention]:
    """Yield every person, organisation and place natasha finds in `texts`, in text order."""
    from natasha import Doc

    models = _models()
    for text in texts:
        doc = Doc(text)
        doc.segment(models.segmenter)
        # The models multiply small matrices: BLAS threads only fight over a shared machine's
        # cores (measured: 84 ms a document on one thread, 400 on all under load).
        with threadpool_limits(limits=1, user_api="blas"):
            doc.tag_ner(models.ner)
            _tag_morphology(doc, models.morph)
        spans = list(doc.spans)
        for index, span in enumerate(spans):
            kind = _KINDS[span.type]
            if _no_name(models.vocab, span, kind, text):
                continue
            following = spans[index + 1] if index + 1 < len(spans) else None
            nominative = _span_nominative(models.vocab, span, kind, text, following)
            for name in _LIST.split(nominative):
                if not _listed_name(name, kind):
                    continue
                name = _unpaired_quotes_out(_quoted(name))
                union = kind == "places" and _fold(name) in _UNIONS
                named = "organisations" if union else kind
                yield Mention(named, name, span.text, _known(models.vocab, name, named))


def _no_name(vocab: Any, span: Any, kind: str, text: str) -> bool:
    """Tell a span that names nothing a reader should see: an outlet cited as the source
    («Как передает «Керчь. ФМ»»), a family («Ямадаевы»), a word that is no name."""
    if kind == "organisations" and _CITED_OUTLET.search(text, max(0, span.start - 40), span.start):
        return True
    if kind == "people" and _plural(span):
        return True
    if _not_a_name(vocab, span, kind):
        return True
    return len(span.tokens) == 1 and _common_word(vocab, span.tokens[0], text, kind)


def _span_nominative(vocab: Any, span: Any, kind: str, text: str, following: Any) -> str:
    """Return the span's name in the nominative, a street's named after someone as written
    («улица Карбышева») and an organisation's genitive complement kept («Верховный суд
    Бангладеша»); a list read as one name («Овечкин, Федоров») is split by the caller."""
    subject = bool(_COPULA.match(text, span.stop))
    named = nominative(vocab, span.tokens, kind, subject)
    street = _STREET.search(text, max(0, span.start - 20), span.start)
    if kind == "places" and street and _genitive(span):
        return f"{_STREETS[street.group(1).lower()].capitalize()} {span.text}"
    if kind == "organisations" and following is not None:
        named += _complement(text, span, following)
    return named


def _listed_name(name: str, kind: str) -> bool:
    """Tell a name of a list worth a mention: not names run together («Ким Чен Ир Ким Ир
    Сен»), not a lower-case tail («спорта и туризма ДНР» of «Министерства молодежи, спорта…»),
    not one letter."""
    if kind == "people" and len(name.split()) > 3:
        return False
    if name[:1].islower() and not _PARTICLE_START.match(name):
        return False
    if kind == "people" and any(_INSTRUMENTAL.search(w) for w in name.split()):
        return False  # «Квинси Промесом»: a form the inflection missed; no name beats a wrong one
    return len(name) > 1


# Endings no nominative of a person's name has: the instrumental and dative of a surname
# or first name («Промесом», «Протасовицким», «Шуваеву»).
_INSTRUMENTAL = re.compile(r"\w{3,}(?:[бвгджзклмнпрстфхцчшщ]ом|ым|[сц]ким|ому|ему)$")


# A name right after a verb of publishing is an outlet cited as a source: «как передает
# «Керчь. ФМ»», «пишет Daily Mail», «в эфире телеканала».
_CITED_OUTLET = re.compile(
    r"(?:переда[её]т|передают|пишет|пишут|в\s+эфире)[ \xa0]+[«\"„]?[ \xa0]*\Z",
    re.I,
)


# Words that name kinds of things: dictionary tags of names, places, organisations, acronyms.
_SENTENCE_START = re.compile(r"(?:^|[.!?…:\n]\s*|[.!?…]\s*[»\"]\s*|[—–-]\s+)[«\"(]?$")


# Words for a kind of territory that the NER tags as a place when capitalised alone.
_GENERIC_PLACES = frozenset(
    [
        "федерация",
        "республика",
        "область",
        "край",
        "округ",
        "штат",
        "страна",
        "государство",
        "регион",
        "провинция",
        "королевство",
        "район",
        "город",
    ]
)


# Words written with a capital that name no organisation: «СМИ», «в Сети» (the Web).
_NO_ORGANISATION = frozenset(("сми", "сеть", "сети", "сетью"))


def _common_word(vocab: Any, token: Any, text: str, kind: str = "") -> bool:
    """Tell a common word capitalised where a sentence opens ("Правительство", "Супруга") or an
    adjective alone ("Южная") from a name; "СМИ" are not an organisation. A place of one
    common noun ("субъектов Федерации") names no place a reader could find on a map."""
    forms = vocab(token.text.lower())
    if not forms or token.text.lower() in _NO_ORGANISATION:
        return bool(forms)
    tag = forms[0].tag
    if any(g in tag for g in PROPER_TAGS):
        return False
    if all(f.is_known and f.pos not in ("NOUN", "PROPN", "ADJ") for f in forms):
        return True  # «Откроет»: a verb opening a sentence whose full stop was lost
    if kind == "places" and forms[0].normal_form in _GENERIC_PLACES:
        return True
    if kind != "people" and all(f.is_known and not proper(f) for f in forms):
        # «Банк», «Фонд», «Камера»: a common noun the text also writes in small letters is
        # that noun, capitalised where a sentence or a heading opens.
        lemma = forms[0].normal_form
        stem = re.escape(token.text[: max(3, len(token.text) - 2)].lower())
        for m in re.finditer(rf"(?<![\w-]){stem}[а-яё]*(?![\w.-])", text):
            if any(f.normal_form == lemma for f in vocab(m.group(0))):
                return True
    return forms[0].pos == "ADJ" or bool(
        _SENTENCE_START.search(text[max(0, token.start - 4) : token.start])
    )


_PARTICLE_START = re.compile(r"^(?:аль|эль|ибн|бин|бен|де|ди|да|дю|ван|фон|ла|ле)\b")


def _not_a_name(vocab: Any, span: Any, kind: str) -> bool:
    """Tell a span the NER took for a name that a reader would not: a lower-case word
    («улица», «вознаграждение»), a place in capitals (a wire dateline, «МОСКВА»), a person
    who is a thing («Тойота»), a person taken for a place («Савелием Садома»)."""
    words = [t.text for t in span.tokens if any(c.isalpha() for c in t.text)]
    if not words or _small_letters(words, kind):
        return True
    if kind == "places" and all(w.isupper() for w in words) and sum(map(len, words)) > 4:
        return True  # «МОСКВА, 17 ноя»: capitals name a dateline or a headline, not a place
    if kind == "people":
        return len(words) == 1 and _common_noun(vocab, words[0])
    return len(words) == 2 and words[1][:1].isupper() and _first_name(vocab, words[0])


def _small_letters(words: list[str], kind: str) -> bool:
    """Tell a name opening in a small letter, or a person's with a small-letter word in it
    («Начислено вознаграждение»); particles («де», «ван») are small in names."""
    checked = words if kind == "people" else words[:1]
    return any(w[0].islower() and not _PARTICLE_START.match(w) for w in checked)


def _common_noun(vocab: Any, word: str) -> bool:
    forms = vocab(word.lower())
    return bool(forms) and all(f.is_known and not proper(f) for f in forms)


def _first_name(vocab: Any, word: str) -> bool:
    """Tell a first name: a place or organisation of a first name and a capitalised word is
    a person the NER misfiled; unsure of the kind, the name is left out rather than misfiled."""
    forms = vocab(word.lower())
    return bool(forms) and forms[0].is_known and "Name" in forms[0].tag


def _quoted(name: str) -> str:
    """Return the name inside the quotes of «ОАО «Газпром»: the name a reader knows.

    A short quoted part stays with its noun, its quote closed: «Центр «Э»».
    """
    m = re.search(r'[«"„]([^»"“]+)', name)
    if not m:
        return name
    if len(m.group(1).strip()) > 2:
        return m.group(1).strip()
    return name if name.endswith(("»", '"', "“")) else name + "»"


_LIST = re.compile(r"\s*[,;•]\s*")


# Unions of states that the NER tags as places; a reader looks for them among organisations.
_UNIONS = frozenset({"ес", "евросоюз", "европейский союз", "еврокомиссия", "нато", "оон"})


def _known(vocab: Any, name: str, kind: str) -> bool:
    """Tell a person's name of one word that the dictionary knows as a surname ("Путин")."""
    if kind != "people" or " " in name:
        return True
    forms = vocab(name.lower())
    return bool(forms) and "Surn" in forms[0].tag


def _plural(span: Any) -> bool:
    return len(span.tokens) == 1 and span.tokens[0].feats.get("Number") == "Plur"


def _complement(text: str, span: Any, following: Any) -> str:
    """Return the genitive name right after an organisation, which belongs to it: «Верховный
    суд» + «Бангладеша», «Национальный банк» + «Украины»; else ""."""
    if following.type == "PER" or text[span.stop : following.start].strip():
        return ""
    if following.tokens[0].feats.get("Case") != "Gen":
        return ""
    return " " + str(following.text)


def _tag_morphology(doc: Any, tagger: Any) -> None:
    """Tag case, gender and number in the sentences that name someone (the rest cost time)."""
    named = {id(t) for span in doc.spans for t in span.tokens}  # a span may cross sentences
    sentences = [s for s in doc.sents if any(id(t) in named for t in s.tokens)]
    markups = tagger.map([[t.text for t in s.tokens] for s in sentences])
    for sentence, markup in zip(sentences, markups, strict=True):
        for target, source in zip(sentence.tokens, markup.tokens, strict=True):
            target.pos, target.feats = source.pos, source.feats


# A street named after someone or something keeps its name in the genitive: «улица Карбышева».
_STREETS = {
    "улиц": "улица",
    "проспект": "проспект",
    "переул": "переулок",
    "бульвар": "бульвар",
    "площад": "площадь",
    "набережн": "набережная",
    "шоссе": "шоссе",
}
_STREET = re.compile(r"\b(улиц|проспект|переул|бульвар|площад|набережн|шоссе)[а-я]*[ \xa0]+$", re.I)


def _genitive(span: Any) -> bool:
    return all(t.feats.get("Case") == "Gen" for t in span.tokens if t.pos in ("NOUN", "PROPN"))


# "X — кандидат": a name before a dash is the subject of the sentence, so nominative.
_COPULA = re.compile(r"[ \xa0]+[—–][ \xa0]")


_QUOTE_MARKS = (("«", "»"), ('"', '"'), ("„", "“"))
# An apostrophe that is no letter's («О'Нил» keeps its own).
_SINGLE_QUOTE = re.compile(r"(?<!\w)'|'(?!\w)")


def _unpaired_quotes_out(name: str) -> str:
    """Return the name without a quote mark it opens and never closes: «НПЗ 'Панчево», «УК
    «Спортивные проекты» (the span ended inside the quote)."""
    for a, b in _QUOTE_MARKS:
        paired = name.count(a) == name.count(b) if a != b else name.count(a) % 2 == 0
        if not paired:
            name = " ".join(name.replace(a, " ").replace(b, " ").split())
    if len(_SINGLE_QUOTE.findall(name)) % 2:
        name = " ".join(_SINGLE_QUOTE.sub(" ", name).split())
    return name


def _fold(name: str) -> str:
    return name.casefold().replace("ё", "е")


_PARTICLES = frozenset(
    {"ле", "де", "ван", "фон", "дер", "ла", "дю", "ди", "да", "ибн", "бен"} | {"бин", "аль", "эль"}
)


def _first_last(name: str) -> str:
    """Return "First Last" of a three-word name: «Реджеп Тайип Эрдоган» -> «Реджеп Эрдоган».

    «Марин Ле Пен» keeps its particle; short East Asian names («Ким Чен Ир») stay whole.
    """
    words = name.split()
    if len(words) != 3 or _fold(words[1]) in _PARTICLES or any(len(w) < 4 for w in words):
        return name
    return f"{words[0]} {words[2]}"


def count_names(mentions: Iterable[Mention]) -> dict[str, dict[str, int]]:
    """Return mentions per name per kind, a person's last-name-only mentions merged in.

    "Денисова" counts for "Людмила Денисова" when the texts name her in full; a last name
    shared by two full names goes to the one mentioned more.
    """
    counts: dict[str, dict[str, int]] = {kind: {} for kind in _KINDS.values()}
    forms: dict[tuple[str, str], str] = {}  # one spelling per folded name
    unknown: set[str] = set()
    for m in mentions:
        name = _first_last(m.name) if m.kind == "people" else m.name
        name = forms.setdefault((m.kind, _fold(name)), name)
        counts[m.kind][name] = counts[m.kind].get(name, 0) + 1
        if not m.known:
            unknown.add(name)
    people = counts["people"]
    full = sorted((n for n in people if " " in n), key=lambda n: -people[n])
    for short in [n for n in people if " " not in n]:
        owner = next((n for n in full if _fold(n).split()[-1] == _fold(short)), None)
        owner = owner or next((n for n in full if _fold(n).split()[0] == _fold(short)), None)
        if owner:
            people[owner] += people.pop(short)
        elif short in unknown and people[short] < 2:
            del people[short]  # one word, said once, no known surname: «Эзра», «Подана»
    return counts
