"""Find a new text's near duplicate among the known ones: MinHash LSH, O(1) candidates per text.

Own banding rather than datasketch's MinHashLSH, because fingerprints are b-bit MinHash: 64
one-byte values (digest/fetch/dedup.py), kept as they are so stored fingerprints stay
comparable. Two unrelated texts share a one-byte value 1 time in 256, so a band of r bytes
collides by chance 256**-r; datasketch picks its bands for full 32-bit values, where chance
collisions are nil. Measured on the dev corpora (ru-news, eval and feed-fixture texts: 4,523
fingerprints, 10.2 M unrelated pairs; `python bench/dedup_bands.py`), with the share of true
pairs found at Jaccard 0.5 / 0.6 (simulated):

    32 bands x 2 bytes (before)   6.8e-4 of unrelated pairs share a band   0.9998 / 1.0
    21 bands x 3 bytes            6.4e-6                                    0.942  / 0.994
    32 bands x 4 bytes            1.2e-6                                    0.841  / 0.975
    42 bands x 3 bytes            1.3e-5                                    0.991  / 0.9998

Hence 42 bands of 3 bytes, each byte in two bands (bands need not be disjoint: more bands find
more true pairs for the same chance rate per band): at 100,000 known texts a lookup meets
about 1.3 unrelated candidates, where 2-byte bands met 68.

The buckets are a sorted array of (band key, row) pairs plus a dict of the rows added since
the last merge: a lookup is two binary searches and a set intersection, candidates are
compared in one numpy operation, and a merge (one numpy insert, when the dict holds MERGE_AT
rows) costs a few microseconds per row added at 100,000 texts.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from digest.fetch.dedup import PERMUTATIONS, SAME, jaccard, signature

ROW_BYTES = 3
MERGE_AT = 2048  # rows kept in the dict before they join the sorted array
# A bound on the work per lookup: only many texts that all look alike (a template) reach it,
# and then the most recent ones are compared.
MAX_CANDIDATES = 1024

U8 = npt.NDArray[np.uint8]
U32 = npt.NDArray[np.uint32]
I32 = npt.NDArray[np.int32]


def _bands() -> npt.NDArray[np.intp]:
    # Two shuffles of the 64 positions cut into 21 triples each: every byte is in two bands.
    # Seeded so that the bands (and the candidate sets) are the same in every process.
    rng = np.random.default_rng(20261130)
    per = PERMUTATIONS // ROW_BYTES
    return np.concatenate(
        [
            np.sort(rng.permutation(PERMUTATIONS)[: per * ROW_BYTES].reshape(per, ROW_BYTES), 1)
            for _ in range(2)
        ]
    )


BANDS = _bands()
_SHIFTS = np.array([16, 8, 0], dtype=np.uint32)
# 42 bands fit in 6 bits above the 24 bits of a 3-byte band value: one uint32 per key.
_OFFSETS = np.arange(len(BANDS), dtype=np.uint32) << np.uint32(24)


def band_keys(signatures: U8) -> U32:
    """Return the (n, 42) band keys of n signatures (each key: band number, then 3 bytes)."""
    picked = signatures[:, BANDS].astype(np.uint32)
    keys: U32 = (picked << _SHIFTS).sum(axis=2, dtype=np.uint32) | _OFFSETS
    return keys


class FingerprintIndex:
    """Known fingerprints; `resolve` maps a new one onto a near duplicate already known.

    Thread-safe (one lock): a fetch pass uses it from its storage thread, and the service
    keeps it between passes. Each text has a last-seen time; `expire` hides texts not seen
    since a time and drops them once they are half of the index. About 600 bytes a text.
    """

    def __init__(self, known: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._rows: dict[bytes, int] = {}  # a signature's 64 bytes -> its row
        self._count = 0
        self._sigs: U8 = np.empty((64, PERMUTATIONS), dtype=np.uint8)  # grows by doubling
        self._seen = np.empty(64, dtype=np.float64)
        self._keys: U32 = np.empty(0, dtype=np.uint32)  # sorted band keys of merged rows
        self._key_rows: I32 = np.empty(0, dtype=np.int32)
        self._recent: dict[int, list[int]] = {}
        self._merged = 0
        self._since = -math.inf
        self.last_id = 0  # the highest stored article id this index has read
        self.add_known((fp, math.inf) for fp in known)

    def __len__(self) -> int:
        return self._count

    def add_known(self, found: Iterable[tuple[str, float]]) -> None:
        """Remember stored (already resolved) fingerprints with their fetch times, unresolved."""
        with self._lock:
            fresh: dict[bytes, float] = {}
            for fp, seen in found:
                sig = signature(fp)
                if sig is None:
                    continue
                raw = sig.tobytes()
                row = self._rows.get(raw)
                if row is not None:
                    self._seen[row] = max(self._seen[row], seen)
                else:
                    fresh[raw] = max(fresh.get(raw, -math.inf), seen)
            if fresh:
                sigs = np.frombuffer(b"".join(fresh), dtype=np.uint8).reshape(-1, PERMUTATIONS)
                self._append(list(fresh), sigs, np.fromiter(fresh.values(), np.float64))
                self._merge()

    def resolve(self, fp: str, seen: float = math.inf) -> str:
        """Return the known fingerprint similar to fp (>= SAME), else remember fp and return it.

        seen is the POSIX time the text was fetched (it keeps the text from expiring).
        """
        sig = signature(fp)
        if sig is None:
            return fp  # '' or malformed: not a text to compare
        raw = sig.tobytes()
        with self._lock:
            row = self._rows.get(raw)
            if row is None:
                keys = band_keys(sig[None, :])[0]
                row = self._nearest(sig, keys)
            if row is None:
                row = self._append([raw], sig[None, :], np.array([seen]))
                for key in keys.tolist():
                    self._recent.setdefault(key, []).append(row)
                if self._count - self._merged >= MERGE_AT:
                    self._merge()
            self._seen[row] = max(self._seen[row], seen)
            return fp if row == self._rows.get(raw) else self._sigs[row].tobytes().hex()

    def expire(self, before: float) -> None:
        """Ignore texts last seen before a POSIX time; drop them once they are half the index."""
        with self._lock:
            self._since = before
            keep = self._seen[: self._count] >= before
            if self._count and 2 * int(np.count_nonzero(keep)) <= self._count:
                self._compact(keep)

    def _nearest(self, sig: U8, keys: U32) -> int | None:
        found = self._candidates(keys)
        if not found:
            return None
        rows = np.array(found, dtype=np.int64)
        rows = rows[self._seen[rows] >= self._since]
        if not len(rows):
            return None
        equal = (self._sigs[rows] == sig).sum(axis=1)
        best = int(equal.argmax())  # the first of equals: the oldest copy
        return int(rows[best]) if jaccard(int(equal[best]) / PERMUTATIONS) >= SAME else None

    def _candidates(self, keys: U32) -> list[int]:
        """Return the rows sharing a band with keys, ascending (at most MAX_CANDIDATES)."""
        found: set[int] = set()
        if len(self._keys):
            lo = np.searchsorted(self._keys, keys)
            hit = np.flatnonzero(self._keys[np.minimum(lo, len(self._keys) - 1)] == keys)
            if len(hit):
                hi = np.searchsorted(self._keys, keys[hit], side="right")
                for a, b in zip(lo[hit].tolist(), hi.tolist(), strict=True):
                    found.update(self._key_rows[max(a, b - MAX_CANDIDATES) : b].tolist())
        # A set intersection in C: most of the 42 keys are in no bucket.
        for key in self._recent.keys() & keys.tolist():
            found.update(self._recent[key])
        return sorted(found)[-MAX_CANDIDATES:]

    def _append(self, raws: list[bytes], sigs: U8, seen: npt.NDArray[np.float64]) -> int:
        start, end = self._count, self._count + len(raws)
        if end > len(self._seen):
            size = max(end, 2 * len(self._seen))
            self._sigs = np.resize(self._sigs, (size, PERMUTATIONS))
            self._seen = np.resize(self._seen, size)
        self._sigs[start:end] = sigs
        self._seen[start:end] = seen
        self._rows.update(zip(raws, range(start, end), strict=True))
        self._count = end
        return start

    def _merge(self) -> None:
        start, end = self._merged, self._count
        if start == end:
            return
        keys = band_keys(self._sigs[start:end]).ravel()
        rows = np.repeat(np.arange(start, end, dtype=np.int32), len(BANDS))
        order = np.argsort(keys, kind="stable")  # equal keys keep their rows in order
        keys, rows = keys[order], rows[order]
        # 'right': after the older rows with the same key, so bucket rows stay ascending.
        at = np.searchsorted(self._keys, keys, side="right")
        self._keys = np.insert(self._keys, at, keys)
        self._key_rows = np.insert(self._key_rows, at, rows)
        self._recent.clear()
        self._merged = end

    def _compact(self, keep: npt.NDArray[np.bool_]) -> None:
        kept = np.flatnonzero(keep)
        sigs, seen = self._sigs[kept], self._seen[kept]
        self._rows, self._count, self._merged = {}, 0, 0
        self._keys, self._key_rows = self._keys[:0], self._key_rows[:0]
        self._recent.clear()
        self._append([bytes(s) for s in sigs], sigs, seen)
        self._merge()
