"""Outlets named in a story: sources of its news, never key facts of it.

News agencies and outlets quoted in a text («сообщает ТАСС», "told Reuters") and the
event's own outlets are where the story comes from, not what it is about. (Which outlet
published an article, and so how many sources an event has, is `Article.outlet_key`.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Agencies and outlets that stories cite, as `_compact` writes them: agencies of the wire, the
# large Russian and English outlets, Russian spellings of foreign ones.
_KNOWN = frozenset(
    [
        "тасс",
        "итартасс",
        "риановости",
        "риа",
        "интерфакс",
        "interfax",
        "interfaxru",
        "прайм",
        "рбк",
        "rbc",
        "росбалт",
        "regnum",
        "регнум",
        "ураru",
        "уралинформбюро",
        "коммерсант",
        "коммерсантъ",
        "ведомости",
        "известия",
        "газетаru",
        "lentaru",
        "лентару",
        "медуза",
        "meduza",
        "новаягазета",
        "российскаягазета",
        "ргru",
        "комсомольскаяправда",
        "московскийкомсомолец",
        "мк",
        "аиф",
        "аргументыифакты",
        "фонтанка",
        "фонтанкару",
        "спортэкспресс",
        "sportsru",
        "lifenews",
        "лайф",
        "рентв",
        "нтв",
        "первыйканал",
        "россия24",
        "rt",
        "russiatoday",
        "эхомосквы",
        "говоритмосква",
        "baza",
        "mash",
        "reuters",
        "рейтер",
        "рейтерс",
        "afp",
        "франспресс",
        "агентствофранспресс",
        "ap",
        "associatedpress",
        "ассошиэйтедпресс",
        "bloomberg",
        "блумберг",
        "bbc",
        "bbcnews",
        "ббс",
        "bbcрусскаяслужба",
        "bbcnewsрусскаяслужба",
        "cnn",
        "сиэнэн",
        "cnbc",
        "foxnews",
        "nbc",
        "nbcnews",
        "abcnews",
        "cbs",
        "cbsnews",
        "skynews",
        "aljazeera",
        "альджазира",
        "dpa",
        "efe",
        "ansa",
        "xinhua",
        "синьхуа",
        "kyodo",
        "киодо",
        "yonhap",
        "ренхап",
        "upi",
        "theguardian",
        "guardian",
        "ньюйорктаймс",
        "thenewyorktimes",
        "newyorktimes",
        "nyt",
        "washingtonpost",
        "вашингтонпост",
        "thewashingtonpost",
        "wallstreetjournal",
        "wsj",
        "уоллстритджорнал",
        "financialtimes",
        "ft",
        "файненшлтаймс",
        "thetimes",
        "thetelegraph",
        "telegraph",
        "dailymail",
        "thesun",
        "theindependent",
        "independent",
        "politico",
        "axios",
        "usatoday",
        "tmz",
        "variety",
        "thehollywoodreporter",
        "hollywoodreporter",
        "deadline",
        "pagesix",
        "укринформ",
        "униан",
        "белта",
        "казинформ",
        "федералпресс",
        "фан",
        "ani",
        "pti",
        "ians",
        "rns",
        "итартасс",
        "theassociatedpress",
        "франспресс",
    ]
)
_DOMAIN = re.compile(
    r"\.(?:ru|com|net|org|biz|info|kz|ua|by|uz|news|tv|me|io|su|рф|co|run|online|site|pro"
    r"|club|live|media|press|am|ge|md|lv|lt|ee|uk|de|fr|it|es)\b",
    re.I,
)


def _compact(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold().replace("ё", "е"))


def is_outlet(name: str, outlets: Iterable[str] = ()) -> bool:
    """Tell whether a name found in a story names an outlet: an agency or outlet stories cite
    («ТАСС», «РИА Новости», "Reuters"), a site («Zakon.kz», «Газета.Ru»), or one of `outlets`
    (the event's own sources and their sites)."""
    key = _compact(name)
    if not key:
        return False
    if key in _KNOWN or _DOMAIN.search(name):
        return True
    return any(key == _compact(o) for o in outlets if len(_compact(o)) >= 2)
