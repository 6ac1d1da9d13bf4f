"""Articles -> ranked key events: cross-source clustering, ranking, continuing stories.

`find_events` groups a period's articles into events (the same story told by one or more
sources), marks events that continue one shown in an earlier digest, and ranks them.
`find_events_baseline` is the foundation's title baseline, kept for evaluation.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from digest.events.explain import explain_groups
from digest.events.rank import importance
from digest.events.similarity import (
    PARAMS,
    Features,
    Params,
    article_features,
    similarity_edges,
)
from digest.events.text import event_features
from digest.models import Article, Event, EventExplanation, EventSummary, PastEvent

# Share of a past event's terms that a new event must repeat to count as its continuation.
CONTINUES_MIN_OVERLAP = 0.4
TERMS_PER_EVENT = 20
_TITLE_NOISE = re.compile(r"\s+[-–—|]\s+[^-–—|]{2,40}$")  # " - Reuters", " | BBC News"
_NON_WORD = re.compile(r"[^\w]+")


def event_key(articles: Sequence[Article]) -> str:
    """Return a stable key: a hash of the earliest article's URL (ties broken by URL)."""
    first = min(articles, key=lambda a: (a.published, a.url))
    return hashlib.sha1(first.url.encode("utf-8")).hexdigest()[:16]


def normalise_title(title: str) -> str:
    """Return the title lower-cased, without a trailing " - Source" and punctuation."""
    return _NON_WORD.sub(" ", _TITLE_NOISE.sub("", title).lower()).strip()


def _title_words(title: str) -> frozenset[str]:
    return frozenset(normalise_title(title).split())


def find_events_baseline(articles: Sequence[Article]) -> tuple[Event, ...]:
    """Return events of articles with the same or nearly the same title, others alone.

    Quadratic in the number of articles: it is kept as the evaluation baseline only.
    """
    groups: list[list[Article]] = []
    words: list[frozenset[str]] = []
    for article in sorted(articles, key=lambda a: (a.published, a.url)):
        mine = _title_words(article.title)
        for i, theirs in enumerate(words):
            union = len(mine | theirs)
            if mine and union and len(mine & theirs) / union >= 0.8:
                groups[i].append(article)
                break
        else:
            groups.append([article])
            words.append(mine)
    events = [Event(key=event_key(g), articles=tuple(g)) for g in groups]
    return tuple(sorted(events, key=lambda e: (-len(e.sources), -e.last_seen.timestamp())))


Merge = tuple[int, int, float]  # (node of one side, node of the other, mean similarity)


def average_linkage(
    edges: dict[int, dict[int, float]],
    threshold: float,
    merges: list[Merge] | None = None,
    margin: float = 0.0,
) -> list[int]:
    """Return a cluster label per node: merge while mean similarity >= threshold + a margin.

    The margin shrinks with the square root of the pairs compared: the mean of many pairs
    is surer evidence than one pair's similarity. Pairs without an edge count as 0, so only
    linked clusters are ever compared. Each merge goes to `merges` when given (--explain).
    """
    weight = {i: dict(n) for i, n in edges.items()}
    for i, nbrs in edges.items():  # make symmetric after the per-node pruning
        for j, s in nbrs.items():
            weight[j].setdefault(i, s)
    size = dict.fromkeys(weight, 1)
    # Only pairs at or above the threshold are ever merged: the others would be popped after
    # all of those, and stop the loop, so they are never pushed at all.
    heap = [
        (margin - s, i, j, 1, 1)
        for i, n in weight.items()
        for j, s in n.items()
        if i < j and -(margin - s) >= threshold
    ]
    heapq.heapify(heap)
    parent = {i: i for i in weight}
    while heap:
        neg, a, b, sa, sb = heapq.heappop(heap)
        if parent[a] != a or parent[b] != b or size[a] != sa or size[b] != sb:
            continue  # stale: one side has merged since this entry was pushed
        parent[b] = a
        size[a] += size[b]
        if merges is not None:
            merges.append((a, b, margin / math.sqrt(sa * sb) - neg))
        for c, w in weight.pop(b).items():
            weight[c].pop(b, None)
            if c != a:
                weight[a][c] = weight[a].get(c, 0.0) + w
                weight[c][a] = weight[a][c]
        weight[a].pop(b, None)
        for c, w in weight[a].items():
            k = size[a] * size[c]
            key = margin / math.sqrt(k) - w / k
            if -key >= threshold:
                heapq.heappush(heap, (key, a, c, size[a], size[c]))
    return [_root(parent, i) for i in range(len(edges))]


def _root(parent: dict[int, int], i: int) -> int:
    while parent[i] != i:
        i = parent[i]
    return i


def _attach_loners(
    labels: list[int],
    edges: dict[int, dict[int, float]],
    threshold: float,
    merges: list[Merge] | None = None,
) -> None:
    """Move each lone article into the story it is most similar to, if that is >= threshold.

    Compared with the story as a whole (the centroid of its articles), not with each of its
    articles in turn: a short report matches the story's sum, but no single long telling of
    it well. With unit vectors, cos(x, centroid) = sum of x's similarities to the members
    divided by the centroid's length, sqrt(k + twice the members' similarities to each other).
    The bar is the merge threshold itself: attaching is never easier than merging.
    """
    members: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        members.setdefault(label, []).append(i)
    inner: dict[int, float] = {}
    for label, group in members.items():
        if len(group) > 1:
            inside = set(group)
            inner[label] = sum(s for i in group for j, s in edges[i].items() if j in inside)
    for i, label in enumerate(labels):
        if len(members[label]) > 1:
            continue
        sums: dict[int, float] = {}
        for j, s in edges[i].items():
            if labels[j] in inner:
                sums[labels[j]] = sums.get(labels[j], 0.0) + s
        scores = {c: v / math.sqrt(len(members[c]) + inner[c]) for c, v in sums.items()}
        best = max(scores, key=lambda c: scores[c], default=None)
        if best is not None and scores[best] >= threshold:
            labels[i] = best
            if merges is not None:
                merges.append((best, i, scores[best]))


def cluster_features(
    articles: Sequence[Article],
    features: Features,
    params: Params = PARAMS,
    merges: list[Merge] | None = None,
) -> list[int]:
    """Return a cluster label per article from precomputed features (cross-validation reuses them)."""
    edges = similarity_edges(articles, features, params)
    labels = average_linkage(edges, params.threshold, merges, params.margin)
    _attach_loners(labels, edges, params.threshold, merges)
    return labels


def cluster_articles(
    articles: Sequence[Article],
    params: Params = PARAMS,
    merges: list[Merge] | None = None,
    features: Features | None = None,
) -> list[list[int]]:
    """Return the articles' indices grouped into events, each group in publish order."""
    if not articles:
        return []
    features = features if features is not None else article_features(articles)
    labels = cluster_features(articles, features, params, merges)
    groups: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        groups.setdefault(label, []).append(index)
    return [
        sorted(g, key=lambda i: (articles[i].published, articles[i].url)) for g in groups.values()
    ]


def event_terms(articles: Sequence[Article], limit: int = TERMS_PER_EVENT) -> tuple[str, ...]:
    """Return the event's identity terms (names, numbers, lead words) most articles share."""
    counts: Counter[str] = Counter()
    for article in articles:
        counts.update(set(event_features(article.title, article.text, article.language)))
    return tuple(sorted(counts, key=lambda t: (-counts[t], t))[:limit])  # ties: alphabetical


def _score(event: Event, now: datetime, tag_weights: Mapping[str, float]) -> float:
    """Return the rank score (events.rank: outlets, weights, names and novelty)."""
    return importance(event, now, tag_weights)


def _overlap(event: Event, terms: set[str], old: PastEvent) -> float:
    """Return how strongly `event` continues `old`: 2 for a shared article, else term overlap."""
    if {a.url for a in event.articles} & set(old.article_urls):
        return 2.0
    shared = len(terms & set(old.terms)) / (min(len(old.terms), len(terms)) or 1)
    return shared if shared >= CONTINUES_MIN_OVERLAP else 0.0


def _continuations(events: Sequence[Event], past: Sequence[PastEvent]) -> dict[int, PastEvent]:
    """Return, by event index, the past event each continues: one to one, best match first."""
    terms = [set(event_terms(e.articles)) for e in events]
    pairs = [
        (_overlap(e, terms[i], old), i, j)
        for i, e in enumerate(events)
        for j, old in enumerate(past)
    ]
    taken: dict[int, PastEvent] = {}
    used: set[int] = set()
    for overlap, i, j in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if overlap > 0 and i not in taken and j not in used:
            taken[i] = past[j]
            used.add(j)
    return taken


def _finish(
    event: Event, old: PastEvent | None, now: datetime, weights: Mapping[str, float]
) -> Event:
    """Return the event scored, and keyed and marked as developing when it continues `old`."""
    if old is None:
        return Event(key=event.key, articles=event.articles, score=_score(event, now, weights))
    seen = set(old.article_urls)
    developing = Event(
        key=old.key,  # the story keeps its identity across digests
        articles=event.articles,
        developing_since=min(old.first_seen, event.first_seen),
        continues=old.key,
        new_article_ids=tuple(
            a.id for a in event.articles if a.url not in seen and a.id is not None
        ),
    )
    return replace(developing, score=_score(developing, now, weights))  # novelty counts


def find_events(
    articles: Sequence[Article],
    *,
    now: datetime,
    past: Sequence[PastEvent] = (),
    tag_weights: Mapping[str, float] | None = None,
    params: Params = PARAMS,
) -> tuple[Event, ...]:
    """Return the period's events, best first, marking those that continue a past event."""
    found, _ = _find(articles, now, past, tag_weights or {}, params, None)
    return found


def find_events_explained(
    articles: Sequence[Article],
    *,
    now: datetime,
    past: Sequence[PastEvent] = (),
    tag_weights: Mapping[str, float] | None = None,
    explain: bool = True,
) -> tuple[tuple[Event, ...], tuple[EventExplanation, ...]]:
    """Return the events as `find_events` does and, in the same order, why each was joined.

    With `explain` False the explanations are left out (empty) and cost nothing.
    """
    return _find(articles, now, past, tag_weights or {}, PARAMS, [] if explain else None)


def _find(
    articles: Sequence[Article],
    now: datetime,
    past: Sequence[PastEvent],
    weights: Mapping[str, float],
    params: Params,
    merges: list[Merge] | None,
) -> tuple[tuple[Event, ...], tuple[EventExplanation, ...]]:
    features = article_features(articles) if articles else None
    groups = cluster_articles(articles, params, merges, features)
    events = [
        Event(key=event_key([articles[i] for i in g]), articles=tuple(articles[i] for i in g))
        for g in groups
    ]
    continues = _continuations(events, past) if past else {}
    found = [_finish(e, continues.get(i), now, weights) for i, e in enumerate(events)]
    order = sorted(
        range(len(found)),
        key=lambda i: (-found[i].score, -found[i].last_seen.timestamp(), found[i].key),
    )
    if merges is None:
        return tuple(found[i] for i in order), ()
    meaning = features.meaning if features is not None else None
    why = explain_groups(articles, groups, merges, [e.key for e in found], meaning)
    return tuple(found[i] for i in order), tuple(why[i] for i in order)


def past_event_from(summary: EventSummary) -> PastEvent:
    """Return what a later digest needs to recognise this event as continuing."""
    event = summary.event
    return PastEvent(
        key=event.key,
        headline=summary.headline,
        first_seen=event.developing_since or event.first_seen,
        article_urls=tuple(a.url for a in event.articles),
        terms=event_terms(event.articles),
    )
