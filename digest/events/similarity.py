"""Articles -> a sparse graph of how likely each pair tells the same story.

Three kinds of evidence, each an L2-normalised TF-IDF block with its own weight, so that one
sparse product gives their weighted cosine: identity terms (names and numbers, one term per
name whatever its case), the lead's words, and the title's words. Two titles that share
only names (the topic: Liverpool, Hong Kong) are evidence against, and so are calendar
days: two articles that each name a day, and never the other's, are about different days
(«Прогноз погоды на 8 ноября» and «… на 16 ноября») unless the later one is an update. No n x n matrix is ever built: articles are compared day by day
within a window, and terms common to a whole window are left out.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse  # type: ignore[import-untyped]  # no stubs in the venv

from digest.events.meaning import lead_sentences, meaning_vectors
from digest.events.text import LEAD_SENTENCES, dates_in, tfidf_vectors, title_terms
from digest.events.values import name_prefixes, story_names, value_terms, without_dateline
from digest.models import Article
from digest.text import split_sentences, stem_words, tokenize


@dataclass(frozen=True)
class Params:
    """Clustering settings, chosen by K-fold cross-validation over every labelled set.

    `digest eval cv` reruns the search (ECB+ by topic, same-story pairs by pair, the
    categories set as articles of different stories); one setting serves every language.
    Evidence against (`conflict`, `no_actor`) is a veto: no labelled set can tell a softer
    factor apart, and a different day or no shared actor is not a matter of degree.
    """

    threshold: float = 0.24  # mean similarity at which two clusters are one event
    name_weight: float = 0.5  # identity terms (names, numbers)
    title_weight: float = 0.1  # the title's words; the lead's words weigh the rest
    meaning_weight: float = 0.05  # the meaning vectors' share of what the blocks give
    conflict: float = 0.0  # similarity kept when two articles name different days
    no_actor: float = 0.0  # similarity kept when two articles name no one and nowhere in common
    margin: float = 0.0  # extra bar for merging two clusters, over sqrt(pairs compared)
    title_miss: float = 0.4  # similarity kept when two titles share no word but names


PARAMS = Params()
EDGE_FLOOR = 0.05  # weaker links change no average enough to matter
NEIGHBOURS = 30  # strongest links kept per article
POSTING_CAP = 100  # a term in more articles of a window names a topic, not an event
# Articles published within SAME_DAYS count as simultaneous; beyond that a pair's
# similarity halves every GAP_HALF_LIFE_DAYS and is ignored after MAX_GAP_DAYS.
SAME_DAYS = 1.0
GAP_HALF_LIFE_DAYS = 2.0
MAX_GAP_DAYS = 7.0
# Words by which a later article says it updates an earlier story (so its day may differ).
_UPDATE = re.compile(
    r"\b(?:updated?|latest|rises|rose|climbs|climbed|обновлен\w*|уточнен\w*|выросл\w*"
    r"|возросл\w*|увеличил\w*|новые подробности)\b",
    re.IGNORECASE,
)


LEAD_DAYS_CHARS = 300  # the days a story is about are named at its very top
DAYS_SCAN_CHARS = 600  # datelines and the lead's first 300 characters fit in this
_DATELINE_TEXT = """january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday
    saturday sunday mon tue wed thu fri sat sun first last published updated posted edt est
    gmt bst cet pdt pst cdt cst utc msk января февраля марта апреля мая июня июля августа
    сентября октября ноября декабря опубликовано обновлено"""
_DATELINE_WORDS = frozenset(_DATELINE_TEXT.split())
_LONG_WORD = re.compile(r"[^\W\d_]{3,}")


@dataclass(frozen=True)
class Features:
    """Per-article evidence: the three TF-IDF blocks and the days each article names."""

    names: sparse.csr_matrix
    lead: sparse.csr_matrix
    title: sparse.csr_matrix
    happened: sparse.csr_matrix  # the title's words that are not names: what happened
    own_days: tuple[frozenset[tuple[int, int]], ...]  # named in the title or lead
    all_days: tuple[frozenset[tuple[int, int]], ...]  # named anywhere
    updates: tuple[bool, ...]  # says it is an update
    titled: np.ndarray  # has a title of its own (bool per article)
    actors: tuple[frozenset[str], ...]  # who and where: every name (not number), by prefix
    actor_rows: sparse.csr_matrix  # the same as one (article x actor) row of 1s each
    meaning: np.ndarray  # one L2-normalised meaning vector per article (digest.events.meaning)


@dataclass(frozen=True, slots=True)
class _Read:
    """What one article's title and text give, before it is weighed against the others."""

    names: list[str]  # identity terms: names' keys and numbers' values
    actors: frozenset[str]
    lead: list[str]  # the lead's first sentences
    lead_terms: list[str]
    title_terms: list[str]
    happened: list[str]
    own_days: frozenset[tuple[int, int]]
    all_days: frozenset[tuple[int, int]]
    update: bool


def _read(a: Article) -> _Read:
    """Return the evidence one article gives on its own (its title, text and language)."""
    body = without_dateline(a.text)
    in_title, in_text = story_names(a.title, body, a.language)
    lead = lead_sentences(a)
    titles = title_terms(a.title, a.text, a.language)
    # A title word is a name when the text writes it capitalised too.
    known = {n.replace("-", "") for n in in_text}
    own, every = _days(a)
    return _Read(
        names=value_terms(in_title, a.title, a.language) + value_terms(in_text, body, a.language),
        actors=_actors(name_prefixes(in_title + in_text), f"{a.title}\n{body}", a.language),
        lead=lead,
        # As text.lead_terms, from the sentences split once for the meaning vectors too.
        lead_terms=["w:" + t for t in tokenize(" ".join(lead[:LEAD_SENTENCES]), a.language)],
        title_terms=titles,
        happened=[t for t in titles if t[2:] not in known],
        own_days=own,
        all_days=every,
        update=bool(own) and bool(_UPDATE.search(f"{a.title}\n{a.text[:400]}")),
    )


def article_features(articles: Sequence[Article]) -> Features:
    """Return the evidence of identity of each article (computed once, weighed later).

    Copies of one text (a wire story carried word for word by several outlets, one item in
    two of a site's feeds) are read once: what an article gives on its own depends on its
    title, text and language only. Weighing (TF-IDF) counts every article.
    """
    first: dict[tuple[str, str, str], int] = {}
    distinct: list[Article] = []
    which: list[int] = []
    for a in articles:
        k = first.setdefault((a.title, a.text, a.language), len(distinct))
        if k == len(distinct):
            distinct.append(a)
        which.append(k)
    reads = [_read(a) for a in distinct]
    each = [reads[k] for k in which]
    index = np.array(which, dtype=np.int64)  # each article's row among the distinct texts
    return Features(
        names=tfidf_vectors([r.names for r in each]).matrix,
        lead=tfidf_vectors([r.lead_terms for r in each]).matrix,
        title=tfidf_vectors([r.title_terms for r in each]).matrix,
        happened=tfidf_vectors([r.happened for r in each]).matrix,
        own_days=tuple(r.own_days for r in each),
        all_days=tuple(r.all_days for r in each),
        updates=tuple(r.update for r in each),
        titled=np.array([bool(a.title.strip()) for a in articles]),
        actors=tuple(r.actors for r in each),
        actor_rows=_actor_rows([r.actors for r in reads])[index],
        meaning=meaning_vectors(distinct, [r.lead for r in reads])[index],
    )


# A region named with its kind («Иркутской области», «Красноярского края», "Kent county"):
# the setting of many stories at once, like a country, not an actor of one.
_REGION = re.compile(  # the capital first, then the look-behind: searched by skipping to capitals
    r"([A-ZА-ЯЁ](?<![^\W_].)[^\W\d_]+(?:-[^\W\d_]+)?)\s+(?:област|кра[йяюе]\b|республик|"
    r"region|province|county|oblast)",
)
_REGION_KINDS = ("област", "кра", "республик", "region", "province", "county", "oblast")


def _actors(prefixes: frozenset[str], text: str, language: str) -> frozenset[str]:
    """Return who and where a text names, less the regions it names with their kind.

    Two reports from one region (floods in Tulun, smoke in Kirensk, both «Иркутской
    области») share the region and nothing else: the region says where the news is from,
    the towns and people which story it is. A text that names only its region keeps it.
    """
    if not any(kind in text for kind in _REGION_KINDS):
        return prefixes  # no region named with its kind (a scan far cheaper than the pattern)
    words = _REGION.findall(text)
    if not words:
        return prefixes
    regions = name_prefixes(stem_words(words, language))
    rest = prefixes - regions
    return rest if rest else prefixes


def no_shared_actor(features: Features, i: int, j: int) -> bool:
    """Return True when both articles name someone or somewhere, and never the same.

    Two reports on one topic (two studies of what helps the liver or the mood, two
    doping bans) share the topic's words; one story shares its actors.
    """
    a, b = features.actors[i], features.actors[j]
    return bool(a and b and a.isdisjoint(b))


def _days(article: Article) -> tuple[frozenset[tuple[int, int]], frozenset[tuple[int, int]]]:
    """Return the days named in the title and lead, and (when there are any) anywhere."""
    if not dates_in(f"{article.title}\n{article.text[:DAYS_SCAN_CHARS]}"):
        return frozenset(), frozenset()  # most articles: no need to find the lead
    own = dates_in(f"{article.title}\n{_lead(article)}")
    return own, (dates_in(f"{article.title}\n{article.text}") if own else frozenset())


def _lead(article: Article) -> str:
    """Return the text's first 300 characters without datelines ("May 03 , 2013 | 8 : 20 am").

    A dateline says when the article was published, not which day its story is about.
    """
    kept: list[str] = []
    for sentence in split_sentences(article.text[:DAYS_SCAN_CHARS], article.language):
        words = [w for w in _LONG_WORD.findall(sentence) if w.lower() not in _DATELINE_WORDS]
        if len(words) > 1:
            kept.append(sentence)
    return " ".join(kept)[:LEAD_DAYS_CHARS]


def weighted_matrix(features: Features, params: Params) -> sparse.csr_matrix:
    """Return the blocks side by side, scaled so a row product is the weighted cosine."""
    lead_weight = max(0.0, 1.0 - params.name_weight - params.title_weight)
    blocks = [
        math.sqrt(params.name_weight) * features.names,
        math.sqrt(lead_weight) * features.lead,
        math.sqrt(params.title_weight) * features.title,
    ]
    return sparse.hstack(blocks, format="csr")


def days_conflict(features: Features, i: int, j: int, later: int | None) -> bool:
    """Return True when i and j name different days and the later one is no update.

    A day named in one article's title or lead and anywhere in the other joins them;
    `later` is None when both were published at the same time (either may update).
    """
    own_i, own_j = features.own_days[i], features.own_days[j]
    if not own_i or not own_j:
        return False
    if own_i & features.all_days[j] or own_j & features.all_days[i]:
        return False
    if later is None:
        return not (features.updates[i] or features.updates[j])
    return not features.updates[later]


def _time_factor(hours: np.ndarray) -> np.ndarray:
    """Return how much a pair's similarity counts given the hours between the two articles."""
    days = np.maximum(0.0, np.abs(hours) / 24.0 - SAME_DAYS)
    return np.where(days > MAX_GAP_DAYS, 0.0, 0.5 ** (days / GAP_HALF_LIFE_DAYS))


def _window_product(x: sparse.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> sparse.csr_matrix:
    """Return the capped similarity products of `rows` against `cols` (local indices).

    Terms found in more than POSTING_CAP articles of the window are left out: they name a
    topic, not an event, and leaving them out keeps the cost linear instead of quadratic.
    """
    window = x[cols]
    df = np.bincount(window.indices, minlength=x.shape[1])
    keep = sparse.diags((df <= POSTING_CAP).astype(float))
    return (x[rows] @ keep) @ window.T


def _titles_share(
    features: Features, rows: np.ndarray, cols: np.ndarray, product: sparse.csr_matrix
) -> np.ndarray:
    """Return, per stored pair of `product` (rows x cols, in its order), whether the two
    titles share a word that is no name (`happened`).

    Names shared by two titles (Liverpool, Hong Kong, «Казахстан») say which topic; the
    title's other words say what happened, and two different happenings are two stories.
    """
    shared = _window_product(features.happened, rows, cols)
    # Each stored pair numbered 1, 2, ...: the element-wise product with the shared words'
    # pattern keeps the numbers of the pairs that share one (a merge of two sorted rows).
    numbered = sparse.csr_matrix(
        (np.arange(1, product.nnz + 1, dtype=np.float64), product.indices, product.indptr),
        product.shape,
    )
    marks = sparse.csr_matrix((np.ones(shared.nnz), shared.indices, shared.indptr), shared.shape)
    hit = np.zeros(product.nnz, dtype=bool)
    hit[numbered.multiply(marks).tocsr().data.astype(np.int64) - 1] = True
    return hit


def _discount_conflicts(
    features: Features,
    stamps: np.ndarray,
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray],
    factor: float,
) -> np.ndarray:
    """Return the similarities with pairs that name different days scaled by `factor`."""
    left, right, sims = pairs
    dated = np.array([bool(d) for d in features.own_days])
    sims = sims.copy()
    for k in np.flatnonzero(dated[left] & dated[right]).tolist():
        i, j = int(left[k]), int(right[k])
        later = None if stamps[i] == stamps[j] else (i if stamps[i] > stamps[j] else j)
        if days_conflict(features, i, j, later):
            sims[k] *= factor
    return sims


def _actor_rows(actors: Sequence[frozenset[str]]) -> sparse.csr_matrix:
    """Return an (article x actor) matrix with a 1 where the article names the actor."""
    ids: dict[str, int] = {}
    cells = [[ids.setdefault(name, len(ids)) for name in names] for names in actors]
    counts = [len(c) for c in cells]
    return sparse.csr_matrix(
        (np.ones(sum(counts)), [i for c in cells for i in c], np.cumsum([0, *counts])),
        shape=(len(cells), max(len(ids), 1)),
    )


def _discount_no_actor(
    features: Features, left: np.ndarray, right: np.ndarray, sims: np.ndarray, factor: float
) -> np.ndarray:
    """Return the similarities with pairs that share no actor scaled by `factor`.

    As `no_shared_actor`, for every pair at once: a pair shares an actor when the
    element-wise product of its two rows of `actor_rows` is not empty.
    """
    rows = features.actor_rows
    named = np.diff(rows.indptr) > 0
    shared = rows[left].multiply(rows[right]).getnnz(axis=1)
    hit = named[left] & named[right] & (shared == 0)
    return np.where(hit, sims * factor, sims)


# A cosine of two float32 unit vectors may pass 1 by a rounding error: this bounds the
# meaning evidence of any pair (cubed, with room to spare).
MEANING_MAX = 1.001


def _day_edges(
    features: Features,
    params: Params,
    x: sparse.csr_matrix,
    when: tuple[np.ndarray, np.ndarray],
    day: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (left, right, similarity) of the pairs of one day's articles with the window's
    that reach EDGE_FLOOR, each pair once.

    The lexical product comes first; a pair's meaning evidence (a dense product each) is
    computed only for pairs that could reach the floor with the best meaning there is. The
    others are left out before, not after: the similarities kept are the very same numbers.
    """
    stamps, days = when
    rows = np.flatnonzero(days == day)
    cols = np.flatnonzero((days >= day) & (days <= day + MAX_GAP_DAYS))
    found = _window_product(x, rows, cols)
    product = found.tocoo()
    left, right = rows[product.row], cols[product.col]
    once = (left < right) | (days[right] > day)  # each pair once
    left, right = left[once], right[once]
    lex, factor = product.data[once], _time_factor(stamps[left] - stamps[right])
    missed = np.zeros(len(lex), dtype=bool)
    if params.title_miss < 1.0:  # both titled, and their titles share no word but names
        shared = _titles_share(features, rows, cols, found)[once]
        missed = features.titled[left] & features.titled[right] & ~shared
    w = params.meaning_weight
    best = ((1 - w) * lex + w * MEANING_MAX) if w > 0 else lex
    best = best * factor * np.where(missed, params.title_miss, 1.0)
    may = best >= EDGE_FLOOR
    left, right, sims, factor, missed = left[may], right[may], lex[may], factor[may], missed[may]
    if w > 0:
        sims = (1 - w) * sims + w * pair_meaning(features.meaning, left, right)
    sims = sims * factor
    if params.title_miss < 1.0:
        sims = np.where(missed, sims * params.title_miss, sims)
    kept = sims >= EDGE_FLOOR
    left, right = left[kept], right[kept]
    sims = _discount_conflicts(features, stamps, (left, right, sims[kept]), params.conflict)
    if params.no_actor < 1.0 and len(sims):
        sims = _discount_no_actor(features, left, right, sims, params.no_actor)
    return left, right, sims


def similarity_edges(
    articles: Sequence[Article], features: Features, params: Params = PARAMS
) -> dict[int, dict[int, float]]:
    """Return each article's strongest similarities to others (a sparse graph).

    Articles are compared day by day with the days up to MAX_GAP_DAYS later, so a week
    of news costs seven times a day's, not forty-nine. Only each article's NEIGHBOURS
    strongest links are kept: they decide its cluster, and the tail would only cost memory.
    """
    x = weighted_matrix(features, params)
    stamps = np.array([a.published.timestamp() / 3600.0 for a in articles])
    days = np.floor(stamps / 24.0).astype(np.int64)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for day in np.unique(days).tolist():
        left, right, sims = _day_edges(features, params, x, (stamps, days), day)
        parts.append(
            (np.concatenate([left, right]), np.concatenate([right, left]), np.tile(sims, 2))
        )
    return _strongest(parts, len(articles))


# Pairs whose vectors are multiplied at once: the two blocks gathered stay in the processor's
# cache (twice as fast as 200,000 at once, and the same numbers: each pair is its own sum).
MEANING_CHUNK = 8192


def pair_meaning(vectors: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Return the meaning evidence of each pair (left[k], right[k]): its cosine, cubed, >= 0.

    Cubed: any two news articles of one language are a little alike (0.3 is typical for two
    topics), and only the near-identical meaning of one story should count for much.
    """
    out = np.empty(len(left), dtype=np.float64)
    for start in range(0, len(left), MEANING_CHUNK):
        stop = start + MEANING_CHUNK
        cos = np.einsum("ij,ij->i", vectors[left[start:stop]], vectors[right[start:stop]])
        out[start:stop] = np.maximum(cos, 0.0) ** 3
    return out


def _strongest(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], count: int
) -> dict[int, dict[int, float]]:
    """Return the NEIGHBOURS strongest links of each node from (source, target, sim) arrays."""
    edges: dict[int, dict[int, float]] = {i: {} for i in range(count)}
    if not parts:
        return edges
    src, dst, sim = (np.concatenate(p) for p in zip(*parts, strict=True))
    keep = sim >= EDGE_FLOOR  # a discounted pair may have fallen below the floor
    src, dst, sim = src[keep], dst[keep], sim[keep]
    order = np.lexsort((-sim, src))  # by article, strongest first
    src, dst, sim = src[order], dst[order], sim[order]
    starts = np.flatnonzero(np.r_[True, src[1:] != src[:-1]])
    rank = np.arange(len(src)) - np.repeat(starts, np.diff(np.r_[starts, len(src)]))
    top = rank < NEIGHBOURS
    src, dst, sim = src[top], dst[top], sim[top]
    bounds = np.flatnonzero(np.r_[True, src[1:] != src[:-1], True]).tolist() if len(src) else []
    nodes, targets, values = src.tolist(), dst.tolist(), sim.tolist()
    for start, stop in itertools.pairwise(bounds):  # a node's links at once
        edges[nodes[start]] = dict(zip(targets[start:stop], values[start:stop], strict=True))
    return edges
