"""Event -> EventSummary: headline, sentences quoted from the sources, key facts and dates.

The default summarizer is extractive: it scores every early sentence of every article by its
centrality in the event (cosine to the event's TF-IDF centroid) plus a position prior (news
is lead-heavy), then takes the best ones in turn, skipping any that repeats one already
taken and the leads of other sources (they all tell the main fact). Sentences are quoted
exactly and keep a link to their article; a developing story leads with its new articles.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Protocol

import numpy as np
from scipy import sparse  # type: ignore[import-untyped]  # no stubs in the venv

from digest.events.facts import find_dates, find_facts
from digest.events.headlines import clean_headline, shared_suffixes, site_name
from digest.events.text import tfidf_vectors
from digest.models import Article, DatedItem, Event, EventSummary, KeyFacts, SummarySentence
from digest.text import (
    MAX_SENTENCE_CHARS,
    MAX_TITLE_CHARS,
    is_credit_or_caption,
    shorten,
    split_sentences,
    strip_inline_credits,
    strip_wire,
    tokenize,
)

# Boilerplate that feeds and extractors leave in the body: photo credits, archive notes.
_CREDIT = re.compile(
    r"(©|\(c\)\s|photo\s*:|фото\s*:|архивное фото|archival photo|getty images)", re.I
)
# What every credit above contains, case-folded as re.I folds each of their letters: a
# sentence with none of them needs no search.
_CREDIT_KEYS = ("©", "(c)", "photo", "фото", "getty")
_MIN_WORDS = 4
# Sentence score = cosine to the event centroid + POSITION_WEIGHT * exp(-paragraph /
# POSITION_DECAY). News is lead-heavy, so the prior dominates across paragraphs while
# centrality decides within and between neighbouring ones. Measured on the BBC and
# Newsroom dev sets; 1-2 for either constant scores alike on BBC.
POSITION_WEIGHT = 2.0
POSITION_DECAY = 2.0
CANDIDATES_PER_ARTICLE = 12  # the prior makes later sentences unreachable anyway
REDUNDANT = 0.7  # cosine at which a sentence only repeats one already chosen
# Different sources' leads tell the same fact in other words: a lower bar between articles.
REDUNDANT_ACROSS = 0.3
NEW_BOOST = 1.5
FACT_ARTICLES = 6  # names are counted in the first articles only: enough to rank them


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
    paragraph: int


def story_paragraphs(article: Article) -> list[str]:
    """Return the article's paragraphs without photo credits, the captions before the lead,
    datelines and promotion tails (text stored before fetch removed them reads the same)."""
    return list(_story_paragraphs(article))


# A summary reads each article's paragraphs three times (sentences, key facts, dates), one
# event after another: cleaning them once per article took a tenth of a summary.
PARAGRAPH_CACHE = 1024


@lru_cache(maxsize=PARAGRAPH_CACHE)
def _story_paragraphs(article: Article) -> tuple[str, ...]:
    out: list[str] = []
    for paragraph in article.text.split("\n"):
        paragraph = strip_wire(paragraph, first=not out) if paragraph.strip() else ""
        if paragraph and not is_credit_or_caption(paragraph, leading=not out):
            out.append(strip_inline_credits(paragraph))
    return tuple(out)


def article_sentences(article: Article, limit: int | None = None) -> list[Candidate]:
    """Return the article's first `limit` body sentences, without boilerplate or the title."""
    out: list[Candidate] = []
    title = article.title.strip().casefold().rstrip(".")
    for number, paragraph in enumerate(story_paragraphs(article)):
        sentences = _with_answers(paragraph, split_sentences(paragraph, article.language))
        if "«" in paragraph or "“" in paragraph or '"' in paragraph:
            sentences = _whole_quotes(paragraph, sentences)
        for sentence in sentences:
            folded = sentence.casefold()
            credit = any(k in folded for k in _CREDIT_KEYS) and _CREDIT.search(sentence)
            if credit or (title and folded.rstrip(".") == title):
                continue
            if len(sentence.split()) < _MIN_WORDS or sentence.endswith((":", "…", "...")):
                continue  # subheads ("Accusations of «interference»"), cut feed excerpts
            # A run-on "sentence" (400 KB without a full stop) is quoted cut, not whole.
            out.append(Candidate(shorten(sentence, MAX_SENTENCE_CHARS), article, len(out), number))
            if len(out) == limit:
                return out
    return out


# An answer opens with a dash or names who speaks: «— Во многом…», «Шарль Леклер: Да, три…».
_ANSWER = re.compile(r"^(?:[—–-]\s|(?:[А-ЯЁA-Z][\w.'’-]*\s+){0,2}[А-ЯЁA-Z][\w.'’-]*:\s)")


def _with_answers(paragraph: str, sentences: list[str]) -> list[str]:
    """Return the sentences with each interview question joined to the answer after it.

    "Каких принципов придерживается банк? — Во многом успех…": a question quoted without
    its answer tells the reader nothing, and the answer alone has lost what it answers.
    Both are one exact span of the paragraph; a pair too long to quote whole is skipped.
    """
    out: list[str] = []
    skip = False
    at = 0
    for i, sentence in enumerate(sentences):
        start = paragraph.find(sentence, at)
        at = start + len(sentence) if start >= 0 else at
        if skip:
            skip = False
            continue
        nxt = sentences[i + 1] if i + 1 < len(sentences) else ""
        if sentence.endswith("?") and _ANSWER.match(nxt) and start >= 0:
            end = paragraph.find(nxt, at)
            if end >= 0 and end + len(nxt) - start <= MAX_SENTENCE_CHARS:
                out.append(paragraph[start : end + len(nxt)])
            skip = True
            continue
        out.append(sentence)
    return out


_QUOTE_PAIRS = (("«", "»"), ("“", "”"))


# A quote inside a quote, «„Орион“», closes with the mark that opens an English one.
_INNER_QUOTE = re.compile(r"„[^„“”«»]*[“”]")


def _open_quotes(text: str) -> int:
    """Return how many quotes the text opens and leaves open (negative: closes ones it never
    opened)."""
    if "„" in text:
        text = _INNER_QUOTE.sub("", text)
    return sum(text.count(a) - text.count(b) for a, b in _QUOTE_PAIRS)


def _whole_quotes(paragraph: str, sentences: list[str]) -> list[str]:
    """Return the sentences with a quote of several sentences as one, never cut inside.

    «Мы готовились долго. Команда сыграла хорошо», — сказал тренер: either sentence alone
    leaves a « or a » unmatched; with straight quotes ("…"), an odd number of them. The quote
    is one exact span of the paragraph when it fits a quoted sentence's length, else none
    of it is quoted. A paragraph whose own quotes do not pair (a source's typo) is left as
    split.
    """
    if _open_quotes(paragraph) != 0 or paragraph.count('"') % 2:
        return sentences
    out: list[str] = []
    at, start, depth, straight = 0, -1, 0, 0
    for sentence in sentences:
        where = paragraph.find(sentence, at)
        if where < 0:
            return sentences  # not exact spans: leave them as they are
        at = where + len(sentence)
        if depth == 0 and straight == 0:
            start = where
        depth = max(0, depth + _open_quotes(sentence))  # a » opened before: nothing to join
        straight = (straight + sentence.count('"')) % 2
        if depth == 0 and straight == 0 and at - start <= MAX_SENTENCE_CHARS:
            out.append(paragraph[start:at])
    return out


def _quote(candidate: Candidate) -> SummarySentence:
    a = candidate.article
    return SummarySentence(text=candidate.text, source=a.outlet_name, url=a.url, article_id=a.id)


# A sentence that opens with a pronoun needs its story: "She will make her second appearance…"
_PRONOUN = re.compile(
    r"^[«\"“]?(?:he|she|they|it|his|her|their|its|this|these|those|there"
    r"|он|она|они|оно|его|ее|её|их|это|этот|эта|эти|там|тогда)\b",
    re.I,
)


def event_dates(event: Event, headline: str = "") -> tuple[DatedItem, ...]:
    """Return each article's dated items, with their source, sorted by date, each date once.

    An item whose sentence opens with a pronoun is labelled with the event's headline first.
    """
    seen: set[tuple[object, str]] = set()
    items: list[DatedItem] = []
    for a in event.articles:
        text = "\n".join(story_paragraphs(a))
        for item in find_dates(text, a.published, a.language):
            key = (item.when, item.text.casefold())
            if key not in seen:
                seen.add(key)
                label = item.label
                if headline and _PRONOUN.match(label):
                    label = f"{headline}: {label}"
                items.append(replace(item, label=label, source=a.outlet_name, url=a.url))
    return tuple(sorted(items, key=lambda i: i.when))


def outlets(article: Article, suffixes: dict[str, set[str]]) -> tuple[str, ...]:
    """Return the names of the article's own outlet: feed, site, its feed's shared title suffix."""
    shared = suffixes.get(article.feed_url, set())
    return (article.source, site_name(article.url), site_name(article.feed_url), *shared)


def _feed_suffixes(event: Event) -> dict[str, set[str]]:
    """Return the title suffixes each feed's articles in the event share."""
    by_feed: dict[str, list[str]] = {}
    for a in event.articles:
        by_feed.setdefault(a.feed_url, []).append(a.title)
    return {feed: shared_suffixes(titles) for feed, titles in by_feed.items() if len(titles) > 1}


def representative_title(event: Event) -> str:
    """Return the cleaned title sharing the most words with the event's other titles."""
    suffixes = _feed_suffixes(event)
    titles = [
        clean_headline(a.title, outlets(a, suffixes)) for a in event.articles if a.title.strip()
    ]
    if not titles:
        return ""
    words = [set(t.lower().split()) for t in titles]

    def shared(i: int) -> tuple[int, int]:
        return (sum(len(words[i] & w) for j, w in enumerate(words) if j != i), -len(titles[i]))

    # Capped here too: titles stored before the cap existed may be of any length.
    return shorten(titles[max(range(len(titles)), key=shared)], MAX_TITLE_CHARS)


def _sentence_scores(pool: Sequence[Candidate], x: sparse.csr_matrix, event: Event) -> np.ndarray:
    """Return centrality (cosine to the event centroid) plus the paragraph-position prior."""
    centroid = np.asarray(x.sum(axis=0)).ravel()
    centroid /= np.linalg.norm(centroid) or 1.0
    # A text without paragraph breaks still has a lead: count ~4 sentences as a paragraph.
    paragraphs = np.array([max(c.paragraph, c.position / 4) for c in pool], dtype=float)
    scores = x @ centroid + POSITION_WEIGHT * np.exp(-paragraphs / POSITION_DECAY)
    fresh = set(event.new_article_ids)
    if fresh:  # a developing story leads with what is new since the last digest
        scores *= np.array([NEW_BOOST if c.article.id in fresh else 1.0 for c in pool])
    return np.asarray(scores, dtype=float)


def choose_sentences(event: Event, count: int) -> list[Candidate]:
    """Return up to `count` central, early sentences of the event, none repeating another."""
    pool = [c for a in event.articles for c in article_sentences(a, CANDIDATES_PER_ARTICLE)]
    if not pool:
        return []
    x = tfidf_vectors([tokenize(c.text, c.article.language) for c in pool]).matrix
    scores = _sentence_scores(pool, x, event)
    owner = np.array([id(c.article) for c in pool])
    limit = np.where(owner[:, None] == owner[None, :], REDUNDANT, REDUNDANT_ACROSS)
    similar = (x @ x.T).toarray() >= limit  # the pool is small: a dense matrix is cheap
    chosen: list[int] = []
    lead_of: Article | None = None
    for i in np.argsort(-scores, kind="stable").tolist():
        first = pool[i].paragraph == 0
        if similar[i, chosen].any() or (first and lead_of not in (None, pool[i].article)):
            continue  # every source's lead tells the main fact: one lead is enough
        lead_of = pool[i].article if first else lead_of
        chosen.append(i)
        if len(chosen) == count:
            break
    if len(event.articles) == 1:
        chosen.sort()  # one article: keep its order, which reads best
    return [pool[i] for i in chosen]


def event_facts(event: Event, shown: Sequence[Article] = ()) -> KeyFacts:
    """Return the key facts of the event, read from the articles a reader is shown (the
    first ones when none are given): no fact is quoted from an article not linked.

    The event's own outlets are left out of them; its titles tell which lower-case words
    of a machine translation are names.
    """
    articles = list(shown or event.articles)[:FACT_ARTICLES]
    texts = ["\n".join(story_paragraphs(a)) for a in articles]
    suffixes = _feed_suffixes(event)
    names = {n for a in articles for n in outlets(a, suffixes) if n}
    titles = [a.title for a in articles]
    return find_facts(texts, event.articles[0].language, outlets=names, titles=titles)


def _finish(event: Event, chosen: Sequence[Candidate]) -> EventSummary:
    headline = representative_title(event) or (chosen[0].text if chosen else "")
    summary = EventSummary(
        event=event,
        headline=headline,
        sentences=tuple(_quote(c) for c in chosen),
        image_url=next((a.image_url for a in event.articles if a.image_url), None),
    )
    # Facts and dates come from the articles the reader is shown (and can follow) only.
    shown = summary.shown
    return replace(
        summary,
        facts=event_facts(event, shown),
        dates=event_dates(replace(event, articles=shown), headline),
    )


def summarize_lead(event: Event, *, sentences: int = 3, now: datetime) -> EventSummary:
    """Return the Lead baseline: the first sentences of the event's earliest article."""
    first = min(event.articles, key=lambda a: (a.published, a.url))
    return _finish(event, article_sentences(first, sentences))


def summarize_event(event: Event, *, sentences: int = 3, now: datetime) -> EventSummary:
    """Return the default extractive summary of the event."""
    return _finish(event, choose_sentences(event, sentences))


class ExtractiveSummarizer:
    """The default Summarizer: centrality + position prior, without repeats, over all sources."""

    def summarize(self, event: Event, *, sentences: int, now: datetime) -> EventSummary:
        """Return the event's extractive summary."""
        return summarize_event(event, sentences=sentences, now=now)


def default_summarizer() -> Summarizer:
    """Return the summarizer the pipeline uses when none is injected."""
    return ExtractiveSummarizer()
