"""Photo credits and captions: lines a reader should never meet in a summary or key facts.

"Фото в анонсе: Александр Неменов / AFP / Scanpix / LETA" would make a person and two
organisations; «Вертолет тушит лесной пожар в Красноярском крае. 4 августа 2019 года» would
open a summary. Fetching drops them from stored text; summaries and facts check again, so
text stored before the rules, or given to `digest eval`, is read the same way.
"""

from __future__ import annotations

import re

_PHOTO_LINE = re.compile(
    r"^(?:(?:Photo|Photograph|Image|Picture|Illustration|Video|Фото|Фотография|Иллюстрация|Credit)"
    r"s?\s*(?::|by\b)|Courtesy\b|Getty Images|AP Photo|Reuters/"
    # «Фото в анонсе: …», «Фото на обложке: …», «Источник фото: …», «Фото предоставлено …»
    r"|(?:Фото|Фотография|Иллюстрация|Видео)\s+(?:в\s+анонсе|на\s+обложке|на\s+главной|из\s+"
    r"открытых\s+источников|предоставлено)|Источник\s+(?:фото|изображения)|Автор\s+фото)",
    re.I,
)
# An inline credit: "(AP Photo/Evan Vucci)", "(Фото: РИА Новости)", "(Photo: Reuters)".
_INLINE_CREDIT = re.compile(
    r"\s*\((?:[A-Z]{2,}\s+)?(?:Photos?|Фото|Image|Picture)\b\s*[:/][^()]{1,80}\)", re.I
)
# A caption ends in a bare date: «… в Красноярском крае. 4 августа 2019 года», "…, Aug. 4, 2019".
_MONTHS = (
    r"(?:января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря"
    r"|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
)
_CAPTION_DATE = re.compile(
    rf"(?:^|[.,;]\s+)(?:\d{{1,2}}\s+{_MONTHS}\s+\d{{4}}(?:\s+(?:года|г\.?))?"
    rf"|{_MONTHS}\s+\d{{1,2}},\s+\d{{4}})\.?$"
)
# A picture described: «На фото: …», "Pictured: …", "In this photo …".
_CAPTION_START = re.compile(
    r"^(?:На\s+(?:фото|снимке)|Pictured\b|In\s+this\s+(?:photo|image))", re.I
)
CAPTION_CHARS = 200  # a caption is one short line
CREDIT_LINE_CHARS = 400  # "Фото в анонсе: Александр Неменов / AFP / Scanpix / LETA" is ~60


def is_credit_or_caption(paragraph: str, leading: bool = True) -> bool:
    """Tell a photo credit, or a caption in the lines before the lead, from the story."""
    paragraph = paragraph.replace("\xa0", " ").strip()
    if paragraph.startswith("©") or _PHOTO_LINE.match(paragraph):
        # A story may open with its photo's credit («Фото предоставлено пресс-службой…
        # В день рождения…»): a paragraph that long is the story, whose credit strip_wire cuts.
        return len(paragraph) < CREDIT_LINE_CHARS
    short = leading and len(paragraph) < CAPTION_CHARS
    return short and bool(_CAPTION_START.match(paragraph) or _CAPTION_DATE.search(paragraph))


def strip_inline_credits(paragraph: str) -> str:
    """Return the paragraph without inline credits such as "(AP Photo/Evan Vucci)"."""
    return _INLINE_CREDIT.sub("", paragraph) if "(" in paragraph else paragraph
