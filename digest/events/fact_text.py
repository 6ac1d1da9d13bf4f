"""The part of an article's text that key facts may be read from.

Fetching cleans agency text once, but facts are quoted as the story's own, so they do not
trust what is left of the wire around it: a dateline's city («МОСКВА, 17 ноя — РИА Новости»,
"NEW YORK (Reuters) -") is where the agency sits, a byline («Автор: Мария Федорова»,
"Reporting by Jeff Mason; Editing by Peter Cooney") names a journalist, and a related-link
tail («Читайте также: …») names the people of other stories. Words glued together by a lost
line break («ЧерняковаФото», «ГерманииТони») are parted by one, so no name swallows its
neighbour; soft hyphens go.
"""

from __future__ import annotations

import re

# A dateline: a city in capitals opening a paragraph, before a comma, a bracketed agency or
# a dash. One capitalised word alone ("Reuters - ") is left to the outlet rule.
_DATELINE = re.compile(
    r"^[ \t\xa0]*(?=[A-ZА-ЯЁ'’.\-]{4}|[A-ZА-ЯЁ]+[ \t\xa0]+[A-ZА-ЯЁ]{2})[A-ZА-ЯЁ][A-ZА-ЯЁ'’.\-]+(?:[ \t\xa0]+[A-ZА-ЯЁ][A-ZА-ЯЁ'’.\-]+){0,3}"
    r"(?=[ \t\xa0]*(?:,[ \t\xa0]*(?:\d|[A-ZА-ЯЁ]?[a-zа-яё]{2,}\.?[ \t\xa0]+\d)|\(|/|[—–-][ \t\xa0]))",
    re.M,
)
# A byline or credit line: the label, then the names up to the end of the clause.
_BYLINE = re.compile(
    r"(?:^|(?<=[\s.;:,(]))(?:"
    r"(?:Additional\s+|Compiled\s+|Writing\s+|Editing\s+|Reporting\s+|Written\s+|Edited\s+"
    r"|Photos?\s+|Text\s+|Words\s+)by"
    r"|(?<![\w-])By(?=\s+[A-Z][\w’'\-]+\s+[A-Z])"
    r"|(?:Автор(?:ы)?|Текст|Фото(?:граф)?|Редактор|Корреспондент|Подготовил(?:а|и)?|Источник)"
    r"(?:[ \t\xa0]+(?:фото|текста|материала))?[ \t\xa0]*[:—–-]"
    r")[ \t\xa0]*(?:[^\n.;!?()]{0,80})",
)
# Links to other stories and calls to follow the outlet: what follows is not this story.
_TAIL = re.compile(
    r"(?:Читайте|Читать|Смотрите)[ \t\xa0]+(?:также|еще|ещё|нас)\b|Подписывайтесь\b"
    r"|(?:Новости|Материалы)[ \t\xa0]+по[ \t\xa0]+теме\b|Больше[ \t\xa0]+новостей\b"
    r"|\b(?:Read|See)[ \t\xa0]+(?:more|also)\b|\bRelated(?:[ \t\xa0]+(?:stories|articles))?:"
    r"|\bSubscribe[ \t\xa0]+to\b|\bFollow[ \t\xa0]+us\b",
)
# A dateline inside a paragraph whose line breaks were lost: ". PARIS/LONDON/FRANKFURT: …".
_INNER_DATELINE = re.compile(
    r"(?<=[.!?»”\"][ \t\xa0])[A-ZА-ЯЁ]{3,}(?:[ \t\xa0]+[A-ZА-ЯЁ]{2,})*"
    r"(?:(?:/[A-ZА-ЯЁ]{3,}(?:[ \t\xa0]+[A-ZА-ЯЁ]{2,})*)+(?=[ \t\xa0]*:)"
    r"|(?=[ \t\xa0]*\((?:Reuters|AP|AFP|Рейтер)\)))"
)
# A related-link tail near the end runs to the end; one in the middle is one headline,
# unless more cut headlines follow it («… стал стакан… Пригожин: Валерия не могла…»).
TAIL_SHARE = 0.7
LINK_LIST_WINDOW = 400
_SENTENCE_END = re.compile(r"[.!?…](?=\s|$)|\n")
# Four lower-case letters, then a capital: «ЧерняковаФото»; brands such as «МегаФон» and
# «ЛитРес» have shorter runs.
_GLUED = re.compile(r"(?<=[а-яё]{4})(?=[А-ЯЁ][а-яё])")


def fact_text(text: str) -> str:
    """Return the text without datelines, bylines and related-link tails, glued words parted."""
    text = _GLUED.sub("\n", text.replace("\xad", ""))  # a soft hyphen splits «Са­велием»
    text = _INNER_DATELINE.sub("", _DATELINE.sub("", text))
    text = _BYLINE.sub(" ", text)
    return _without_tails(text)


# The words every tail above starts with: a text naming none has no tail, and looking for
# them with str.find is a small fraction of running the pattern at every position.
_TAIL_WORDS = (
    "Читайте", "Читать", "Смотрите", "Подписывайтесь", "Новости", "Материалы", "Больше",
    "Read", "See", "Related", "Subscribe", "Follow",
)  # fmt: skip


def _without_tails(text: str) -> str:
    if not any(word in text for word in _TAIL_WORDS):
        return text
    out: list[str] = []
    start = 0
    for m in _TAIL.finditer(text):
        if m.start() < start:
            continue
        out.append(text[start : m.start()])
        window = text[m.end() : m.end() + LINK_LIST_WINDOW]
        if m.start() >= TAIL_SHARE * len(text) or window.count("…") + window.count("...") >= 2:
            return "".join(out)
        end = _SENTENCE_END.search(text, m.end())
        start = end.end() if end else len(text)
    out.append(text[start:])
    return "".join(out)
