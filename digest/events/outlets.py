"""Outlets: who published an article, told apart from what the article is about.

An event counts its sources by outlet: the item's own `<source>` (an aggregator names the
outlet of each item), else the site its link is on (one site's topic feeds are one outlet),
else the feed's name. News agencies and outlets quoted in a text («сообщает ТАСС», "told
Reuters") are sources too, never key facts of the story.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from digest.models import Article

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
    ]
)
_DOMAIN = re.compile(r"\.(?:ru|com|net|org|biz|info|kz|ua|by|uz|news|tv|me|io|su|рф|co)\b", re.I)


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


def site(url: str) -> str:
    """Return the host a URL is on, without "www.": "https://www.bbc.co.uk/x" -> "bbc.co.uk"."""
    host = (urlsplit(url).hostname or "").casefold()
    return host.removeprefix("www.").removeprefix("m.")


def outlet_key(article: Article) -> str:
    """Return what tells the article's outlet from others: its item's `<source>`, else the site
    its link is on, else its feed's name."""
    if article.outlet:
        return "source:" + _compact(article.outlet)
    return site(article.url) or "feed:" + article.source


def outlet_name(article: Article) -> str:
    """Return the outlet's name a reader sees: the item's `<source>`; the feed's name when the
    link is on the feed's own site (or has none); else the link's site ("reuters.com")."""
    if article.outlet:
        return article.outlet
    here = site(article.url)
    if not here or here == site(article.feed_url) or _shares_domain(here, article.feed_url):
        return article.source
    return here


def _shares_domain(host: str, feed_url: str) -> bool:
    """Tell "lenta.ru" and "rss.lenta.ru", "news.yandex.ru" and "yandex.ru" apart from others."""
    feed = site(feed_url)
    if not feed:
        return False
    return host.endswith("." + feed) or feed.endswith("." + host)
