"""The near-duplicate index's band buckets: which known rows share a band key with a text.

A sorted array of (band key, row) pairs plus dicts of the rows added since the last merge:
a lookup is two binary searches and a set intersection, and a merge (one numpy insert, when
the dicts hold MERGE_AT rows) costs a few microseconds per row added at 100,000 texts. The
dicts map a key to its first recent row, and only keys with more rows to a list: a list per
key cost twice the time to fill (10-30 us a row of 42 keys, most of them in no other row).

`candidates_many` looks up a batch of texts at once (FingerprintIndex.resolve_many): the
same rows as `candidates` for each, found with a few numpy calls for the whole batch.
"""

from __future__ import annotations

from itertools import repeat

import numpy as np
import numpy.typing as npt

from digest.fetch.dedup import PERMUTATIONS

ROW_BYTES = 3
MERGE_AT = 2048  # rows kept in the dicts before they join the sorted array
# A bound on the work per lookup: only many texts that all look alike (a template) reach it,
# and then the most recent ones are compared.
MAX_CANDIDATES = 1024

U8 = npt.NDArray[np.uint8]
U32 = npt.NDArray[np.uint32]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]


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


def distinct(ordered: I64) -> I64:
    """Return a sorted array without repeats (np.unique hashes: slower on these sizes)."""
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered


def sharing_pairs(keys: U32) -> tuple[I64, I64]:
    """Return each pair (i, j), i < j, of rows of keys ((n, 42) band keys) sharing a key, once."""
    # Sorted by key, then by position: a key's rows are a run, in ascending order.
    flat = np.sort(
        (keys.ravel().astype(np.uint64) << np.uint64(32)) | np.arange(keys.size, dtype=np.uint64)
    )
    items = ((flat & np.uint64(0xFFFFFFFF)) // np.uint64(len(BANDS))).astype(np.int64)
    flat = flat >> np.uint64(32)
    at = np.arange(len(flat))
    run_start = np.maximum.accumulate(np.where(np.r_[True, flat[1:] != flat[:-1]], at, 0))
    sizes = at - run_start  # earlier rows with the same key
    offsets = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    pairs = np.sort(
        items[np.repeat(run_start, sizes) + offsets] * len(keys) + np.repeat(items, sizes)
    )
    pairs = distinct(pairs)
    return pairs // len(keys), pairs % len(keys)


def earlier_sharing(sigs: U8, keys: U32) -> dict[int, list[tuple[int, int]]]:
    """Return, for each item sharing a band with earlier ones, (earlier item, equal bytes)."""
    first, then = sharing_pairs(keys)
    equal = (sigs[first] == sigs[then]).sum(axis=1)
    out: dict[int, list[tuple[int, int]]] = {}
    for i, j, e in zip(first.tolist(), then.tolist(), equal.tolist(), strict=True):
        out.setdefault(j, []).append((i, e))
    return out


class Buckets:
    """Rows by band key; not thread-safe (the index holds its lock around every call)."""

    def __init__(self) -> None:
        self._keys: U32 = np.empty(0, dtype=np.uint32)  # sorted band keys of merged rows
        self._key_rows: I32 = np.empty(0, dtype=np.int32)
        self._recent: dict[int, int] = {}  # key -> the first row added with it since a merge
        self._more: dict[int, list[int]] = {}  # key -> its other rows added since a merge

    def add(self, keys: list[list[int]], start: int) -> None:
        """Put rows start, start + 1, ... (keys: each one's 42 band keys) in the dicts."""
        recent, more = self._recent, self._more
        for row, row_keys in enumerate(keys, start):
            for key in row_keys:
                if key in recent:
                    more.setdefault(key, []).append(row)
                else:
                    recent[key] = row

    def merge(self, keys: U32, start: int) -> None:
        """Move rows start.. (keys: their band keys, all the rows in the dicts) to the array."""
        # Sorted by key, then row (one uint64 sort: a stable argsort took twice the time).
        rows = np.arange(start, start + len(keys), dtype=np.uint64).repeat(len(BANDS))
        both = np.sort((keys.ravel().astype(np.uint64) << np.uint64(32)) | rows)
        flat = (both >> np.uint64(32)).astype(np.uint32)
        # 'right': after the older rows with the same key, so bucket rows stay ascending.
        at = np.searchsorted(self._keys, flat, side="right") + np.arange(len(flat))
        old = np.ones(len(self._keys) + len(flat), dtype=bool)
        old[at] = False
        merged_keys, merged_rows = np.empty(len(old), np.uint32), np.empty(len(old), np.int32)
        merged_keys[at], merged_keys[old] = flat, self._keys
        merged_rows[at], merged_rows[old] = both & np.uint64(0xFFFFFFFF), self._key_rows
        self._keys, self._key_rows = merged_keys, merged_rows
        self._recent.clear()
        self._more.clear()

    def clear(self) -> None:
        """Forget every row."""
        self._keys, self._key_rows = self._keys[:0], self._key_rows[:0]
        self._recent.clear()
        self._more.clear()

    def candidates(self, keys: U32) -> list[int]:
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
            found.add(self._recent[key])
            found.update(self._more.get(key, ()))
        return sorted(found)[-MAX_CANDIDATES:]

    def candidates_many(self, keys: U32) -> tuple[I64, I64]:
        """Return (item, row) pairs: the rows `candidates` finds for each item's keys, uncut
        (repeats too; the caller applies MAX_CANDIDATES to what it has sorted)."""
        flat = keys.ravel()
        items: list[I64] = [np.empty(0, np.int64)]
        rows: list[I64] = [np.empty(0, np.int64)]
        if len(self._keys):
            # Sorted needles: each binary search starts where the last one ended (half the time).
            order = np.argsort(flat)
            lo = np.empty(len(flat), dtype=np.intp)
            lo[order] = np.searchsorted(self._keys, flat[order])
            hit = np.flatnonzero(self._keys[np.minimum(lo, len(self._keys) - 1)] == flat)
            hi = np.searchsorted(self._keys, flat[hit], side="right")
            lo = np.maximum(lo[hit], hi - MAX_CANDIDATES)
            sizes = hi - lo
            # Every row of every [lo, hi) range, without a Python loop over the ranges.
            offsets = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
            rows.append(self._key_rows[np.repeat(lo, sizes) + offsets].astype(np.int64))
            items.append(np.repeat(hit // len(BANDS), sizes))
        if self._recent:
            # Each key's first recent row (-1: none), looked up by map() in C.
            flat_list = flat.tolist()
            first = np.fromiter(map(self._recent.get, flat_list, repeat(-1)), np.int64, len(flat))
            at = np.flatnonzero(first >= 0)
            rows.append(first[at])
            items.append(at // len(BANDS))
            several = self._more.keys() & flat[at].tolist()  # the few keys of several rows
            extra_items: list[int] = []
            extra_rows: list[int] = []
            if several:
                at = at[np.isin(flat[at], np.fromiter(several, np.uint32, len(several)))]
            for pos in at.tolist() if several else ():
                extra_rows += self._more[flat_list[pos]]
                extra_items += [pos // len(BANDS)] * len(self._more[flat_list[pos]])
            items.append(np.array(extra_items, dtype=np.int64))
            rows.append(np.array(extra_rows, dtype=np.int64))
        return np.concatenate(items), np.concatenate(rows)
