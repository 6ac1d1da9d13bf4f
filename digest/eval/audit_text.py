"""What a reader is shown of the text, checked against the raw article: boilerplate and datelines
in summaries, sentences cut or altered (`digest eval reader`, docs/evaluation.md).

Written apart from digest.text: a rule that audits itself with the code it audits finds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from digest.eval.reader import CorpusItem

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


# Two words a crawl glued together («поэтаЦыпил»): the digest may show them apart.
_GLUED_PAIR = re.compile(r"(?<=[а-яё])(?=[А-ЯЁ][а-яё])")


def _locate(shown: str, paragraphs: Sequence[str]) -> tuple[str, int] | None:
    """Return the paragraph holding the shown sentence, and where, allowing for the credits
    in brackets and the glued words that cleaning may have parted."""
    found = _find_in(shown, paragraphs)
    if found is None and "(" in "".join(paragraphs):
        # A credit in brackets may go from inside a sentence: "(Image credit: Microsoft)".
        found = _find_in(shown, [flat(_BRACKETED_CREDIT.sub(" ", p)) for p in paragraphs])
    if found is None and _GLUED_PAIR.search("".join(paragraphs)):
        found = _find_in(shown, [_GLUED_PAIR.sub(" ", p) for p in paragraphs])
    return found


_QUOTE_PAIRS = (("«", "»"), ("“", "”"))


def _quote_left_open(shown: str, paragraph: str) -> bool:
    """Tell a sentence whose quote opens or closes outside it, in a paragraph whose quotes pair
    (a quote inside a quote, „…“, set aside: its “ closes it); straight quotes by their number."""
    shown, paragraph = (re.sub(r"„[^„“”]*[“”]", "", t) for t in (shown, paragraph))
    if shown.count('"') % 2 and paragraph.count('"') % 2 == 0:
        return True
    return any(
        shown.count(a) != shown.count(b) and paragraph.count(a) == paragraph.count(b)
        for a, b in _QUOTE_PAIRS
    )


def cut_or_altered(sentence: str, paragraphs: Sequence[str]) -> str:
    """Return why the quoted sentence is not a whole sentence of its article, or ""."""
    shown = flat(sentence)
    if not shown:
        return ""
    found = _locate(shown, paragraphs)
    if found is None:
        if shown.endswith("…") and _find_in(shown[:-1].rstrip(), paragraphs):
            return "cut (ellipsis)"
        return "altered: not in the article"
    paragraph, at = found
    if _quote_left_open(shown, paragraph):
        return "cut: a quote left open"
    before, after = paragraph[:at].rstrip(), paragraph[at + len(shown) :].lstrip()
    return _cut_at_start(shown, before) or _cut_at_end(shown, after)


def _cut_at_start(shown: str, before: str) -> str:
    """Return why the sentence starts inside a sentence of its paragraph, or ""."""
    first = shown[0]
    if first in ",;:)]" or (first.islower() and before and not before.endswith(_TERMINAL)):
        return "cut: starts mid-sentence"
    if not before:
        return ""
    last_word = before.split()[-1].lstrip('(«"').casefold()
    if re.fullmatch(r"(?:[a-zа-яё]\.)+", last_word) and before.split()[-1][0].isupper():
        return "cut: starts after an initial"
    if last_word.endswith(".") and _abbreviation_runs_on(last_word[:-1], shown):
        return "cut: starts after an abbreviation"
    # (A capital after raw text that runs on is not counted: a dateline, a counter or a
    # credit was removed there, «прочитано 3454 раза Рита Дакота…».)
    return ""


def _cut_at_end(shown: str, after: str) -> str:
    """Return why the sentence ends before its sentence of the paragraph does, or ""."""
    if not after:
        return ""
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
