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
    nominative = _nominative(vocab, span.tokens, kind, subject)
    street = _STREET.search(text, max(0, span.start - 20), span.start)
    if kind == "places" and street and _genitive(span):
        return f"{_STREETS[street.group(1).lower()].capitalize()} {span.text}"
    if kind == "organisations" and following is not None:
        nominative += _complement(text, span, following)
    return nominative


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
_PROPER = ("Name", "Surn", "Geox", "Orgn", "Abbr", "Trad")
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
    if any(g in tag for g in _PROPER):
        return False
    if all(f.is_known and f.pos not in ("NOUN", "PROPN", "ADJ") for f in forms):
        return True  # «Откроет»: a verb opening a sentence whose full stop was lost
    if kind == "places" and forms[0].normal_form in _GENERIC_PLACES:
        return True
    if kind != "people" and all(f.is_known and not _proper(f) for f in forms):
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
    return bool(forms) and all(f.is_known and not _proper(f) for f in forms)


def _first_name(vocab: Any, word: str) -> bool:
    """Tell a first name: a place or organisation of a first name and a capitalised word is
    a person the NER misfiled; unsure of the kind, the name is left out rather than misfiled."""
    forms = vocab(word.lower())
    return bool(forms) and forms[0].is_known and "Name" in forms[0].tag


def _proper(form: Any) -> bool:
    return any(g in form.tag for g in _PROPER)


def _role_word(vocab: Any, token: Any) -> bool:
    """Tell a word that says what someone is, opening a person's span: «Южноафриканец
    Клаасен», «Полузащитник Кроос». The dictionary knows it, and not as a name."""
    forms = vocab(str(token.text).lower())
    return bool(forms) and all(f.is_known and f.pos == "NOUN" and not _proper(f) for f in forms)


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


def _nominative(vocab: Any, tokens: list[Any], kind: str, subject: bool = False) -> str:
    """Return a span's words in the nominative, spaced as written.

    A person's every word is inflected, patronymics and initials left out; an organisation's
    or place's words only up to its head noun («мэрии Москвы» -> «мэрия Москвы», «Азовского
    моря» -> «Азовское море»): what follows the head is a complement that keeps its case.
    (natasha's own normaliser inflects every word without a syntax parse, and needs the
    dictionary's gender to match, which foreign surnames lack: «Обамы» stayed «Обамы».)
    """

    out: list[str] = []
    inflect, stop, head = True, None, -1
    agreed: dict[str, str] = {}
    if kind == "people":
        tokens, agreed = _person_words(vocab, tokens, subject)
    for index, token in enumerate(tokens):
        if kind == "people" and _initial_or_patronymic(vocab, tokens, index):
            continue
        if token.pos == "CCONJ" and head == index - 1:
            inflect = True  # «Боснии и Герцеговины»: two heads, both in the nominative
        word = _inflect(vocab, token, kind, agreed) if inflect else token.text
        if not word:
            return ""
        glued = stop == token.start and out  # "О’Рейли", "Формулы-1": no space inside
        out.append(("" if glued or not out else " ") + _shape(word, token.text))
        stop = token.stop
        if kind != "people" and inflect and token.pos in ("NOUN", "PROPN"):
            inflect, head = False, index  # the head noun: the rest is its complement
    return _tidy("".join(out))


def _person_words(vocab: Any, tokens: list[Any], subject: bool) -> tuple[list[Any], dict[str, str]]:
    """Return a person's words without the role words that open them («Полузащитник Кроос»)
    and the case and gender they agree in (nominative when the name is a sentence's subject
    and every word may be one)."""
    while len(tokens) > 1 and _role_word(vocab, tokens[0]):
        tokens = tokens[1:]
    if subject and all(_may_be_nominative(vocab, t) for t in tokens):
        return tokens, {"Case": "Nom"}
    return tokens, _agreement(vocab, tokens)


_ACRONYM_CASE = re.compile(r"^([A-ZА-ЯЁ]{2,})[а-яё]{1,3}$")


def _shape(word: str, text: str) -> str:
    """Return the word in the text's letter case; an acronym with a case ending («ГИТИСа»,
    «ЦУМа») is the acronym («ГИТИС»), not a lower-case word."""
    from natasha.shape import recover_shape  # type: ignore[import-untyped]

    acronym = _ACRONYM_CASE.match(text)
    if acronym and word.upper().startswith(acronym.group(1)):
        return acronym.group(1)
    return str(recover_shape(word, text))


def _may_be_nominative(vocab: Any, token: Any) -> bool:
    """Tell whether the dictionary reads a word as a nominative at all («Петером» it never
    does: such a name before a dash is no subject)."""
    forms = [f for f in vocab(str(token.text).lower()) if f.pos in ("NOUN", "PROPN", "ADJ")]
    return not forms or any(f.feats.get("Case") == "Nom" for f in forms)


def _agreement(vocab: Any, tokens: list[Any]) -> dict[str, str]:
    """Return the case and gender that all words of a person's name share.

    The tagger reads each word alone and disagrees with itself («Валерия» Gen Masc,
    «Касамара» Nom Fem); a name's words agree, so a nominative word makes all nominative
    unless the dictionary reads another word as never nominative («Айсена» of «Айсена
    Гоголева»), and the first name, which the tagger knows best, gives case and gender
    otherwise.
    """
    feats = [t.feats or {} for t in tokens]
    nominative = all(_may_be_nominative(vocab, t) for t in tokens)
    if nominative and any(f.get("Case") == "Nom" for f in feats):
        return {"Case": "Nom"}
    first = feats[0]
    return {k: first[k] for k in ("Case", "Gender") if k in first}


def _initial_or_patronymic(vocab: Any, tokens: list[Any], index: int) -> bool:
    """Tell the parts of a name a reader does not need: «А.» of «А. Кудрин», «Иосифовна»."""
    text = tokens[index].text
    nxt = tokens[index + 1].text if index + 1 < len(tokens) else ""
    if text == "." or (len(text) == 1 and text.isupper() and nxt == "."):
        return True
    forms = vocab(text.lower()) if index > 0 else []
    return bool(forms) and "Patr" in forms[0].tag


_NOUNS = ("NOUN", "PROPN")
# The dictionary's tags of a name of each kind: among its guesses, such a form wins.
_NAMED_TAGS = {
    "people": ("Name", "Surn", "Patr"),
    "places": ("Geox",),
    "organisations": ("Orgn", "Abbr", "Trad"),
}


def _pos_match(form: Any, token: Any) -> bool:
    """Tell whether a dictionary form is the part of speech the tagger read (a proper noun is
    a noun to the dictionary; a participle in a name, «Соединенных», is its verb)."""
    return form.pos == token.pos or (form.pos in _NOUNS and token.pos in _NOUNS)


def _inflect(vocab: Any, token: Any, kind: str, agreed: dict[str, str]) -> str:
    """Return one word in the nominative, keeping its number (and gender when the form has one).

    The dictionary's guesses for a word it does not know are many («Сосиным» may be an
    adjective «сосиный» or the surname «Сосин»): the form of the tagger's part of speech
    wins, a name's form first. When no form fits, the word is kept as the text has it: a
    form the text never uses would be a name nobody printed.
    """
    word, feats = str(token.text).lower().replace("ё", "е"), {**(token.feats or {}), **agreed}
    if not _declined(token, feats):
        return word
    if "-" in word and kind == "people":
        return _inflect_parts(vocab, token, kind, agreed)
    candidates = vocab(word)
    if any("Fixd" in f.tag and any(g in f.tag for g in _NAMED_TAGS[kind]) for f in candidates):
        return word  # «Гачечиладзе», «Монтойя»: a name that does not decline
    masculine = feats.get("Gender") == "Masc" and _MASC_ENDING.search(word)
    if masculine and not any(f.is_known for f in candidates):
        # a word the dictionary does not know, whose guesses are wild («Совфеде» ->
        # «Совфедя»): a masculine ending off a consonant stem («Райкконена», «Совфеде»)
        return _MASC_ENDING.sub("", word)
    found = _dictionary_nominative(candidates, token, kind, feats)
    if found:
        return found
    if token.pos == "ADJ" or (kind == "people" and _ADJECTIVAL_SURNAME.search(word)):
        return _adjective(word, feats.get("Gender"))
    # No nominative found, and the ending says the word is not one: a wrong form is worse
    # than no name ("Гаваны", "Викиновостям").
    return "" if _OBLIQUE.search(word) else word


def _declined(token: Any, feats: dict[str, str]) -> bool:
    """Tell a noun, adjective or participle in an oblique case: the words to inflect."""
    participle = token.pos == "VERB" and feats.get("VerbForm") == "Part"
    nominal = token.pos in ("NOUN", "PROPN", "ADJ") or participle
    return nominal and feats.get("Case") not in (None, "Nom")


def _dictionary_nominative(
    candidates: list[Any], token: Any, kind: str, feats: dict[str, str]
) -> str:
    """Return the nominative of the dictionary form that fits the tagger's reading best: its
    case and number, then its part of speech, gender, a name's tag, a known word; else ""."""

    def fit(form: Any) -> tuple[bool, bool, bool, bool]:
        named = any(g in form.tag for g in _NAMED_TAGS[kind])
        gender = form.feats.get("Gender") == feats.get("Gender")
        return _pos_match(form, token), gender, named, bool(form.is_known)

    forms = [
        f
        for f in candidates
        if f.feats.get("Case") == feats.get("Case")
        and f.feats.get("Number") == feats.get("Number")
        and "Supr" not in f.tag  # pymorphy inflects «высшей» to «высочайшая»
        and (f.is_known or _pos_match(f, token))  # a guess of another part of speech: unsure
    ]
    for form in sorted(forms, key=fit, reverse=True):
        nominative = form.inflect({"Nom"})
        if nominative:
            return str(nominative.word).replace("ё", "е")
    return ""


class _Part:
    """One part of a hyphenated name, read as a word of its own («Хуана» of «Хуана-Себастьяна»)."""

    def __init__(self, text: str, token: Any) -> None:
        self.text, self.pos, self.feats = text, token.pos, token.feats


def _inflect_parts(vocab: Any, token: Any, kind: str, agreed: dict[str, str]) -> str:
    """Return a hyphenated name with each part in the nominative: «Хуан-Себастьян».

    The dictionary reads such a word by its last part and keeps the first as written
    («Хуана-Себастьян»); a part that cannot be inflected keeps the whole word as found.
    """
    parts = [_inflect(vocab, _Part(p, token), kind, agreed) for p in str(token.text).split("-")]
    if not all(parts):
        return str(token.text).lower().replace("ё", "е")
    return "-".join(parts)


# Nominative endings of adjectives by gender, after the letters that decide the spelling.
_ADJECTIVE_ENDINGS = {
    "Fem": [(r"(?<=[жшчщ])(?:ей|ую)$", "ая"), (r"(?:ой|ую)$", "ая"), (r"(?:ей|юю)$", "яя")],
    "Masc": [(r"(?<=[кгхжшчщ])(?:ого|ому|им|ом)$", "ий"), (r"(?:ого|ому|ым|ом)$", "ый"),
             (r"(?:его|ему|им|ем)$", "ий")],
    "Neut": [(r"(?<=[кгх])(?:ого|ому|им|ом)$", "ое"), (r"(?:ого|ому|ым|ом)$", "ое"),
             (r"(?:его|ему|им|ем)$", "ее")],
}  # fmt: skip


def _adjective(word: str, gender: str | None) -> str:
    """Return an adjective in the nominative by its ending (the dictionary gave another word)."""
    for pattern, ending in _ADJECTIVE_ENDINGS.get(gender or "", []):
        if re.search(pattern, word):
            return re.sub(pattern, ending, word)
    return word


# A woman's surname that declines as an adjective: «Осадчей» of «Осадчая», «Бельской».
_ADJECTIVAL_SURNAME = re.compile(r"(?:ск|цк|[жшчщ])(?:ой|ей)$")
_OBLIQUE = re.compile(r"(?:ы|ой|ом|ем|ам|ям|ах|ях|ами|ями|ою|ею|ью|ого|ему|ому)$")
# Oblique endings of a masculine foreign surname ending in a consonant.
_MASC_ENDING = re.compile(r"(?<=\w\w\w[бвгджзклмнпрстфхцчшщ])(?:ом|ем|а|у|е)$")


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


def _tidy(name: str) -> str:
    """Return a name without a bracketed original or stray punctuation: "Джошуа Вольф (Joshua Wolf)"."""
    name = re.sub(r"\s*\([^)]*\)?", "", name)
    return " ".join(name.strip(' .,;:-–—•()«»"').split())


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
