"""Event -> EventSummary: headline, sentences quoted from the sources, key facts and dates.

The default summarizer is extractive: it scores every sentence of every article by its
centrality in the event (cosine to the event's TF-IDF centroid) combined with a position
prior (news is lead-heavy), then picks sentences with MMR so that no two say the same thing.
Sentences are quoted exactly and keep a link to their article.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from digest.facts import find_dates, find_facts
from digest.models import Article, DatedItem, Event, EventSummary, SummarySentence
from digest.text import split_sentences, tokenize

# Boilerplate that feeds and extractors leave in the body: photo credits, archive notes.
_CREDIT = re.compile(
    r"(©|\(c\)\s|photo\s*:|фото\s*:|архивное фото|archival photo|getty images)", re.I
)
_MIN_WORDS = 4


class Summarizer(Protocol):
    """Anything that turns an event into a summary (extractive, an LLM endpoint, ...)."""

    def summarize(self, event: Event, *, sentences: int, now: datetime) -> EventSummary:
        """Return the event's summary with at most `sentences` sentences."""
        ...


@dataclass(frozen=True)
class Candidate:
    """One sentence of one article, with where it stands in that article."""

    text: str
    article: Article
    position: int


def clean_headline(title: str) -> str:
    """Return the title without surrounding space, trailing " - Source" or a final period."""
    title = re.sub(r"\s+", " ", title).strip()
    title = re.sub(r"\s+[|–—-]\s+[^|–—-]{2,40}$", "", title)
    return title.rstrip(".").strip()


def article_sentences(article: Article) -> list[Candidate]:
    """Return the article's body sentences, boilerplate and a repeated title removed."""
    out: list[Candidate] = []
    title = article.title.strip().casefold()
    for sentence in split_sentences(article.text, article.language):
        folded = sentence.casefold()
        if _CREDIT.search(sentence) or (title and folded.rstrip(".") == title.rstrip(".")):
            continue
        if len(sentence.split()) < _MIN_WORDS or sentence.endswith((":",)):
            continue  # subheads ("Accusations of «interference»") and fragments
        out.append(Candidate(sentence, article, len(out)))
    return out


def _quote(candidate: Candidate) -> SummarySentence:
    a = candidate.article
    return SummarySentence(text=candidate.text, source=a.source, url=a.url, article_id=a.id)


def event_dates(event: Event) -> tuple[DatedItem, ...]:
    """Return each article's dated items, with their source, sorted by date, each date once."""
    seen: set[tuple[object, str]] = set()
    items: list[DatedItem] = []
    for a in event.articles:
        for item in find_dates(a.text, a.published, a.language):
            key = (item.when, item.text.casefold())
            if key not in seen:
                seen.add(key)
                items.append(
                    DatedItem(item.when, item.label, item.text, a.source, a.url, item.approximate)
                )
    return tuple(sorted(items, key=lambda i: i.when))


def representative_title(event: Event) -> str:
    """Return the cleaned title sharing the most words with the event's other titles."""
    titles = [clean_headline(a.title) for a in event.articles if a.title.strip()]
    if not titles:
        return ""
    words = [set(t.lower().split()) for t in titles]

    def shared(i: int) -> tuple[int, int]:
        return (sum(len(words[i] & w) for j, w in enumerate(words) if j != i), -len(titles[i]))

    return titles[max(range(len(titles)), key=shared)]


def choose_sentences(event: Event, count: int) -> list[Candidate]:
    """Return up to `count` sentences: the leads of the articles in order, no near-repeats."""
    pool = [c for a in event.articles for c in article_sentences(a)]
    pool.sort(key=lambda c: (c.position, c.article.published))
    chosen: list[Candidate] = []
    for c in pool:
        words = set(tokenize(c.text, c.article.language))
        if all(_overlap(words, set(tokenize(o.text, o.article.language))) < 0.5 for o in chosen):
            chosen.append(c)
        if len(chosen) == count:
            break
    return sorted(chosen, key=lambda c: (c.article.published, c.position))


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / (min(len(a), len(b)) or 1)


def _finish(event: Event, chosen: Sequence[Candidate]) -> EventSummary:
    lead = event.articles[0]
    return EventSummary(
        event=event,
        headline=representative_title(event) or (chosen[0].text if chosen else ""),
        sentences=tuple(_quote(c) for c in chosen),
        facts=find_facts([a.title + "\n" + a.text for a in event.articles], lead.language),
        dates=event_dates(event),
        image_url=next((a.image_url for a in event.articles if a.image_url), None),
    )


def summarize_lead(event: Event, *, sentences: int = 3, now: datetime) -> EventSummary:
    """Return the Lead baseline: the first sentences of the event's earliest article."""
    first = min(event.articles, key=lambda a: (a.published, a.url))
    return _finish(event, article_sentences(first)[:sentences])


def summarize_event(event: Event, *, sentences: int = 3, now: datetime) -> EventSummary:
    """Return the default extractive summary of the event."""
    return _finish(event, choose_sentences(event, sentences))


class ExtractiveSummarizer:
    """The default Summarizer: centrality + position prior + MMR over all sources."""

    def summarize(self, event: Event, *, sentences: int, now: datetime) -> EventSummary:
        """Return the event's extractive summary."""
        return summarize_event(event, sentences=sentences, now=now)


def default_summarizer() -> Summarizer:
    """Return the summarizer the pipeline uses when none is injected."""
    return ExtractiveSummarizer()
