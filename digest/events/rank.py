"""News first: which events are news, and how important each is.

A subscriber keeps reading a digest that opens with what matters: a story told by several
outlets, about named people and places, new since the last digest. Horoscopes, weather
forecasts, adverts, contests, promotions and how-to pages are not news however fresh; a
digest lists them last, drops them or keeps them in rank (`not_news`).

Not-news is told by lexical rules on the title and the lead, in Russian and English: each
kind of page has words no news story needs in its title («Гороскоп на 17 ноября», "The 6
Best Humidifiers For Winter", «10 правил идеальных выходных»), and a few words of the lead
that agree ("Fill the grid so that every row…"). Rules, not a trained model: no labelled set
of news and not-news pages ships in a package the project may install, and rules say why.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Literal

from digest.models import Article, Event, EventExplanation

NotNews = Literal["last", "drop", "keep"]
NOT_NEWS_POLICIES: tuple[NotNews, ...] = ("last", "drop", "keep")
LEAD_CHARS = 400  # the lead's words confirm a title; a page's body may quote anything

_I = re.IGNORECASE
# Each kind of page: what its title says, and what its lead says when the title alone is
# not enough. A rule names its kind, so `--explain`-style reports can say why.
_TITLE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "horoscope",
        re.compile(
            r"гороскоп|астролог|знак(?:и|ам|ов)?\s+зодиака|лунн\w+\s+календар|нумеролог|таро\b"
            r"|horoscope|zodiac|astrolog|tarot\b",
            _I,
        ),
    ),
    (
        "weather forecast",
        re.compile(
            r"прогноз\w*\s+погод|погод\w*\s+(?:на|в\s+\w+\s+на)\s+(?:завтра|выходн|недел|\d)"
            r"|синоптик\w*\s+(?:рассказал|рассекретил|пообещал|дал)\w*"
            r"|weather\s+forecast|forecast\s+for\s+(?:today|tomorrow|the\s+weekend)",
            _I,
        ),
    ),
    (
        "advert",
        re.compile(
            r"скидк|распродаж|промокод|купон|выгодн\w+\s+предложени|по\s+акции|в\s+подарок"
            r"|\b\d+\s*%\s+off\b|\b(?:best|top|today['’]?s)\s+deals?\b|\bdeal\s+of\s+the\s+day"
            r"|\bdiscount\s+code|\bcoupon|promo\s+code|\bon\s+sale\s+(?:now|today)\b"
            r"|\bbuy\s+now\b|gift\s+guide|where\s+to\s+buy|\bsponsored\b|\bpartner\s+content\b",
            _I,
        ),
    ),
    (
        "contest",
        re.compile(
            r"розыгрыш|разыгрыва\w+|примите\s+участие|giveaway|sweepstake|enter\s+to\s+win"
            r"|\bwin\s+(?:a|an|tickets)\b",
            _I,
        ),
    ),
    (
        "how-to",
        re.compile(
            r"^\s*(?:как|чем|где|зачем)\s+\w+(?:ть|ться|чь|чься)\b|^\s*что\s+такое\b|рецепт"
            r"|^\s*how\s+to\b|^\s*what\s+is\b|\btips?\s+(?:for|to|on)\b|\bguide\s+to\b"
            r"|everything\s+you\s+need\s+to\s+know|\brecipe"
            # a list: «10 правил…», "The 6 Best Humidifiers", "4 Games To Play"
            r"|^\s*(?:the\s+)?\d{1,3}\s+(?:\w+\s+)?(?:правил|способ|совет|причин|ошиб|вещ|мелоч"
            r"|продукт|признак|факт|миф|секрет|привыч|упражнени|иде|книг|фильм|сериал|мест|лайфхак"
            r"|удар|ways|tips|things|reasons|signs|best|games|books|movies|films|places|ideas"
            r"|habits|mistakes|secrets|tricks|hacks|foods|recipes|products|gifts)",
            _I,
        ),
    ),
    ("puzzle", re.compile(r"sudoku|crossword|\bquiz\b|судоку|кроссворд|головоломк", _I)),
)
_LEAD_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("horoscope", re.compile(r"\b(?:овн|тельц|близнец|львам|львы|дев[ыа]м?|скорпион|стрельц"
                             r"|козерог|водоле|рыб[ыа]м)\w*.*\b(?:овн|тельц|близнец|льв|дев|скорпион"
                             r"|стрельц|козерог|водоле|рыб)\w*|\b(?:aries|taurus|gemini|libra|"
                             r"scorpio|sagittarius|capricorn|aquarius|pisces)\b", _I)),
    ("puzzle", re.compile(r"fill\s+the\s+grid|every\s+row,?\s+every\s+column", _I)),
    ("advert", re.compile(r"\b(?:buy|order)\s+(?:it\s+)?(?:now|here|today)\b|купить\s+можно"
                          r"|оформить\s+заказ|по\s+промокоду", _I)),
)  # fmt: skip


def not_news_kind(article: Article) -> str:
    """Return the kind of not-news page the article is ("horoscope", "how-to", …), else "".

    The title decides; the lead's first words decide only a horoscope, a puzzle or an advert
    whose title does not say so («Львы поглощены проблемами, а Овны…»).
    """
    for kind, pattern in _TITLE_RULES:
        if pattern.search(article.title):
            return kind
    lead = article.text[:LEAD_CHARS]
    for kind, pattern in _LEAD_RULES:
        if pattern.search(lead):
            return kind
    return ""


def is_not_news(event: Event) -> bool:
    """Tell an event whose articles are mostly not news (a horoscope told by two sites)."""
    kinds = [bool(not_news_kind(a)) for a in event.articles]
    return 2 * sum(kinds) > len(kinds)


# --- importance -----------------------------------------------------------------------------

# A name in a title (a capitalised word past its first) adds this much, up to ENTITY_CAP names.
ENTITY_WEIGHT = 0.15
ENTITY_CAP = 3
# A story continued from an earlier digest with nothing new in it counts for this much.
STALE_WEIGHT = 0.5
_TITLE_WORD = re.compile(r"[^\W\d_][\w’'\-]*")


def importance(event: Event, now: datetime, tag_weights: Mapping[str, float]) -> float:
    """Return the rank score: outlets, feed and tag weights, the names it is about, novelty.

    Breadth counts outlets, not feeds: one site's topic feeds are one outlet, an aggregator's
    items are each their own. Recency decides only between equals (find_events sorts by it next): a story
    of the morning told by five outlets stays above a lone item of the last minute.
    """
    outlets = len({a.outlet_key for a in event.articles})
    breadth = 1.0 + math.log2(outlets) + 0.1 * math.log2(len(event.articles))
    feed_weight = max(a.weight for a in event.articles)
    tag_weight = max((tag_weights.get(t, 1.0) for t in event.tags), default=1.0)
    entities = 1.0 + ENTITY_WEIGHT * min(ENTITY_CAP, _title_names(event))
    novelty = STALE_WEIGHT if event.continues and not event.new_article_ids else 1.0
    return round(float(breadth * feed_weight * tag_weight * entities * novelty), 6)


def _title_names(event: Event) -> int:
    """Return how many distinct capitalised words the event's titles have past their first.

    In a sentence-case title these are names; a title in headline case capitalises every
    word and so says nothing (it counts 0).
    """
    names: set[str] = set()
    for article in event.articles:
        words = _TITLE_WORD.findall(article.title)
        later = [w for w in words[1:] if len(w) > 1]
        capitalised = [w for w in later if w[0].isupper()]
        if later and len(capitalised) * 2 > len(later) + 1:
            continue  # headline case
        names.update(w.casefold() for w in capitalised if not w.isupper() or len(w) <= 5)
    return len(names)


def news_first(
    events: Sequence[Event],
    explanations: Sequence[EventExplanation] = (),
    not_news: NotNews = "last",
) -> tuple[tuple[Event, ...], tuple[EventExplanation, ...]]:
    """Return the ranked events with not-news marked and placed as `not_news` says, and
    their explanations (when given) in the same order.

    "last": after every news event, in their own rank; "drop": left out; "keep": where
    their score puts them.
    """
    marked = [replace(e, not_news=is_not_news(e)) for e in events]
    order = list(range(len(marked)))
    if not_news != "keep":
        order = [i for i in order if not marked[i].not_news] + (
            [] if not_news == "drop" else [i for i in order if marked[i].not_news]
        )
    why = tuple(explanations[i] for i in order) if explanations else ()
    return tuple(marked[i] for i in order), why
