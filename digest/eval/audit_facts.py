"""Key facts a reader is shown, checked against the event's raw text: derivable from it, in the
nominative, not a source, a byline or a dateline, not listed twice (`digest eval reader`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from functools import cache
from typing import Any

from digest.eval.audit_text import flat, words

# --- facts: derivable, nominative, not sources, not duplicated ---------------------------

# Oblique-case endings and the nominative endings they may come from (Russian names).
_NOMINATIVE_OF = (
    ("ого", ("ый", "ий", "ой", "ое")), ("его", ("ий", "ый", "ее")),
    ("ому", ("ый", "ий", "ой", "ое")), ("ему", ("ий", "ее")), ("ыми", ("ые",)),
    ("ими", ("ие",)), ("ым", ("ый", "ой", "ые", "ое", "")), ("им", ("ий", "ие", "ее", "")),
    ("ых", ("ые", "ый")), ("их", ("ие", "ий")), ("ую", ("ая",)), ("юю", ("яя",)),
    ("ией", ("ия",)), ("ием", ("ий",)), ("ии", ("ия", "ий", "ие")),
    ("ию", ("ия", "ий", "ие")), ("ой", ("ая", "а", "ой")), ("ей", ("яя", "я", "ь", "ей")),
    ("ом", ("", "о", "ое", "ый", "ой", "ий")), ("ем", ("ь", "й", "е", "", "ий", "ее")),
    ("ам", ("а", "ы", "и")), ("ям", ("я", "и")), ("ами", ("ы", "а", "и")),
    ("ями", ("и", "я")), ("ах", ("ы", "а", "и")), ("ях", ("и", "я")),
    ("а", ("", "а", "о", "ь")), ("я", ("й", "ь", "я", "е")), ("у", ("", "а", "о")),
    ("ю", ("й", "ь", "я")), ("е", ("", "а", "я", "о", "е", "й", "ь")), ("ы", ("а", "ы")),
    ("и", ("а", "ь", "я", "й", "и")), ("ь", ("ь",)),
)  # fmt: skip


_VOWELS = frozenset("аеёиоуыэюяь")


def nominatives(word: str) -> set[str]:
    """Return the word and the nominative forms an oblique Russian form may stand for."""
    out = {word}
    for ending, options in _NOMINATIVE_OF:
        if word.endswith(ending) and len(word) - len(ending) >= 2:
            stem = word[: -len(ending)]
            stems = {stem}
            if stem.endswith("ь"):
                stems.add(stem[:-1])  # «Третьего» -> «Третий»
            if len(stem) > 2 and stem[-1] not in _VOWELS and stem[-2] not in _VOWELS:
                # A vowel that drops in the other cases: «Египта» -> «Египет».
                stems.update({stem[:-1] + "е" + stem[-1], stem[:-1] + "о" + stem[-1]})
            out.update(s + o for s in stems for o in options)
    return out


def _derivable_word(word: str, text_words: set[str], forms: dict[str, set[str]]) -> bool:
    if word in text_words:
        return True
    sources = forms.get(word, set())
    if not sources:
        return False
    # «Волочковая» from «Волочковой» is the adjective's paradigm; a text that also has
    # «Волочкова» or «Волочкову» declines it as a surname, whose nominative is «Волочкова».
    if word.endswith("ая") and len(word) > 4:
        stem = word[:-2]
        if stem + "а" in text_words or stem + "у" in text_words:
            return False
    if word.endswith(("ый", "ий")) and len(word) > 4:
        stem = word[:-2]
        if stem in text_words or stem + "а" in text_words or stem + "у" in text_words:
            return False  # «Сосиный» beside «Сосин», «Сосина»: the surname is «Сосин»
    return True


def name_words(name: str) -> list[str]:
    """Return a fact's words (hyphenated parts apart), lower-cased, ё as е."""
    return [w for w in words(name.replace("-", " ")) if w]


_POSSESSIVE = re.compile(r"(?<=[A-Za-z])['’]s\b")
_GLUED_PAIR = re.compile(r"(?<=[а-яё])(?=[А-ЯЁ][а-яё])")


class TextWords:
    """The words of an event's raw text, and the nominatives each may stand for."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.text = flat("\n".join(texts))
        # "France's", "Sampras’s": the possessive is no part of the name; «поэтаЦыпил»:
        # words a crawl glued are two.
        plain = _POSSESSIVE.sub("", _GLUED_PAIR.sub(" ", self.text))
        self.words = set(words(plain.replace("-", " ")))
        self.forms: dict[str, set[str]] = {}
        for w in self.words:
            for n in nominatives(w):
                self.forms.setdefault(n, set()).add(w)

    def derivable(self, name: str) -> bool:
        """Tell whether every word of the name is in the text or a nominative of one there."""
        parts = name_words(name)
        return bool(parts) and all(_derivable_word(w, self.words, self.forms) for w in parts)


# Two words run together by a lost line break: «вознаграждениеЭта», «ЧерняковаФото»,
# "SubscribeLoading" (brands such as «ИноСМИ», "WhatsApp" or "LeDay" have shorter runs).
_GLUED = re.compile(r"[а-яё]{4,}[А-ЯЁ][а-яё]|[a-z]{5,}[A-Z][a-z]{2}")


def not_derivable(name: str, text: TextWords) -> str:
    """Return why a printed fact is not something the text says, or ""."""
    if _GLUED.search(name):
        return "glued words"
    if re.match(r"[a-zа-яё]", name) and not name.startswith(("de ", "van ", "von ", "al-")):
        return "not a name (lower case)"
    if not text.derivable(name):
        return "not in the text"
    return ""


@cache
def _morph() -> Any:
    # natasha's import mends pymorphy2 for Python 3.11 (inspect.getargspec is gone).
    import natasha  # type: ignore[import-untyped]  # noqa: F401
    import pymorphy2  # type: ignore[import-untyped]  # comes with natasha

    return pymorphy2.MorphAnalyzer()


_PARTICLES = frozenset(
    ["де", "ла", "ле", "дель", "ди", "да", "фон", "ван", "дер", "бин", "ибн", "аль", "эль", "и"]
)


_NAME_TAGS = {"people": {"Name", "Surn", "Patr"}, "places": {"Geox"}, "organisations": {"Orgn"}}


def _cases(word: str, kind: str) -> list[tuple[str, str, bool]]:
    """Return (case, number, pluralia tantum or indeclinable) for each parse of the word:
    of its parses as a name of the kind when the dictionary has any («Лапин» a surname, not
    «лапа»'s), else of all."""
    parses = _morph().parse(word)
    named = [p for p in parses if _NAME_TAGS[kind] & set(p.tag.grammemes)]
    if kind == "people" and not named:
        return []  # not a name it knows («Фарах», «Юге» of «Пьер-Юге»): the ending decides
    out = []
    for p in named or parses:
        tag = p.tag
        if tag.case is None:
            continue
        fixed = "Pltm" in tag or "Fixd" in tag
        out.append((str(tag.case), str(tag.number or ""), fixed))
    return out


# Endings no nominative of a Russian name has: «Петером», «Шуваевым», «Американского».
_OBLIQUE = re.compile(r"(?:[^аеиоуыэюя]ом|ым|ого|ому|ему|ыми|ими|ою)$")


# A Russian surname's nominative ends so: «Мамаев», «Колобков», «Кротова», «Пушкина»; the
# dictionary may know such a word only as another name's plural («Мамай») or a man's genitive.
_SURNAME_ENDING = re.compile(r"(?:ов|ев|ёв|ин|ын)а?$")


def _surname_as_is(word: str, kind: str, parts: list[str]) -> bool:
    """Tell a surname after a first name, whose form may be nominative whatever the
    dictionary reads («Алина Кротова»); the first name tells the case when it is not."""
    return kind == "people" and word is not parts[0] and bool(_SURNAME_ENDING.search(word))


def _words_to_check(name: str, kind: str) -> list[str]:
    """Return the words of a name that must be nominative: a person's every word; an
    organisation's or place's head only («Банк России», «Совет Федерации»; an acronym, «ФТС
    России», or a foreign word heads the name without declining), coordinated heads alike
    («Босния и Герцеговина»)."""
    tokens = re.split(r"[\s-]+", name)
    parts = [w for w in tokens if re.match(r"[А-ЯЁ][а-яё]{2,}$", w)]
    if kind != "people":
        heads = [tokens[0]] + [w for i, w in enumerate(tokens[1:]) if tokens[i] == "и"]
        parts = [w for w in heads if w in parts]
    return [w for w in parts if w.casefold() not in _PARTICLES]


def _word_case(word: str, kind: str) -> str:
    """Return "nominative", "plural" (a plural nominative only) or "oblique" for one word."""
    cases = _cases(word, kind) if _morph().word_is_known(word) else []
    if not cases:
        # An unknown word (most foreign names) gets guessed cases: only an ending no
        # nominative has tells.
        return "oblique" if _OBLIQUE.search(word) else "nominative"
    if any(c == "nomn" and (n != "plur" or fixed) for c, n, fixed in cases):
        return "nominative"
    return "plural" if any(c == "nomn" for c, _, _ in cases) else "oblique"


def non_nominative(name: str, kind: str) -> str:
    """Return the word of a Russian name that is in an oblique case, or ""."""
    parts = _words_to_check(name, kind)
    plural = 0
    for word in parts:
        case = "nominative" if _surname_as_is(word, kind, parts) else _word_case(word, kind)
        if case == "oblique":
            return word
        plural += case == "plural"  # «Соединенные Штаты»: fine when all of the name is plural
    if plural and plural < len(parts):
        return "a plural word beside singular ones"
    return ""


# Outlets and agencies: sources of the news, never its organisations.
_OUTLETS = frozenset(
    w.casefold()
    for w in (
        "ТАСС", "ИТАР-ТАСС", "РИА Новости", "РИА", "Интерфакс", "INTERFAX", "INTERFAX.RU",
        "Reuters", "AFP", "AP", "Associated Press", "BBC", "BBC News", "CNN", "Bloomberg",
        "Рейтер", "Франс Пресс", "Синьхуа", "Xinhua", "РБК", "Коммерсантъ", "Коммерсант",
        "Ведомости", "Известия", "Газета.Ru", "Lenta.ru", "Лента.ру", "Meduza", "Медуза",
        "RT", "Russia Today", "НТВ", "Regnum", "Регнум", "ANI", "PTI", "IANS", "UPI",
        "The Associated Press", "The New York Times", "New York Times", "Washington Post",
        "The Washington Post", "The Guardian", "Guardian", "Fox News", "Sky News",
        "Business Insider", "Engadget", "TechCrunch", "The Verge", "Deutsche Welle", "DW",
        "Euronews", "Al Jazeera", "Yonhap", "Kyodo", "EFE", "dpa", "ANSA", "Sputnik",
        "Спутник", "Прайм", "ФАН", "Корреспондент.biz", "ФедералПресс", "EADaily",
    )
)  # fmt: skip
# News agencies: never the subject of a story in a digest. Other outlets (a TV channel sold,
# a newspaper sued) may be, so they count only when every mention cites them.
_AGENCIES = frozenset(
    w.casefold()
    for w in (
        "ТАСС", "ИТАР-ТАСС", "РИА Новости", "РИА", "Интерфакс", "INTERFAX", "INTERFAX.RU",
        "Reuters", "AFP", "AP", "Associated Press", "The Associated Press", "Рейтер",
        "Франс Пресс", "Синьхуа", "Xinhua", "ANI", "PTI", "IANS", "UPI", "Yonhap", "Kyodo",
        "EFE", "dpa", "ANSA", "ФедералПресс", "ФАН", "Прайм",
    )
)  # fmt: skip
_CITES = re.compile(
    r"(?:сообща\w*|переда[её]т|передают|пиш\w+|пишут|по данным|по информации|со ссылкой на"
    r"|в интервью|в эфире|рассказал\w*|заявил\w*|сообщил\w*|told|reported|reports|reporting"
    r"|according to|interview with|wrote|said)\W+(?:[\w-]+\W+){0,3}$",
    re.I,
)
_CITED_AFTER = re.compile(r"^\W{0,3}(?:сообща\w*|пиш\w+|переда\w+|reported|reports|said)", re.I)
_DOMAIN = re.compile(r"\.(?:ru|com|net|org|рф|biz|info|ua|by|kz|co\.uk|io)$", re.I)
_BYLINE_CUE = re.compile(
    r"(?:^|[.!?;:(\n]\s*|\s)(?:Автор|Авторы|Фото|Фотограф|Текст|Корреспондент|Источник"
    r"|[Rr]eporting by|[Ee]diting by|[Ww]riting by|[Aa]dditional reporting by|[Cc]ompiled by"
    r"|Photo|Photos|Credit|By|Image|Source|Via|Follow)\b[^.!?]{0,60}$"
)


def _outlet(name: str, text: str, outlets: set[str]) -> str:
    """Return why the name is an outlet: an agency, a web address, a site of the corpus, or
    another outlet every mention of which cites it; else ""."""
    key = flat(name).casefold()
    bare = _DOMAIN.sub("", key)
    if key in _AGENCIES or _DOMAIN.search(key) or key in outlets or bare in outlets:
        return "an outlet"
    if key not in _OUTLETS:
        return ""
    mentions = re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.I)
    if all(
        _CITES.search(text[max(0, m.start() - 60) : m.start()])
        or _CITED_AFTER.search(text[m.end() : m.end() + 20])
        or text[max(0, m.start() - 3) : m.start()].strip() in ("—", "–", "-", "(", "/")
        for m in mentions
    ):
        return "an outlet cited as the source"
    return ""


def _stem_pattern(name: str) -> str:
    surname = name.split()[-1] if name.split() else name
    return rf"(?<!\w){re.escape(surname[: max(3, len(surname) - 2)])}\w*"


def _byline(name: str, kind: str, text: str) -> str:
    """Return "a byline or credit" when a person is named only after a byline cue."""
    if kind != "people":
        return ""
    spots = [m.start() for m in re.finditer(_stem_pattern(name), text)]
    if spots and all(_BYLINE_CUE.search(text[max(0, s - 70) : s]) for s in spots):
        return "a byline or credit"
    return ""


def _dateline_city(name: str, kind: str, text: str) -> str:
    """Return "a dateline city" when a place is found only in capitals («МОСКВА»)."""
    if kind != "places" or name.upper() == name:
        return ""
    caps = re.findall(rf"(?<!\w){re.escape(name.upper())}(?!\w)", text)
    other = re.findall(_stem_pattern(name), text, re.I)
    return "a dateline city" if caps and len(caps) == len(other) else ""


def outlet_or_byline(name: str, kind: str, text: str, outlets: set[str]) -> str:
    """Return why a fact is a source, a byline or a dateline rather than news, or ""."""
    return (
        _outlet(name, text, outlets)
        or _byline(name, kind, text)
        or _dateline_city(name, kind, text)
    )


_ALIASES = tuple(
    frozenset(a.casefold() for a in group)
    for group in (
        ("Россия", "РФ", "Российская Федерация"),
        ("США", "Соединенные Штаты", "Соединенные Штаты Америки", "Америка", "Штаты"),
        ("US", "U.S.", "USA", "U.S.A.", "United States", "United States of America", "America"),
        ("UK", "U.K.", "Britain", "Great Britain", "United Kingdom"),
        ("Великобритания", "Британия", "Соединенное Королевство"),
        ("ЕС", "Евросоюз", "Европейский союз"),
        ("EU", "European Union"),
        ("ООН", "Организация Объединенных Наций"),
        ("UN", "United Nations"),
        ("ФРГ", "Германия"),
        ("КНР", "Китай"),
        ("Минобороны", "Министерство обороны"),
        ("Госдума", "Государственная дума"),
    )
)


_TOKEN = re.compile(r"[^\W_]+")


def _key(name: str) -> str:
    return " ".join(t.casefold().replace("ё", "е") for t in _TOKEN.findall(name))


_ALIAS_KEYS = tuple(frozenset(_key(a) for a in group) for group in _ALIASES)


def _initials(name: str) -> str:
    return "".join(w[0] for w in name.split() if w[:1].isupper())


def same_entity(a: str, b: str, people: bool = False) -> bool:
    """Tell whether two printed facts name one entity (alias, variant or acronym; for two
    people also a surname and the full name)."""
    ka, kb = _key(a), _key(b)
    if not ka or not kb:
        return False
    if ka == kb or any(ka in g and kb in g for g in _ALIAS_KEYS):
        return True
    wa, wb = ka.split(), kb.split()
    small, big = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    if people and len(small) < len(big) and small == big[-len(small) :]:
        return True  # «Макрон» and «Эммануэль Макрон»
    if len(wa) == len(wb) and all(
        difflib.SequenceMatcher(None, x, y).ratio() >= 0.8 for x, y in zip(wa, wb, strict=True)
    ):
        return True  # «Эммануэль Макрон» and «Эмманюэл Макрон»
    for short, long_ in ((a, b), (b, a)):
        acronym = short.isupper() and len(short) >= 2 and len(long_.split()) >= 2
        if acronym and _initials(long_).casefold() == short.casefold().replace(".", ""):
            return True
    return False
