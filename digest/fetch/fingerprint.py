"""A text's near-duplicate fingerprint: b-bit MinHash over word 3-shingles, hashed by numpy.

64 hash functions, 8 bits kept of each: the share of equal bytes between two fingerprints
estimates the texts' Jaccard similarity (digest/fetch/dedup.py compares them, digest/fetch/
lsh.py finds them). Fingerprints stored before this hashing (schema < 5) are marked stale by
the store's migration and recomputed on the first pass that uses them (storing.py).

Hashing by hand with numpy rather than a library (datasketch hashes each shingle with SHA-1
in a Python loop): a word (`\\w+` of the casefolded text) is hashed from the code points of
its first WORD_CHARS characters (zero-padded), a shingle's hash combines its three words',
and one multiply-shift per hash function permutes them all.

`fingerprints` does this for many texts at once (a feed's items): the texts are joined, the
words found by a lookup table over their UTF-32 code points instead of a regex, and each
numpy step runs once for the batch, whose per-call overhead was most of a short text's cost
(9 to 4 ms per 50-item feed of 3,000-character items). The values are exactly
those of the per-text formulation (tests/textreference.py keeps it as the reference):
stored fingerprints stay valid.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import cache

import numpy as np
import numpy.typing as npt

PERMUTATIONS = 64
WORD_CHARS = 16  # longer words are hashed by their first 16 characters
_WORD_CHAR = re.compile(r"\w", re.UNICODE)  # what a word is made of, as the table says
_RNG = np.random.default_rng(20261125)  # fixed seed: fingerprints must be stable across runs
_A = _RNG.integers(1, 2**63, PERMUTATIONS, dtype=np.uint64) | np.uint64(1)
_B_COLUMN = _RNG.integers(0, 2**63, PERMUTATIONS, dtype=np.uint64)[:, None]
# FNV-1a's 64-bit prime steps over a word's 8-byte blocks; splitmix64's finaliser mixes.
_PRIME = np.uint64(0x100000001B3)
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_FIRST, _SECOND = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F)
_S27, _S30, _S31 = np.uint64(27), np.uint64(30), np.uint64(31)
_LOW_BYTE = np.uint64(0xFF)
_BMP = 0x10000
_COLUMNS = np.arange(WORD_CHARS)
# A batch's temporaries grow with its words (8 permutations x shingles x 8 bytes at once):
# about 100,000 characters keeps them near the L2 cache whatever the texts' lengths.
_BATCH_CHARS = 100_000
_ROWS = 8  # permutations computed at once: (8, shingles) stays in cache, (64, n) did not

U64 = npt.NDArray[np.uint64]
Index = npt.NDArray[np.intp]


def fingerprint(text: str) -> str:
    """Return the text's MinHash signature as 128 hex digits ('' for a text with no words)."""
    return fingerprints([text])[0]


def fingerprints(texts: Sequence[str]) -> list[str]:
    """Return each text's fingerprint, as `fingerprint` gives it, hashing them in batches."""
    out: list[str] = []
    for batch in _batches(texts):
        out.extend(_batch_fingerprints(batch))
    return out


def _batches(texts: Sequence[str]) -> Iterator[Sequence[str]]:
    start, chars = 0, 0
    for i, text in enumerate(texts):
        if chars and chars + len(text) > _BATCH_CHARS:
            yield texts[start:i]
            start, chars = i, 0
        chars += len(text)
    if start < len(texts):
        yield texts[start:]


def _batch_fingerprints(texts: Sequence[str]) -> list[str]:
    folded = [text.casefold() for text in texts]
    # "\0" is no word character: no word runs from one text into the next.
    points = np.frombuffer("\0".join(folded).encode("utf-32-le", "surrogatepass"), np.uint32)
    starts, ends = _word_spans(points)
    out = [""] * len(texts)
    if not len(starts):
        return out
    sizes = np.array([len(f) + 1 for f in folded])
    owner = np.searchsorted(np.cumsum(sizes) - sizes, starts, side="right") - 1  # text of a word
    with np.errstate(over="ignore"):  # every step is wrapping uint64 arithmetic
        words = _word_hashes(points, starts, ends)
        shingles, shingle_owner = _shingle_hashes(words, owner, len(texts))
        worded = np.flatnonzero(np.bincount(owner, minlength=len(texts)))
        minima = _minima(shingles, np.searchsorted(shingle_owner, worded))
    raw = (minima & _LOW_BYTE).astype(np.uint8).T.tobytes()
    for row, i in enumerate(worded.tolist()):
        out[i] = raw[row * PERMUTATIONS : (row + 1) * PERMUTATIONS].hex()
    return out


@cache
def _word_table() -> npt.NDArray[np.int8]:
    # 1 for the code points below U+10000 that `\w` matches, built once per process from
    # the regex itself (so it agrees with it); index _BMP stands for any higher code point.
    table = np.zeros(_BMP + 1, dtype=np.int8)
    every = "".join(map(chr, range(_BMP)))
    table[[m.start() for m in _WORD_CHAR.finditer(every)]] = 1
    return table


def _word_spans(points: npt.NDArray[np.uint32]) -> tuple[Index, Index]:
    # Each word's first code point and the one after its last: where the flags change.
    flags = np.zeros(len(points) + 2, dtype=np.int8)
    high = len(points) > 0 and int(points.max()) >= _BMP
    flags[1:-1] = _word_table().take(np.minimum(points, _BMP) if high else points)
    if high:  # an emoji, a rare CJK character: asked of the regex one by one
        for i in np.flatnonzero(points >= _BMP).tolist():
            flags[i + 1] = _WORD_CHAR.match(chr(points[i])) is not None
    edges = np.flatnonzero(flags[1:] != flags[:-1])
    return edges[0::2], edges[1::2]


def _word_hashes(points: npt.NDArray[np.uint32], starts: Index, ends: Index) -> U64:
    # Each word's first WORD_CHARS code points, zero-padded, read as WORD_CHARS / 2 blocks of
    # 8 bytes: what numpy's "<U16" array of the word strings held before.
    padded = np.zeros(len(points) + WORD_CHARS, dtype=np.uint32)
    padded[: len(points)] = points
    windows = np.lib.stride_tricks.as_strided(
        padded, shape=(len(points) + 1, WORD_CHARS), strides=(4, 4), writeable=False
    )
    chars = windows[starts]
    chars *= (ends - starts)[:, None] > _COLUMNS  # the columns past a word's end
    blocks = chars.view(np.uint64)
    h = blocks[:, 0] * _PRIME
    for column in range(1, WORD_CHARS // 2):
        h ^= blocks[:, column]
        h *= _PRIME
    return _mix(h)


def _shingle_hashes(words: U64, owner: Index, texts: int) -> tuple[U64, Index]:
    # Order matters ("a b c" is not "c b a"): each position has its own multiplier. A
    # shingle starts at every word two words before its text's end; a text of one or two
    # words is one shingle, its first word's times _FIRST plus its second word's (if any).
    n = len(words)
    second = np.zeros(n, dtype=np.uint64)
    second[:-1] = words[1:]
    third = np.zeros(n, dtype=np.uint64)
    third[:-2] = words[2:]
    h = words * _FIRST
    h += second
    short = h.copy()
    h *= _SECOND
    h += third
    kept = np.zeros(n, dtype=bool)
    kept[:-2] = owner[2:] == owner[:-2]
    counts = np.bincount(owner, minlength=texts)
    few = np.flatnonzero((counts > 0) & (counts < 3))
    if len(few):
        firsts = (np.cumsum(counts) - counts)[few]
        h[firsts] = short[firsts] - np.where(counts[few] == 1, second[firsts], np.uint64(0))
        kept[firsts] = True
    return _mix(h[kept]), owner[kept]


def _minima(shingles: U64, segments: Index) -> U64:
    # Each text's minimum of every permutation (A * h + B) of its shingles: (64, texts).
    out = np.empty((PERMUTATIONS, len(segments)), dtype=np.uint64)
    for row in range(0, PERMUTATIONS, _ROWS):
        permuted = np.multiply.outer(_A[row : row + _ROWS], shingles)
        permuted += _B_COLUMN[row : row + _ROWS]
        out[row : row + _ROWS] = np.minimum.reduceat(permuted, segments, axis=1)
    return out


def _mix(h: U64) -> U64:
    h ^= h >> _S30
    h *= _MIX1
    h ^= h >> _S27
    h *= _MIX2
    h ^= h >> _S31
    return h
