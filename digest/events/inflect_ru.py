"""A Russian name put in the nominative: natasha's tags, pymorphy's readings, and rules.

natasha finds «Азовского моря» and tags each word's case; the name a key fact prints is
«Азовское море». A person's every word is inflected (patronymics and initials left out), an
organisation's or place's only up to its head noun; a word the dictionary does not know is
declined by its ending, and when no reading fits, the form the text gives is kept.
"""

from __future__ import annotations

import re
from typing import Any


def nominative(vocab: Any, tokens: list[Any], kind: str, subject: bool = False) -> str:
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
    return tidy("".join(out))


def _person_words(vocab: Any, tokens: list[Any], subject: bool) -> tuple[list[Any], dict[str, str]]:
    """Return a person's words without the role words that open them («Полузащитник Кроос»)
    and the case and gender they agree in (nominative when the name is a sentence's subject
    and every word may be one)."""
    while len(tokens) > 1 and role_word(vocab, tokens[0]):
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


PROPER_TAGS = ("Name", "Surn", "Geox", "Orgn", "Abbr", "Trad")


def proper(form: Any) -> bool:
    return any(g in form.tag for g in PROPER_TAGS)


def role_word(vocab: Any, token: Any) -> bool:
    """Tell a word that says what someone is, opening a person's span: «Южноафриканец
    Клаасен», «Полузащитник Кроос». The dictionary knows it, and not as a name."""
    forms = vocab(str(token.text).lower())
    return bool(forms) and all(f.is_known and f.pos == "NOUN" and not proper(f) for f in forms)


def tidy(name: str) -> str:
    """Return a name without a bracketed original or stray punctuation: "Джошуа Вольф (Joshua Wolf)"."""
    name = re.sub(r"\s*\([^)]*\)?", "", name)
    return " ".join(name.strip(' .,;:-–—•()«»"').split())
