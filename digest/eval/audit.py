"""Reader-visible errors in a built digest, counted by class (`digest eval reader`).

Each detector reads what a subscriber is shown (headlines, quoted sentences, key facts,
dates, "Coming up", the rendered text and HTML) beside the corpus's raw article text. None
calls the product's own cleaning, splitting, date or fact code: a rule that audits itself
proves nothing. The rules are written out in docs/evaluation.md ("Reader errors").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from digest.eval.audit_dates import coming_up_error, date_precision, rendered_views, shown_exact
from digest.eval.audit_facts import (
    TextWords,
    non_nominative,
    not_derivable,
    outlet_or_byline,
    same_entity,
)
from digest.eval.audit_text import boilerplate, cut_or_altered, flat, paragraphs_of, words
from digest.eval.reader import CorpusItem, ReaderBuild
from digest.models import DatedItem, EventSummary, KeyFacts

__all__ = [
    "CLASSES",
    "ErrorClass",
    "TextWords",
    "audit",
    "boilerplate",
    "cut_or_altered",
    "date_precision",
    "is_not_news",
    "non_nominative",
    "not_derivable",
    "outlet_or_byline",
    "print_lines",
    "same_entity",
    "same_story",
    "shown_exact",
]

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
        why = coming_up_error(item, today, shown)
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
