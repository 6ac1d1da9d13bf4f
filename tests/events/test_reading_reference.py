"""The events stage's fast paths give exactly what the plain computations they replace give.

Differential tests: each plain computation is kept here as the reference (the way the stage
first did it: every word of the lead matched and looked up, a set of every lower-case word,
every pair of articles compared before any was left out, every pair pushed on the linkage
heap), and the stage's output is compared with it on the real texts of the fixtures (licences
in tests/data), on strings made to hit the edges, and on seeded random strings.
"""

from __future__ import annotations

import heapq
import json
import math
import random
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from textreference import real_texts

from digest.events import similarity, values
from digest.events.cluster import average_linkage
from digest.events.meaning import meaning_vectors
from digest.events.similarity import (
    EDGE_FLOOR,
    MAX_GAP_DAYS,
    NEIGHBOURS,
    PARAMS,
    Params,
    article_features,
    no_shared_actor,
    pair_meaning,
    similarity_edges,
    weighted_matrix,
)
from digest.models import Article
from digest.text import STOP_WORDS, stemmer

DATA = Path(__file__).resolve().parents[1] / "data" / "eval"
START = datetime(2024, 3, 1, tzinfo=UTC)

# Strings at the edges of the token and name rules: digits glued to letters, number words
# beside other words, case folding that str.lower and the pattern engine do differently.
EDGES = [
    "5three 3five three5 5G 10k $5m 2bn 1,5 млрд 1,500 people 3 000 000 rubles",
    "half a billion, half an hour, half of a million, half half a million, Half A Million",
    "полмиллиона, полтысячи, пол-миллиона, полиция, политика, пол года, половина",
    "twenty-five, twenty five, Twenty-Five, двадцать пять, трое, ТРОЕ, Трое суток",
    "İstanbul İSTANBUL ſix Kelvin \u212aK a_b _three three_ ²three ½ 3²",
    "A man. An owl. a. an. «Трое» (two) [three] two-thirds three-quarters",
    "The E-mail from E. Smith: e-mail, St. Louis, Dr. Who, dr, st, US and us, USA",
    "Mr. Smith met Ms. Jones. Smith said: «Путин и путин», Путина; iPhone and Iphone.",
    "",
    "x",
    "3",
]


def _random_strings(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    pieces = [
        *"aA5 ,.-_'’²İıſKk\u00a0\u202f\n.!?«»ЁёÀàÿøÞ",
        *["half", "a", "an", "million", "Пол", "пол", "ТРОЕ", "трое", "1,5", "3 000", "twenty"],
        *["-five", "Police ", "police", "iPhone", "Путин", "путин", "The ", "Dr. ", "г. ", "e"],
    ]
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 40))) for _ in range(count)]


# -- numbers: the lead read word by word ----------------------------------------------------

_PLAIN_TOKEN = re.compile(rf"{values._DIGITS}|(?P<word>[^\W\d_]+)")


def _plain_tokens(text: str) -> list[re.Match[str]]:
    """The lead's every word matched and looked up one by one, then the digits after it."""
    out = []
    for m in _PLAIN_TOKEN.finditer(text, 0, values.WORD_CHARS):
        if m.lastgroup == "word":
            word = m.group(0).lower()
            if word not in values._CANDIDATE_WORDS and not word.startswith(values._CANDIDATE_STEMS):
                continue
        out.append(m)
    if len(text) > values.WORD_CHARS:
        out.extend(values._BODY.finditer(text, values.WORD_CHARS))
    return out


def _tokens_as_read(tokens: list[re.Match[str]]) -> list[tuple[tuple[int, int], dict[str, str]]]:
    return [(m.span(), {k: v for k, v in m.groupdict().items() if v is not None}) for m in tokens]


@pytest.mark.parametrize("texts", ["real", "edges", "random"])
def test_number_tokens_are_those_of_reading_every_word(texts: str) -> None:
    strings = {"real": list(real_texts()), "edges": EDGES, "random": _random_strings(1, 3000)}
    for text in strings[texts]:
        assert _tokens_as_read(values._tokens(text)) == _tokens_as_read(_plain_tokens(text)), text


# -- names: the set of every lower-case word ------------------------------------------------

_LOWER_WORD = re.compile(r"(?<![^\W_])[a-zà-öø-ÿа-яё][^\W_]*")
_PLAIN_CAPITALISED = re.compile(r"(?<![^\W_])[A-ZÀ-ÖØ-ÞА-ЯЁ][^\W_]*(?:[-'’][^\W_]+)*")


def _plain_story_names(title: str, text: str, language: str) -> tuple[list[str], list[str]]:
    """story_names with the set of every word the article writes in lower case."""
    stop = STOP_WORDS.get(language, STOP_WORDS["en"])
    lower = set(_LOWER_WORD.findall(f"{title}\n{text}"))
    parts: list[list[str]] = []
    inside: set[str] = set()
    for part in (title, text):
        words = []
        for m in _PLAIN_CAPITALISED.finditer(part):
            word = m.group(0).lower()
            if word in stop or word in lower:
                continue
            if word not in inside and not values._opens_sentence(part, m.start()):
                inside.add(word)
            words.append(word)
        parts.append(words)
    stem = stemmer(language)
    kept = [[w for w in words if w in inside] for words in parts]
    out = [list(stem.stemWords(k)) if stem else k for k in kept]
    return out[0], out[1]


@pytest.mark.parametrize("texts", ["real", "edges", "random"])
def test_names_are_those_of_every_lower_case_word(texts: str) -> None:
    strings = {"real": list(real_texts()), "edges": EDGES, "random": _random_strings(2, 3000)}
    pairs = list(zip(strings[texts], [*strings[texts][1:], ""], strict=True))
    for language in ("en", "ru"):
        for title, text in pairs:
            expected = _plain_story_names(title, text, language)
            assert values.story_names(title, text, language) == expected, (title, text)


# -- articles: copies read once, pairs left out early -----------------------------------------


def _fixture_articles() -> list[Article]:
    """The fixtures' articles over three days, English and Russian, titled and not."""
    items = []
    for name in (
        "demo-en-ecbplus.jsonl",
        "events-ecbplus-mini.jsonl",
        "ru-news-wrong-merges.jsonl",
    ):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            items.append(json.loads(line))
    for line in (DATA / "pairs-tgcontest-fused.jsonl").read_text(encoding="utf-8").splitlines():
        pair = json.loads(line)
        items += [
            pair["a"] | {"language": pair["language"]},
            pair["b"] | {"language": pair["language"]},
        ]
    articles = []
    for i, item in enumerate(items):
        text = str(item["text"])
        language = item.get("language") or ("ru" if re.search("[а-я]", text[:200]) else "en")
        articles.append(
            Article(
                feed_url=f"https://feed{i % 7}.example/rss",
                source=f"source{i % 7}",
                guid=str(i),
                url=f"https://news.example/{i}",
                title=str(item.get("title") or ""),
                published=START + timedelta(hours=(i * 7) % 72),
                text=text,
                language=language,
                id=i,
            )
        )
    return articles


def _with_copies(articles: list[Article]) -> list[Article]:
    """The articles and, for every third one, a copy told by another outlet an hour later."""
    copies = [
        replace(
            a,
            guid=f"copy{a.guid}",
            url=f"{a.url}/copy",
            published=a.published + timedelta(hours=1),
            id=1000 + i,
        )
        for i, a in enumerate(articles[::3])
    ]
    return articles + copies


def test_a_copy_of_a_text_gives_what_its_original_gives() -> None:
    articles = _with_copies(_fixture_articles())
    features = article_features(articles)
    originals = {(a.title, a.text, a.language): i for i, a in reversed(list(enumerate(articles)))}
    for i, a in enumerate(articles):
        k = originals[(a.title, a.text, a.language)]
        assert features.actors[i] == features.actors[k]
        assert features.own_days[i] == features.own_days[k]
        assert features.all_days[i] == features.all_days[k]
        assert features.updates[i] == features.updates[k]
        assert (features.actor_rows[i] != features.actor_rows[k]).nnz == 0
    # The meaning vectors are those of all the articles, copies and all, at once.
    assert np.array_equal(features.meaning, meaning_vectors(articles))


def _plain_edges(
    articles: list[Article], features: similarity.Features, params: Params
) -> dict[int, dict[int, float]]:
    """Every pair of a window compared, then those under the floor left out."""
    x = weighted_matrix(features, params)
    stamps = np.array([a.published.timestamp() / 3600.0 for a in articles])
    days = np.floor(stamps / 24.0).astype(np.int64)
    found: list[tuple[int, int, float]] = []
    for day in np.unique(days).tolist():
        rows = np.flatnonzero(days == day)
        cols = np.flatnonzero((days >= day) & (days <= day + MAX_GAP_DAYS))
        product = similarity._window_product(x, rows, cols).tocoo()
        left, right = rows[product.row], cols[product.col]
        sims = product.data
        if params.meaning_weight > 0:
            meaning = pair_meaning(features.meaning, left, right)
            sims = (1 - params.meaning_weight) * sims + params.meaning_weight * meaning
        sims = sims * similarity._time_factor(stamps[left] - stamps[right])
        if params.title_miss < 1.0:
            shared = similarity._window_product(features.happened, rows, cols).tocoo()
            codes = product.row * len(cols) + product.col
            hit = np.isin(codes, shared.row * len(cols) + shared.col)
            titled = features.titled[left] & features.titled[right]
            sims = np.where(titled & ~hit, sims * params.title_miss, sims)
        once = (sims >= EDGE_FLOOR) & ((left < right) | (days[right] > day))
        left, right = left[once], right[once]
        sims = similarity._discount_conflicts(
            features, stamps, (left, right, sims[once]), params.conflict
        )
        for i, j, s in zip(left.tolist(), right.tolist(), sims.tolist(), strict=True):
            if params.no_actor < 1.0 and no_shared_actor(features, i, j):
                s *= params.no_actor
            found += [(i, j, s), (j, i, s)]
    edges: dict[int, dict[int, float]] = {i: {} for i in range(len(articles))}
    by_node: dict[int, list[tuple[float, int]]] = {}
    for i, j, s in found:
        if s >= EDGE_FLOOR:
            by_node.setdefault(i, []).append((s, j))
    for i, links in by_node.items():
        for s, j in sorted(links, key=lambda link: -link[0])[:NEIGHBOURS]:
            edges[i][j] = s
    return edges


@pytest.mark.parametrize(
    "params",
    [
        PARAMS,
        replace(PARAMS, meaning_weight=0.1, title_miss=1.0),
        replace(PARAMS, meaning_weight=0.0, no_actor=1.0),
        replace(PARAMS, meaning_weight=0.3, title_miss=0.1, no_actor=0.5, conflict=0.5),
    ],
)
def test_edges_are_those_of_comparing_every_pair(params: Params) -> None:
    articles = _with_copies(_fixture_articles())
    features = article_features(articles)
    got = similarity_edges(articles, features, params)
    expected = _plain_edges(articles, features, params)
    assert {i: set(n) for i, n in got.items()} == {i: set(n) for i, n in expected.items()}
    assert all(got[i][j] == s for i, n in expected.items() for j, s in n.items())
    assert sum(len(n) for n in got.values()) > len(articles)  # the test compares something


# -- linkage: every pair pushed on the heap -------------------------------------------------


def _plain_linkage(
    edges: dict[int, dict[int, float]], threshold: float, margin: float
) -> list[int]:
    """Average linkage with every linked pair on the heap, stopped by the first one below."""
    weight = {i: dict(n) for i, n in edges.items()}
    for i, nbrs in edges.items():
        for j, s in nbrs.items():
            weight[j].setdefault(i, s)
    size = dict.fromkeys(weight, 1)
    heap = [(margin - s, i, j, 1, 1) for i, n in weight.items() for j, s in n.items() if i < j]
    heapq.heapify(heap)
    parent = {i: i for i in weight}
    while heap:
        neg, a, b, sa, sb = heapq.heappop(heap)
        if -neg < threshold:
            break
        if parent[a] != a or parent[b] != b or size[a] != sa or size[b] != sb:
            continue
        parent[b] = a
        size[a] += size[b]
        for c, w in weight.pop(b).items():
            weight[c].pop(b, None)
            if c != a:
                weight[a][c] = weight[a].get(c, 0.0) + w
                weight[c][a] = weight[a][c]
        weight[a].pop(b, None)
        for c, w in weight[a].items():
            k = size[a] * size[c]
            heapq.heappush(heap, (margin / math.sqrt(k) - w / k, a, c, size[a], size[c]))
    labels = []
    for i in range(len(edges)):
        while parent[i] != i:
            i = parent[i]
        labels.append(i)
    return labels


@pytest.mark.parametrize("seed", range(6))
def test_linkage_is_that_of_every_pair_on_the_heap(seed: int) -> None:
    rng = random.Random(seed)
    count = 300
    edges: dict[int, dict[int, float]] = {i: {} for i in range(count)}
    for _ in range(count * 4):
        i, j = rng.sample(range(count), 2)
        edges[i][j] = round(rng.uniform(0.05, 0.6), 3)  # ties too
    margin = [0.0, 0.05][seed % 2]
    labels = average_linkage(edges, 0.24, None, margin)
    assert labels == _plain_linkage(edges, 0.24, margin)
    assert len(set(labels)) < count  # some merged
