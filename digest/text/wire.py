"""Agency and site furniture in article text: datelines, credits, counters, promotion tails.

Real feeds carry the wire's dateline on the lead («МОСКВА, 17 ноя — РИА Новости.», "NEW
YORK (Reuters) -"), a site's view counter and timestamps before it («прочитано 3454 раза»,
«Вчера, 19:11»), credits and bylines in it ("Reporting by …", «Автор: …», «Фото: …») and
related links or promotions after it («Читайте также», "Subscribe to our newsletter"). A
summary that quotes them, or key facts that read them as names, lose the reader. Fetch
removes them before storing; summaries and facts remove them again from text stored before,
so the same rules hold whatever was stored. Every rule keeps the rest of its paragraph: a
credit or a tail is cut out, the story around it stays.

Hand-written: no library knows these site conventions. Every rule is anchored (the start
of a paragraph, or a marker word) and is tried only when a cheap test says it may apply.
"""

from __future__ import annotations

import re

_RU_MONTH = (
    r"(?:январ[яь]|феврал[яь]|марта?|апрел[яь]|ма[яй]|июн[яь]|июл[яь]|августа?|сентябр[яь]"
    r"|октябр[яь]|ноябр[яь]|декабр[яь]|янв|фев|мар|апр|авг|сен|сент|окт|ноя|нояб|дек)\.?"
)
_EN_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_RU_DATE = rf"\d{{1,2}}\s+{_RU_MONTH}(?:\s+\d{{4}}(?:\s*(?:г\.|года))?)?"
# A news agency as a dateline names it: «РИА Новости», «РИА Томск», «/ТАСС/», «INTERFAX.RU».
_AGENCY = (
    r"(?:/[^/\n]{2,25}/|РИА\s+«?[А-ЯЁA-Z][\w-]*»?|ИТАР-ТАСС|ТАСС|Интерфакс(?:-[А-ЯЁ][\w-]*)?"
    r"|INTERFAX\.RU|ФедералПресс|РИАМО|ИА\s+«?[А-ЯЁA-Z][\w-]*»?|Прайм|БелТА|УНИАН|Sputnik"
    r"|[A-ZА-ЯЁ][\w-]*\.(?:ru|RU|ру))"
)
_CITY = r"[А-ЯЁA-Z][А-ЯЁа-яёA-Za-z-]+(?:[ -][А-ЯЁA-Z][А-ЯЁа-яёA-Za-z-]+){0,2}"
_CAPS_CITY = r"[А-ЯЁA-Z][А-ЯЁA-Z-]+(?:[ -][А-ЯЁA-Z][А-ЯЁA-Z-]+){0,2}"
_DASH = r"[—–-]{1,2}"
_EN_CAPS_CITY = r"[A-Z][A-Z.'-]+(?:\s+[A-Z][A-Z.'-]+){0,3}"
_EN_REGION = r"(?:,\s+[A-Z][A-Za-z.]+(?:\s+[A-Z][A-Za-z.]+)?)?"
_LEADS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        # «МОСКВА, 17 ноя — РИА Новости.», «КРАСНОЯРСК, 10 августа. /ТАСС/.», «Москва. 30
        # апреля. INTERFAX.RU -», «МОСКВА, 13 ноября, ФедералПресс.»
        rf"^{_CITY}\s*[,.]\s*{_RU_DATE}\s*[.,]?\s*(?:{_DASH}\s*)?{_AGENCY}\s*\.?\s*(?:{_DASH}\s+)?",
        # «ТАСС, 10 августа.», «РИАМО - 15 ноя.»
        rf"^{_AGENCY}\s*(?:,|{_DASH})\s*{_RU_DATE}\s*\.\s*",
        # «МОСКВА, 8 августа.» without an agency: the capitals make it a dateline
        rf"^{_CAPS_CITY}\s*,\s*{_RU_DATE}\s*[.,]\s*(?:{_DASH}\s+)?",
        # «INTERFAX.RU -», «ТАСС:»
        rf"^{_AGENCY}\s*(?:{_DASH}|:)\s+",
        # "NEW YORK (Reuters) -", "BATON ROUGE, La. (AP) -", "(Reuters) -", "(CHICAGO) —",
        # "KUALA LUMPUR (Nov 11):", "COLOMBO ( The Island / ANN ) -"
        rf"^(?:{_EN_CAPS_CITY}{_EN_REGION}\s*)?\(\s*[A-Za-z][\w .&/-]{{0,30}}\)\s*(?:{_DASH}|:)\s*",
        # "GENEVA, Nov 1 —", "PARIS, Nov 1 —"
        rf"^{_EN_CAPS_CITY}{_EN_REGION},?\s+{_EN_MONTH}\s+\d{{1,2}}\s*{_DASH}\s*",
        # "SMITHS FALLS, Ont. --", "TOKYO:", "NEW DELHI:"
        rf"^{_EN_CAPS_CITY}{_EN_REGION}\s*(?:{_DASH}|:)\s+(?=[A-Z\"“‘'])",
    )
)
# The first paragraph only: "London - Frank Lampard …", "Fallujah, Iraq - Qutaiba has …"
_FIRST_LEAD = re.compile(
    r"^[A-Z][a-z]+(?:[ -][A-Z][a-z]+)?(?:,\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)?\s+[—–-]\s+(?=[A-Z])"
)
# A photo's caption glued to the lead, ending in the bare date the picture was taken:
# «Вертолет тушит лесной пожар в Красноярском крае. 4 августа 2019 года Обширные пожары…»
# (a story's own sentence never starts with a day, month and year run into a capitalised
# word with no comma).
_GLUED_CAPTION = re.compile(
    rf"^[^.!?]{{10,150}}[.!?]\s+\d{{1,2}}\s+{_RU_MONTH}\s+\d{{4}}(?:\s*(?:г\.|года))?\s+"
    r"(?=[А-ЯЁ][а-яё]+\s+[а-яё])"
    rf"|^[^.!?]{{10,150}}[.!?]\s+(?:{_EN_MONTH}\s+\d{{1,2}},\s+\d{{4}})\s+(?=[A-Z][a-z]+\s+[a-z])"
)
# A site's furniture before the lead: view and share counters, timestamps, reward notes.
_FURNITURE = re.compile(
    r"^(?:прочитано\s+\d+\s+раза?\s*"
    r"|(?:\d{1,6}k?\s+){3,}"
    r"|(?:(?:Вчера|Сегодня|Yesterday|Today),?\s+(?:в\s+)?\d{1,2}:\d{2}\s*)+"
    r"|\d{1,2}:\d{2}\s+\d{1,2}\.\d{1,2}\.\d{2,4}\s*"
    r"|Loading\.\.\.\s*"
    r"|Credit:\s+\S+\s+Read\s+Time:\s*"
    r"|Начислено вознаграждение\s*"
    r"|Эта новость написана посетителем сайта,?\s+и\s+за\s+неё\s+начислено\s+вознаграждение\.\s*)",
    re.I,
)
# The marker words, small letters, looked for with str.find: a regular expression tried
# at every position of a long paragraph cost milliseconds per article (a scan of the text
# for these words is microseconds); the marker's own pattern is matched only where one is.
_CREDIT_KEYS = (
    "фото", "автор", "источник", "иллюстрац", "credit", "photo", "source", "via", "image",
    "reporting by", "editing by", "writing by", "©",
)  # fmt: skip
# A credit: the marker, then who is credited up to where the story resumes.
_CREDIT_MARK = re.compile(
    r"(?:Фото\s+предоставлено|Фото\s+из\s+открытых\s+источников|Фото\s+в\s+анонсе\s*:"
    r"|(?:©\s*)?(?:Фото|Фотограф|Автор|Авторы|Источник|Иллюстрация|Credit|Photo|Photos"
    r"|Source|Via|Image)\s*(?::|—|–)"
    r"|(?:Additional\s+)?[Rr]eporting\s+by|[Ee]diting\s+by|[Ww]riting\s+by)"
)
_TAIL_KEYS = (
    "читайте", "смотрите также", "подписывайтесь", "подпишитесь", "интересно?", "жми,",
    "интересуешься", "самое важное", "whatsapp", "ты свидетель", "в избранные", "написать автору",
    "по материалам", "read more", "subscribe to", "sign up", "ftc:", "more from", "see more",
    "buy the next", "we may", "follow", "___", "this article", "this story", "this report",
    "добавить", "наш ", "выделите", "нашли ошибку", "нашли опечатку", "ctrl+enter",
)  # fmt: skip
# Related links and promotions: everything from the marker on is the site's, not the story's.
_TAIL_MARK = re.compile(
    r"(?:Читайте\s+(?:также|нас)|Смотрите\s+также|Подписывайтесь|Подпишитесь\s+на"
    r"|Интересно\?\s*Жми|Жми,\s+чтобы|Интересуешься\s+этой\s+темой|Самое\s+важное\s+в\s+Telegram"
    r"|Наш\s+WhatsApp|Ты\s+свидетель|Добавить\s+\S+\s+в\s+избранные\s+источники"
    r"|Написать\s+автору|Выделите\s+(?:фрагмент|текст|её|ее|ошибку)|(?:Если\s+вы\s+)?[Нн]ашли\s+"
    r"(?:ошибку|опечатку)|(?:Select|Highlight)\s+the\s+text\s+and\s+press\s+Ctrl\+Enter"
    r"|По\s+материалам(?:\s*:|\s+(?=[A-ZА-ЯЁ«\"]|www|http|сайта))"
    r"|Read\s+more\b|Subscribe\s+to\s+(?:our|the)\b|Sign\s+up\s+for\b|Sign\s+up\s+to\b"
    r"|FTC:\s+We\s+use|More\s+from\s+[A-Z][\w ]{0,40}:|See\s+more\s+[A-Z]|Buy\s+the\s+next\s+issue"
    r"|We\s+may\s+(?:get|earn|receive)\s+a\s+(?:small\s+)?(?:commission|portion)"
    r"|Follow\s+(?:us|[A-Z]\w+\s+[A-Z]\w+\s+on\s+Twitter)|_{3,}"
    r"|This\s+(?:article|story|report)\s+(?:was\s+originally|by\s+[A-Z][\w ]{2,40}\s+was\s+first)"
    r"\s+published)",
    re.I,
)
# Where a marker may stand: at the start, after a space, or glued after a sentence's end.
_BEFORE_MARK = frozenset(' .!?…»"”)\n\xa0')
# A related link told inline: «Читайте также: iOS 13.2.2 вышла… жалуются Во второй бета-версии»
_INLINE_RELATED = re.compile(r"(?:Читайте|Смотрите)\s+также\s*:?\s*")
_OWN_KEYS = (
    "contributed to this", "more to follow", "note: material", "for further information",
    "tell us what", "additional reporting", "(reporting by", "(editing by", "(writing by",
    "(compiled by", "(additional reporting",
)  # fmt: skip
# Sentences of a wire's or site's own: "Dylan Roussel contributed to this article.", "More to
# follow.", "Note: material may have been edited for length and content."
_OWN_SENTENCE = re.compile(
    r"(?:^|(?<=[.!?…»\"”]\s))(?:[^.!?]{0,80}\bcontributed\s+to\s+this\s+(?:report|article|story)\."
    r"|More\s+to\s+follow\.|Note:\s+material\s+may\s+have\s+been\s+edited[^.]*\."
    r"|For\s+further\s+information,\s+please\s+contact\s+the\s+cited\s+source\."
    r"|Tell\s+us\s+what\s+you\s+think[^.]*$|Additional\s+reporting\s+(?:by\s+)?[A-Z][\w ,]{0,60}$"
    r"|\((?:Additional\s+)?(?:[Rr]eporting|[Ee]diting|[Ww]riting|[Cc]ompiled)\s+by[^()]{0,200}\))",
)
# "— AFP", "— Reuters" closing a wire story.
_SIGN_OFF = re.compile(r"\s*(?:—|–|-{1,2})\s*(?:AFP|Reuters|AP|Bernama|ANI|PTI|IANS|dpa)\s*$")
# "CLICK HERE TO GET THE FOX NEWS APP": shouted up to the story's next capitalised word.
_SHOUTED_PROMO = re.compile(r"\s*CLICK HERE\b[A-Z0-9 .,'’&:-]*?(?=\s+[A-Z][a-z]|$)")
_HASHTAGS = re.compile(r"\s*#[^\W_][^#]{0,60}(?:#[^\W_][^#]{0,60})+$")
_STORY_START = re.compile(r"[А-ЯЁA-Z](?:[а-яёa-z]|$)")
_ENDS_SENTENCE = re.compile(r"[.!?]\s+[«\"“A-ZА-ЯЁ]")
_SHORT_TAIL = 150  # after a tail marker, this much is the promotion's own sentence at most
# A capitalised word ending so is a name's genitive («Народного Хурала»), not a new sentence.
_GENITIVE = re.compile(r"(?:ого|его|ой|ей|ых|их|ского|цкого)$")
_AGENCY_HEADS = frozenset(("РИА", "ИА", "ИД", "ТК", "ТРК", "ГТРК"))  # «РИА Новости»
# Two Russian words a crawl glued together, a small letter run into a capital: «поэтаЦыпил»,
# «вознаграждениеЭта», «ЧерняковаФото». A brand written in camel case starts with a capital
# and a short stem («МегаФон», «ТрансКонтейнер», «СтройГаз»): a capitalised word is split
# only after a stem of seven letters, a name's case form, never a brand's prefix.
_GLUED_WORDS = re.compile(r"(?<![А-ЯЁа-яёA-Za-z])(?:[а-яё]{3,}|[А-ЯЁ][а-яё]{6,})(?=[А-ЯЁ][а-яё])")
_SMALL_THEN_CAPITAL = re.compile(r"[а-яё][А-ЯЁ]")
# A site's menu words left in the text, sometimes glued: «Популярныеновости Российская…».
_MENU = re.compile(
    r"(?:^|(?<=[.!?…»]\s))(?:Популярные|Главные|Последние|Горячие|Похожие|Другие|Лента)\s*"
    r"(?:новости|материалы|статьи)(?:\s*:)?(?:\s+|$)(?=[А-ЯЁA-Z«\"]|$)"
)
# A caption's name glued to the lead: «Георгий Кушиташвили В Самаре стартовал…». A word a
# sentence opens with (a preposition, a pronoun, a conjunction) is capitalised only there: after
# a run of capitalised words with no punctuation it starts the story, and the run was a caption.
_CAPTION_NAME = re.compile(
    r"^[А-ЯЁ][а-яё]+(?:[ -][А-ЯЁ][а-яё]+){1,2}\s+(?=(?:В|Во|На|С|Со|По|К|Ко|У|О|Об|За|Из|Для"
    r"|После|Перед|При|До|От|Как|Это|Этот|Эта|Он|Она|Они|Мы|Я|А|И|Но|Не|Накануне|Сегодня|Вчера)"
    r"\s+[а-яёА-ЯЁ«\d])"
)
_RELATED_LIST = "… "  # a run of cut headlines: «…стал стакан… Пригожин: …»
_MAX_CREDIT_WORDS = 8


def strip_wire(paragraph: str, first: bool = False) -> str:
    """Return the paragraph without datelines, credits, counters and promotion tails.

    `first` says the paragraph opens the text, where a mixed-case dateline ("London -")
    is told from a sentence only by its place.
    """
    text = _strip_leads(paragraph.strip(), first)
    if _SMALL_THEN_CAPITAL.search(text):
        text = _split_glued(text)
    if "овости" in text or "атериал" in text or "татьи" in text:
        text = _MENU.sub("", text)
    lower = text.lower()
    if any(key in lower for key in _OWN_KEYS):
        text = _OWN_SENTENCE.sub("", text)
        lower = text.lower()
    if any(key in lower for key in _CREDIT_KEYS):
        text = _strip_credits(text)
        lower = text.lower()
    if any(key in lower for key in _TAIL_KEYS):
        text = _strip_tail(text)
        if any(key in text.lower() for key in _OWN_KEYS):
            text = _OWN_SENTENCE.sub("", text)
    if "CLICK" in text:
        text = _SHOUTED_PROMO.sub("", text)
    if "#" in text:
        text = _HASHTAGS.sub("", text)
    if text.endswith(("AFP", "Reuters", "AP", "Bernama", "ANI", "PTI", "IANS", "dpa")):
        text = _SIGN_OFF.sub("", text)
    return " ".join(text.split()) if text != paragraph else paragraph


def _strip_leads(text: str, first: bool) -> str:
    # Repeated: «Вчера, 19:11 Вчера, 19:11 …», a counter before a dateline.
    for _ in range(4):
        before = text
        m = _FURNITURE.match(text)
        if m and m.end():
            text = text[m.end() :].lstrip()
        for lead in _LEADS:
            m = lead.match(text)
            if m and len(text) > m.end():
                text = text[m.end() :].lstrip()
                break
        if first:
            m = _FIRST_LEAD.match(text) or _GLUED_CAPTION.match(text) or _CAPTION_NAME.match(text)
            if m and len(text) > m.end() + 40:
                text = text[m.end() :]
        if text == before:
            break
    return text


def _split_glued(text: str) -> str:
    """Return the text with a space where a crawl glued two words («поэтаЦыпил»)."""
    return _GLUED_WORDS.sub(lambda m: m.group(0) + " ", text)


def _credit_end(rest: str) -> int:
    """Return where a credit that starts `rest` ends: where the story resumes, else 0."""
    spans = [w.span() for w in re.finditer(r"\S+", rest)]
    words = [rest[a:b] for a, b in spans]
    for i, prev in enumerate(words[: _MAX_CREDIT_WORDS + 1]):
        if i and prev.endswith((".", "!", "?")) and not _initial(prev):
            return spans[i][1]  # «Фото: ФедералПресс / Андрей Гусий.»
        if i + 1 >= len(words):
            return len(rest)  # the credit closes the paragraph
        after = words[i + 2] if i + 2 < len(words) else ""
        if _story_resumes(prev, words[i + 1], after):
            return spans[i + 1][0]
    if len(words) <= 12 and not _ENDS_SENTENCE.search(rest):
        return len(rest)  # «Источник: РИА Новости пожизненное убийство»: tags to the end
    return 0


def _story_resumes(prev: str, nxt: str, after: str) -> bool:
    """Tell whether the story resumes at `nxt`, the word after `prev` in a credit.

    It resumes at a capitalised word that opens a clause (a small-letter word `after` it)
    after an acronym, a web address, a glued "A/B", a number or a closing quote («РБ В
    день», «МИФ/ВКонтакте Распродавать», «pixabay.com0 Резонансное»), or after a
    small-letter word when the capitalised word is not a name's genitive («…области Кроме
    того», "App store If you've").
    """
    if not _STORY_START.match(nxt) or _initial(nxt):
        return False
    if not (after[:1].islower() and prev not in _AGENCY_HEADS):
        return False
    strong = (
        (len(prev) > 1 and prev.isupper())
        or "/" in prev[1:]
        or "." in prev[1:-1]
        or prev[-1] in '»"”0123456789'
    )
    return strong or (prev[-1].islower() and not _GENITIVE.search(nxt))


def _initial(word: str) -> bool:
    return bool(re.fullmatch(r"(?:[А-ЯЁA-Z]\.){1,3}", word))


def _marks(
    text: str, pattern: re.Pattern[str], keys: tuple[str, ...], start: int = 0
) -> list[re.Match[str]]:
    """Return the pattern's matches that start where a marker word is, in text order."""
    lower = text.lower()
    if len(lower) != len(text):  # a letter whose small form is longer: look everywhere
        spots: set[int] = set(range(start, len(text)))
    else:
        spots = set()
        for key in keys:
            at = lower.find(key, start)
            while at >= 0:
                spots.add(at)
                at = lower.find(key, at + 1)
    found = []
    for at in sorted(spots):
        if at and text[at - 1] not in _BEFORE_MARK:
            continue
        m = pattern.match(text, at)
        if m is not None:
            found.append(m)
    return found


def _strip_credits(text: str) -> str:
    out, start = [], 0
    for m in _marks(text, _CREDIT_MARK, _CREDIT_KEYS):
        if m.start() < start:
            continue
        rest = text[m.end() :]
        end = _credit_end(rest)
        if not end:
            continue
        out.append(text[start : m.start()])
        start = m.end() + end
    out.append(text[start:])
    # Inline parenthesised credits: "(Image credit: Microsoft)", "(Photo: Reuters)".
    return re.sub(r"\s*\((?:Image|Photo|Picture)\s+credit\s*:[^()]{1,80}\)", "", "".join(out))


def _next_tail(text: str, start: int) -> re.Match[str] | None:
    found = _marks(text, _TAIL_MARK, _TAIL_KEYS, start)
    return found[0] if found else None


def _strip_tail(text: str) -> str:
    m = _next_tail(text, 0)
    while m is not None:
        rest = text[m.end() :]
        related = _INLINE_RELATED.match(text, m.start())
        end = _ENDS_SENTENCE.search(rest)
        if end is None or len(rest) <= _SHORT_TAIL or rest[:300].count(_RELATED_LIST) >= 2:
            return text[: m.start()].rstrip()
        if related is None and end.start() < _SHORT_TAIL:
            # A promotion sentence inside the story: only it goes.
            text = text[: m.start()].rstrip() + " " + rest[end.start() + 1 :].lstrip()
            m = _next_tail(text, m.start() + 1)
            continue
        if related is not None:
            # The linked headline runs until the story resumes: a capitalised word after
            # a small-letter word or a number, with no full stop between.
            resume = re.search(r"[а-яёa-z0-9»\"]\s+(?=[А-ЯЁA-Z][а-яёa-z])", text[related.end() :])
            if resume is not None:
                cut = related.end() + resume.end()
                text = text[: m.start()].rstrip() + " " + text[cut:]
                m = _next_tail(text, m.start() + 1)
                continue
        m = _next_tail(text, m.end())
    return text
