"""Reader-visible errors in a built digest, counted by class (`digest eval reader`).

Each detector reads what a subscriber is shown (headlines, quoted sentences, key facts,
dates, "Coming up", the rendered text and HTML) beside the corpus's raw article text. None
calls the product's own cleaning, splitting, date or fact code: a rule that audits itself
proves nothing. The rules are written out in docs/evaluation.md ("Reader errors").
"""

from __future__ import annotations

import difflib
import html as htmllib
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from io import BytesIO
from typing import Any

from digest.eval.reader import CorpusItem, ReaderBuild
from digest.models import DatedItem, EventSummary, KeyFacts

SHOWN_DATES = 3  # dated items printed per event (the rest are only in the data)
TOP = 5  # "not-news among the first five events"


@dataclass
class ErrorClass:
    """One class of reader-visible error: how many of how many, and a few examples."""

    name: str
    what: str  # what the denominator counts
    count: int = 0
    of: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, bad: bool, example: str = "") -> None:
        """Count one checked thing, and it as an error when bad."""
        self.of += 1
        if bad:
            self.count += 1
            if example:
                self.examples.append(example)

    @property
    def rate(self) -> float:
        """Return count / of (0 when nothing was checked)."""
        return self.count / self.of if self.of else 0.0

    def as_json(self) -> dict[str, Any]:
        """Return count, denominator and rate."""
        return {"count": self.count, "of": self.of, "per": self.what, "rate": round(self.rate, 4)}


# --- text helpers (independent of digest.text) ----------------------------------------

_SPACE = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
_INVISIBLE = re.compile(r"[\u00ad\u200c\u200d\u2060\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def flat(text: str) -> str:
    """Return text with every run of whitespace as one space and invisible marks dropped."""
    return _SPACE.sub(" ", _INVISIBLE.sub("", text)).strip()


_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")


def words(text: str) -> list[str]:
    """Return the letters-only words of text, lower-cased, ё as е."""
    return [w.casefold().replace("ё", "е") for w in _WORD.findall(text)]


# --- datelines and boilerplate in summaries --------------------------------------------

_MONTH_WORD = (
    r"(?:январ|феврал|март|апрел|ма[йяе]|июн|июл|август|сентябр|октябр|ноябр|декабр"
    r"|янв|фев|мар|апр|авг|сен|окт|ноя|дек"
    r"|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-zа-я]*\.?"
)
_AGENCY = (
    r"(?:РИА\s+Новости|ТАСС|ИТАР-ТАСС|Интерфакс|INTERFAX(?:\.RU)?|Reuters|AP|AFP|Bloomberg"
    r"|UPI|ANI|PTI|IANS|Xinhua|EFE|dpa|ANSA|Yonhap|Kyodo|Синьхуа|Рейтер|Франс\s+Пресс|РБК"
    r"|Прайм|Регнум|REGNUM|RNS|ФАН|URA\.RU|ИА\s+\w+)"
)
BOILERPLATE: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, flags))
    for name, pattern, flags in (
        # «МОСКВА, 17 ноя — РИА Новости.», «КРАСНОЯРСК, 10 августа. /ТАСС/.», "GENEVA, Nov 1 —"
        (
            "dateline",
            rf"^[A-ZА-ЯЁ][A-ZА-ЯЁ.'\- ]{{2,40}}(?:\s*\([^)]{{1,40}}\))?[,.]\s*"
            rf"(?:\d{{1,2}}\s+{_MONTH_WORD}|{_MONTH_WORD}\s+\d{{1,2}})",
            0,
        ),
        ("dateline", rf"^\s*(?:Москва|Moscow)\.\s+\d{{1,2}}\s+{_MONTH_WORD}\s", re.I),
        ("agency tag", rf"^[^.!?]{{0,60}}(?:—|–|-|/)\s*{_AGENCY}\s*(?:/|\.|—|–|-)", 0),
        ("agency tag", rf"^\s*/?{_AGENCY}/?\s*(?:—|–|-|\.|,)", 0),
        ("agency tag", rf"\({_AGENCY}\)\s*(?:—|–|-)", 0),
        ("agency tag", r"^[A-Z][A-Z .,'-]{2,40}\((?:[A-Z][\w ]{0,30})\)\s*(?:—|–|-)", 0),
        ("agency tag", rf"(?:—|–)\s*{_AGENCY}\s*$", 0),
        ("counter", r"прочитано\s+\d+\s+раз|\b\d+\s+просмотр(?:ов|а)?\b|\bviews?:\s*\d", re.I),
        ("timestamp", r"^(?:Вчера|Сегодня|Yesterday|Today),?\s+\d{1,2}:\d{2}", re.I),
        ("timestamp", r"^\d{1,2}:\d{2}(?:\s|$)", 0),
        ("promo", r"Начислено вознаграждение|написана посетителем сайта", re.I),
        ("promo", r"\bПо материалам\b\s*:?\s*(?:[A-ZА-ЯЁ«\"]|сайта|www|http)", 0),
        (
            "promo",
            r"Читайте (?:также|нас)|Подписывайтесь|Подпишитесь на|Смотрите также|Жми, чтобы"
            r"|Самое важное в Telegram|Наш WhatsApp|Ты свидетель|Пришли фото",
            re.I,
        ),
        (
            "promo",
            r"\bRead more\b|\bSubscribe to\b|\bSign up (?:for|to)\b|\bFollow (?:us|\w+ \w+ on)\b"
            r"|\bClick here\b|\bMore from\b.*:$|\bSee more\b|\bFTC: We use\b|affiliate links"
            r"|\bwe may (?:get|receive|earn) a (?:small )?(?:commission|portion)\b"
            r"|\boriginally published\b|\bwas first published\b|\bMore to follow\b"
            r"|\bcontributed to this (?:report|article|story)\b|\bemail the Editor\b"
            r"|\bmay have been edited for length\b",
            re.I,
        ),
        (
            "credit",
            r"\b(?:Reporting|Editing|Writing|Additional reporting|Compiled) by\b"
            r"|(?:^|\s)(?:Автор|Фото|Фотограф|Photo|Photos|Credit|Image|Источник|Source|Via)\s*:"
            r"|Фото предоставлено|Фото из открытых|Иллюстративное фото|\(Image credit"
            r"|©|\ball rights reserved\b|все права защищены",
            re.I,
        ),
        ("hashtags", r"#[^\W_][\w-]*(?:\s*#[^\W_][\w-]*)+", 0),
        ("tags", r"\b(?:Теги|Tags|Рубрика)\s*:", re.I),
        ("underscore rule", r"_{3,}", 0),
        # A caption ending in a bare date, then the lead: «…в Красноярском крае. 4 августа
        # 2019 года Учёные…» (a dated sentence never runs straight into a capital).
        (
            "caption",
            rf"\b\d{{1,2}}\s+{_MONTH_WORD}\s+\d{{4}}(?:\s+(?:года|г\.))?\.?\s+"
            r"(?=[A-ZА-ЯЁ][a-zа-яё]+\s+[a-zа-яё])(?!(?:в|на|по|с|у|к|и)\s)",
            0,
        ),
    )
)


def boilerplate(sentence: str) -> str:
    """Return the name of the boilerplate rule the sentence matches, or ""."""
    text = flat(sentence)
    for name, pattern in BOILERPLATE:
        if pattern.search(text):
            return name
    return ""


# --- cut or altered sentences ------------------------------------------------------------


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Abbreviations after which a period does not end a sentence (lower-case, without it).
_ABBREVIATIONS = _wordset(
    """
    ст ч п пп г гг им ул д тыс млн млрд руб долл см т др пр проф акад ген рис стр т.е
    т.д т.п т.к т.н обл р-н н.э кв тел каб с мр mr mrs ms dr prof st no vs gen gov sen
    rep jr sr inc corp co ltd etc u.s u.k fig approx
    """
)
_TERMINAL = (".", "!", "?", "…", "»", '"', "”", "'", ")", "“", "’", "`")


# Abbreviations that never end a sentence («по ч. 2 ст. 12.8», «им. Баумана», "Dr. Smith");
# the others («г.», «т.д.», «н.э.», "Inc.") end one unless a number or small word follows.
_NEVER_FINAL = _wordset(
    """
    ст ч п пп им ул проф акад ген mr mrs ms dr prof st no vs
    """
)


def _abbreviation_runs_on(abbreviation: str, following: str) -> bool:
    if abbreviation not in _ABBREVIATIONS:
        return False
    return abbreviation in _NEVER_FINAL or following[:1].isdigit() or following[:1].islower()


_BRACKETED_CREDIT = re.compile(
    r"\s*\([^()]{0,20}(?:credit|photo|фото|image|source|источник)[^()]{0,80}\)", re.I
)


def _find_in(sentence: str, paragraphs: Sequence[str]) -> tuple[str, int] | None:
    for paragraph in paragraphs:
        at = paragraph.find(sentence)
        if at >= 0:
            return paragraph, at
    return None


def cut_or_altered(sentence: str, paragraphs: Sequence[str]) -> str:
    """Return why the quoted sentence is not a whole sentence of its article, or ""."""
    shown = flat(sentence)
    if not shown:
        return ""
    found = _find_in(shown, paragraphs)
    if found is None and "(" in "".join(paragraphs):
        # A credit in brackets may go from inside a sentence: "(Image credit: Microsoft)".
        found = _find_in(shown, [flat(_BRACKETED_CREDIT.sub(" ", p)) for p in paragraphs])
    if found is None:
        if shown.endswith("…") and _find_in(shown[:-1].rstrip(), paragraphs):
            return "cut (ellipsis)"
        return "altered: not in the article"
    paragraph, at = found
    before, after = paragraph[:at].rstrip(), paragraph[at + len(shown) :].lstrip()
    first = shown[0]
    if first in ",;:)]" or (first.islower() and before and not before.endswith(_TERMINAL)):
        return "cut: starts mid-sentence"
    if before:
        last_word = before.split()[-1].lstrip('(«"').casefold()
        if re.fullmatch(r"(?:[a-zа-яё]\.)+", last_word) and before.split()[-1][0].isupper():
            return "cut: starts after an initial"
        if last_word.endswith(".") and _abbreviation_runs_on(last_word[:-1], shown):
            return "cut: starts after an abbreviation"
        # (A capital after raw text that runs on is not counted: a dateline, a counter or
        # a credit was removed there, «прочитано 3454 раза Рита Дакота…».)
    if after:
        tail = shown.split()[-1].lstrip('(«"')
        if re.fullmatch(r"(?:[A-ZА-ЯЁ]\.)+", tail) and after[0].isupper():
            return "cut: ends on an initial"
        if tail.endswith(".") and _abbreviation_runs_on(tail[:-1].casefold(), after):
            return "cut: ends on an abbreviation"
        if not shown.endswith(_TERMINAL) and not shown.endswith(":"):
            return "cut: ends mid-sentence"
    return ""


def paragraphs_of(item: CorpusItem) -> list[str]:
    """Return the article's raw paragraphs, whitespace flattened, the title first."""
    return [flat(p) for p in (item.title, *item.text.split("\n")) if flat(p)]


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


class TextWords:
    """The words of an event's raw text, and the nominatives each may stand for."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.text = "\n".join(texts)
        self.words = set(words(self.text.replace("-", " ")))
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


def non_nominative(name: str, kind: str) -> str:
    """Return the word of a Russian name that is in an oblique case, or ""."""
    tokens = re.split(r"[\s-]+", name)
    parts = [w for w in tokens if re.match(r"[А-ЯЁ][а-яё]{2,}$", w)]
    if kind != "people":
        # «Банк России», «Совет Федерации»: only the head is nominative, and an acronym
        # («ФТС России») or a foreign word heads the name without declining.
        # Coordinated heads («Босния и Герцеговина») are nominative alike.
        heads = [tokens[0]] + [w for i, w in enumerate(tokens[1:]) if tokens[i] == "и"]
        parts = [w for w in heads if w in parts]
    plural = 0
    for word in parts:
        if word.casefold() in _PARTICLES:
            continue
        cases = _cases(word, kind) if _morph().word_is_known(word) else []
        if not cases:
            # An unknown word (most foreign names) gets guessed cases: only an ending no
            # nominative has tells.
            if _OBLIQUE.search(word):
                return word
            continue
        singular = any(c == "nomn" and (n != "plur" or fixed) for c, n, fixed in cases)
        if singular:
            continue
        if any(c == "nomn" for c, _, _ in cases):
            plural += 1  # «Соединенные Штаты»: a plural name is fine when all of it is
            continue
        return word
    if plural and plural < len([w for w in parts if w.casefold() not in _PARTICLES]):
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


def outlet_or_byline(name: str, kind: str, text: str, outlets: set[str]) -> str:
    """Return why a fact is a source, a byline or a dateline rather than news, or ""."""
    key = flat(name).casefold()
    bare = _DOMAIN.sub("", key)
    if key in _AGENCIES or _DOMAIN.search(key) or key in outlets or bare in outlets:
        return "an outlet"
    if key in _OUTLETS:
        mentions = list(re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.I))
        if all(
            _CITES.search(text[max(0, m.start() - 60) : m.start()])
            or _CITED_AFTER.search(text[m.end() : m.end() + 20])
            or text[max(0, m.start() - 3) : m.start()].strip() in ("—", "–", "-", "(", "/")
            for m in mentions
        ):
            return "an outlet cited as the source"
    surname = name.split()[-1] if name.split() else name
    stem = re.escape(surname[: max(3, len(surname) - 2)])
    spots = [m.start() for m in re.finditer(rf"(?<!\w){stem}\w*", text)]
    if (
        spots
        and kind == "people"
        and all(_BYLINE_CUE.search(text[max(0, s - 70) : s]) for s in spots)
    ):
        return "a byline or credit"
    if kind == "places":
        caps = [m.start() for m in re.finditer(rf"(?<!\w){re.escape(name.upper())}(?!\w)", text)]
        other = re.findall(rf"(?<!\w){stem}\w*", text, re.I)
        if caps and len(caps) == len(other) and name.upper() != name:
            return "a dateline city"
    return ""


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


# --- dates ------------------------------------------------------------------------------

_RU_MONTHS = [
    "январ",
    "феврал",
    "март",
    "апрел",
    "ма",
    "июн",
    "июл",
    "август",
    "сентябр",
    "октябр",
    "ноябр",
    "декабр",
]
_EN_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


def _month_pattern(month: int) -> str:
    ru = _RU_MONTHS[month - 1]
    ru = r"ма[йяе]" if ru == "ма" else ru + r"[а-я]*"
    en = _EN_MONTHS[month - 1] + r"[a-z]*\.?"
    return rf"(?:{ru}|{en})"


def date_precision(label: str, when: date) -> str:
    """Return "exact" when the sentence gives the day of when's month, "vague" when it names
    the month without a day («в конце ноября», "mid-February", "in July"), else ""."""
    month = _month_pattern(when.month)
    text = flat(label)
    exact = re.search(
        rf"(?<!\d)\d{{1,2}}(?:st|nd|rd|th|-?го|-?е)?\s+(?:of\s+)?{month}(?![а-яa-z])"
        rf"|(?<![а-яa-z]){month}\s+\d{{1,2}}(?!\d)",
        text,
        re.I,
    )
    if exact:
        return "exact"
    if re.search(rf"(?<![а-яa-z]){month}(?![а-яa-z])", text, re.I):
        return "vague"
    return ""


def _shown_dates(rendered: str, label: str) -> list[str]:
    """Return the date printed before each place the label is shown in a rendered text."""
    head = flat(label)[:40]
    if not head:
        return []
    out = []
    for m in re.finditer(re.escape(head), rendered):
        before = rendered[max(0, m.start() - 40) : m.start()]
        out.append(before)
    return out


_DAY_SHOWN = re.compile(r"(?<!\d)\d{1,2}(?!\d)\s*[^\W\d_]{3,}\.?\s*(?:\d{4})?\s*[-—:]?\s*$")


def _plain(html: str) -> str:
    return flat(htmllib.unescape(re.sub(r"<[^>]+>", " ", html)))


def rendered_views(files: dict[str, bytes]) -> dict[str, str]:
    """Return the run's text, HTML and EPUB as flat plain text, by format."""
    views: dict[str, str] = {}
    if ".txt" in files:
        views["text"] = flat(files[".txt"].decode("utf-8"))
    if ".html" in files:
        views["html"] = _plain(files[".html"].decode("utf-8"))
    if ".epub" in files:
        with zipfile.ZipFile(BytesIO(files[".epub"])) as book:
            pages = [
                _plain(book.read(n).decode("utf-8"))
                for n in book.namelist()
                if n.endswith((".xhtml", ".html"))
            ]
        views["epub"] = " ".join(pages)
    return views


def _ics_day(block: str, key: str) -> date | None:
    m = re.search(rf"^{key}[^:]*:(\d{{4}})(\d{{2}})(\d{{2}})", block, re.M)
    return date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def _ics_days(ics: bytes) -> list[tuple[str, bool]]:
    """Return each calendar item's description and whether it is given a single day."""
    text = ics.decode("utf-8").replace("\r\n ", "").replace("\r\n\t", "")
    out = []
    for block in text.split("BEGIN:VEVENT")[1:]:
        start, end = _ics_day(block, "DTSTART"), _ics_day(block, "DTEND")
        one_day = start is not None and (end is None or (end - start).days <= 1)
        m = re.search(r"^DESCRIPTION:(.*)$", block, re.M)
        description = m.group(1) if m else ""
        description = description.replace("\\n", " ").replace("\\,", ",").replace("\\;", ";")
        out.append((flat(description), one_day))
    return out


def shown_exact(item: DatedItem, views: dict[str, str], ics: bytes | None) -> list[str]:
    """Return the formats that print a day of the month for the item."""
    bad = []
    for fmt, view in views.items():
        if any(_DAY_SHOWN.search(before) for before in _shown_dates(view, item.label)):
            bad.append(fmt)
    if ics:
        head = flat(item.label)[:30]
        for description, one_day in _ics_days(ics):
            if head and description.startswith(head) and one_day:
                bad.append("ics")
                break
    return bad


_PAST = re.compile(
    r"\b(?:прош[её]л|прошла|прошло|прошли|состоял[аиос]?[сь]?|завершил\w*|took place|was held"
    r"|were held|happened|ended|\w{3,}(?:лся|лась|лось|лись))\b",
    re.I,
)
_FUTURE = re.compile(
    r"\b(?:будет|будут|состоится|пройд[её]т|пройдут|начн[её]тся|планиру\w+|намечен\w*"
    r"|will|shall|scheduled|due to|is set to|are set to|upcoming|next)\b",
    re.I,
)


def _jaccard(a: str, b: str) -> float:
    wa, wb = set(words(a)), set(words(b))
    return len(wa & wb) / len(wa | wb) if wa | wb else 0.0


# --- not-news ------------------------------------------------------------------------------

NOT_NEWS = re.compile(
    r"гороскоп|horoscope|прогноз погоды|погода на (?:завтра|выходные|неделю|\d)|weather forecast"
    r"|лунный календарь|сонник|astrolog|астролог|рецепт|recipe|как (?:выбрать|сделать|приготовить"
    r"|правильно)|how to\b|скидк|распродаж|промокод|promo code|coupon|giveaway|розыгрыш|конкурс"
    r"|\bsudoku\b|crossword|кроссворд|best .* (?:for|to buy)|\bdeals?\b|\breview\b|обзор",
    re.I,
)


def is_not_news(summary: EventSummary, items: dict[str, CorpusItem]) -> bool:
    """Tell a not-news event: labelled not_news in the corpus, else by what its title says."""
    sources = [items[a.guid] for a in summary.event.articles if a.guid in items]
    labelled = [i.category for i in sources if i.category]
    if labelled:
        return labelled.count("not_news") * 2 > len(labelled)
    titles = " ".join([summary.headline, *(i.title for i in sources)])
    return bool(NOT_NEWS.search(titles))


# --- same story from two outlets -------------------------------------------------------------

_MIN_STEM = 5


def _stems(text: str) -> set[str]:
    return {w[:_MIN_STEM] for w in words(text) if len(w) > 3}


def same_story(a: CorpusItem, b: CorpusItem) -> bool:
    """Tell two articles of one story: titles sharing most content words, leads many."""
    ta, tb = _stems(a.title), _stems(b.title)
    if not ta or not tb:
        return False
    title = len(ta & tb) / min(len(ta), len(tb))
    la, lb = _stems(a.text[:600]), _stems(b.text[:600])
    lead = len(la & lb) / max(1, min(len(la), len(lb)))
    return (title >= 0.6 and lead >= 0.3) or (title >= 0.4 and lead >= 0.5)


# --- the audit -------------------------------------------------------------------------------

CLASSES = (
    ("boilerplate", "summary sentences", "datelines and boilerplate in summaries"),
    ("cut_sentences", "summary sentences", "sentences cut or altered"),
    ("facts_not_in_text", "facts shown", "facts the text does not say"),
    ("non_nominative", "Russian facts shown", "Russian names not in the nominative"),
    ("source_as_fact", "facts shown", "outlets, bylines and dateline cities as facts"),
    ("duplicate_facts", "facts shown", "facts naming an entity already listed"),
    ("coming_up", "Coming up items", "past or repeated Coming up items"),
    ("vague_as_exact", "vague dates shown", "vague dates shown as an exact day"),
    ("not_news_top5", "first five events", "not-news among the first five events"),
    ("one_source_covered", "events with one source", "one source shown, a second outlet had it"),
)


def audit(build: ReaderBuild, examples: int = 5) -> dict[str, ErrorClass]:
    """Return the digest's reader-visible errors, by class."""
    found = {name: ErrorClass(name, what) for name, what, _ in CLASSES}
    items = {i.guid: i for i in build.items}
    digest = build.digest
    views = rendered_views(build.files)
    ics = build.files.get(".ics")
    outlets = {i.outlet.casefold() for i in build.items} | {
        re.sub(r"\.(?:ru|com|net|org|рф)$", "", i.outlet.casefold()) for i in build.items
    }
    for summary in digest.events:
        sources = [items[a.guid] for a in summary.event.articles if a.guid in items]
        raw = {i.guid: paragraphs_of(i) for i in sources}
        guid_of = {a.url: a.guid for a in summary.event.articles}
        for s in summary.sentences:
            text = f"{s.text}  [{summary.headline}]"
            found["boilerplate"].add(bool(boilerplate(s.text)), f"{boilerplate(s.text)}: {text}")
            paragraphs = raw.get(guid_of.get(s.url, ""), [])
            why = cut_or_altered(s.text, paragraphs) if paragraphs else ""
            found["cut_sentences"].add(bool(why), f"{why}: {text}")
        _audit_facts(found, summary, sources, outlets)
        for item in summary.dates[:SHOWN_DATES]:
            _audit_vague(found["vague_as_exact"], item, views, None)  # ics: Coming up only
    _audit_coming_up(found, digest.coming_up, digest.generated_at.date(), views, ics)
    for summary in digest.events[:TOP]:
        found["not_news_top5"].add(is_not_news(summary, items), summary.headline)
    _audit_one_source(found["one_source_covered"], digest.events, items)
    for error in found.values():
        del error.examples[examples:]
    return found


def _audit_facts(
    found: dict[str, ErrorClass],
    summary: EventSummary,
    sources: Sequence[CorpusItem],
    outlets: set[str],
) -> None:
    text = TextWords(f"{i.title}\n{i.text}" for i in sources)
    facts: KeyFacts = summary.facts
    listed: list[tuple[str, str]] = []
    for kind, names in (
        ("people", facts.people),
        ("organisations", facts.organisations),
        ("places", facts.places),
    ):
        for name in names:
            where = f"{kind}: {name}  [{summary.headline}]"
            why = not_derivable(name, text)
            found["facts_not_in_text"].add(bool(why), f"{why}: {where}")
            if re.search(r"[А-ЯЁа-яё]", name):
                bad = non_nominative(name, kind)
                found["non_nominative"].add(bool(bad), f"{bad}: {where}")
            why = outlet_or_byline(name, kind, text.text, outlets)
            found["source_as_fact"].add(bool(why), f"{why}: {where}")
            twin = next((o for o, k in listed if same_entity(o, name, k == kind == "people")), "")
            found["duplicate_facts"].add(bool(twin), f"{twin} = {where}")
            listed.append((name, kind))


def _audit_vague(
    error: ErrorClass, item: DatedItem, views: dict[str, str], ics: bytes | None
) -> None:
    if date_precision(item.label, item.when) != "vague":
        return
    bad = shown_exact(item, views, ics)
    error.add(bool(bad), f"{item.when} in {', '.join(bad)}: {item.label}")


def _audit_coming_up(
    found: dict[str, ErrorClass],
    coming: Sequence[DatedItem],
    today: date,
    views: dict[str, str],
    ics: bytes | None,
) -> None:
    shown: list[DatedItem] = []
    for item in coming:
        why = ""
        years = [int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d\d)(?!\d)", item.label)]
        if item.when <= today:
            why = "not after the digest's date"
        elif years and item.when.year not in years and max(years) < today.year:
            why = f"the sentence is about {max(years)}"
        elif _PAST.search(item.label) and not _FUTURE.search(item.label):
            why = "the sentence tells of the past"
        else:
            twin = next(
                (
                    o
                    for o in shown
                    if flat(o.label).casefold() == flat(item.label).casefold()
                    or (o.when == item.when and _jaccard(o.label, item.label) >= 0.5)
                ),
                None,
            )
            why = f"repeats {twin.when}: {twin.label[:60]}" if twin else ""
        found["coming_up"].add(bool(why), f"{why}: {item.when} {item.label}")
        shown.append(item)
        _audit_vague(found["vague_as_exact"], item, views, ics)


def _audit_one_source(
    error: ErrorClass, events: Sequence[EventSummary], items: dict[str, CorpusItem]
) -> None:
    articles = [[items[a.guid] for a in e.event.articles if a.guid in items] for e in events]
    for n, summary in enumerate(events):
        if len(summary.event.sources) != 1:
            continue
        own = articles[n]
        hosts = {i.outlet for i in own}
        why = ""
        if len(hosts) > 1:
            why = f"{len(hosts)} outlets counted as one: {', '.join(sorted(hosts))}"
        else:
            for m, others in enumerate(articles):
                twin = next(
                    (
                        o
                        for o in others
                        if m != n and o.outlet not in hosts and any(same_story(a, o) for a in own)
                    ),
                    None,
                )
                if twin is not None:
                    why = f"also told by {twin.outlet}: {twin.title}"
                    break
        error.add(bool(why), f"{why}  [{summary.headline}]")


def print_lines(found: dict[str, ErrorClass]) -> Iterable[str]:
    """Yield the table of classes with their examples, for a person to read."""
    titles = {name: title for name, _, title in CLASSES}
    for error in found.values():
        yield (
            f"{error.name:<20} {error.count:>4} / {error.of:<5} {100 * error.rate:6.1f}%  "
            f"({titles[error.name]}; per {error.what})"
        )
        for example in error.examples:
            yield f"    - {flat(example)[:300]}"


Check = Callable[[str], str]
