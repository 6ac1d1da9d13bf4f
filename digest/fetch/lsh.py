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

The buckets (digest/fetch/buckets.py) give a text's candidates: the rows sharing a band key
with it; they are compared in one numpy operation. `resolve_many` resolves a transaction's
texts together, as `resolve` would one after the other: one numpy lookup for the batch
(73 us a text one by one, issue 11), and the texts that share a band with a text added by
the same batch are looked up again, in order, once it is added.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from digest.fetch.buckets import BANDS, MAX_CANDIDATES, MERGE_AT, U8, U32, Buckets, band_keys
from digest.fetch.dedup import PERMUTATIONS, SAME, jaccard, signature

__all__ = ["BANDS", "MERGE_AT", "FingerprintIndex", "band_keys"]

# Whether a count of equal bytes makes two texts one, computed as _nearest does it.
_SAME_AT = np.array([jaccard(e / PERMUTATIONS) >= SAME for e in range(PERMUTATIONS + 1)])
_NONE, _TOO_MANY = -1, -2  # _nearest_many: no near duplicate; over MAX_CANDIDATES to compare


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
        self._buckets = Buckets()
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
                self._buckets.add([keys.tolist()], row)
                if self._count - self._merged >= MERGE_AT:
                    self._merge()
            self._seen[row] = max(self._seen[row], seen)
            return fp if row == self._rows.get(raw) else self._sigs[row].tobytes().hex()

    def resolve_many(self, fps: Sequence[str], seen: float = math.inf) -> list[str]:
        """Return what resolve(fp, seen) would for each of fps in turn, looked up all at once."""
        sigs = [signature(fp) for fp in fps]
        out = list(fps)
        with self._lock:
            todo = [i for i, sig in enumerate(sigs) if sig is not None]
            while todo:  # a merge due halfway changes the buckets: the rest is looked up again
                todo = self._resolve_run(fps, sigs, todo, seen, out)
        return out

    def _resolve_run(
        self,
        fps: Sequence[str],
        sigs: list[U8 | None],
        todo: list[int],
        seen: float,
        out: list[str],
    ) -> list[int]:
        """Resolve todo in order into out; return the items left when a merge fell due."""
        batch = np.stack([s for s in (sigs[i] for i in todo) if s is not None])
        keys = band_keys(batch)
        found = self._nearest_many(batch, keys)
        # Rows added by this run (or shown again by this seen time) are not in found: an item
        # sharing a band with one is looked up again, after they are added (as resolve would).
        new = _Pending(self._count)
        dirty: set[int] = set()
        key_lists = keys.tolist()
        for k, i in enumerate(todo):
            raw = batch[k].tobytes()
            row = self._rows.get(raw, new.rows.get(raw))
            if row is not None:
                self._bump(row, seen, dirty)
                continue  # out[i] is fp already, as resolve returns for a known text
            if found[k] == _TOO_MANY or not dirty.isdisjoint(key_lists[k]):
                self._flush(new, seen)
                row = self._nearest(batch[k], keys[k])
            elif found[k] != _NONE:
                row = found[k]
            if row is not None:
                self._bump(row, seen, dirty)
                out[i] = self._sigs[row].tobytes().hex()
                continue
            new.add(raw, batch[k], key_lists[k])
            dirty.update(key_lists[k])
            if new.end - self._merged >= MERGE_AT:
                self._flush(new, seen)
                self._merge()
                return todo[k + 1 :]
        self._flush(new, seen)
        return []

    def _bump(self, row: int, seen: float, dirty: set[int]) -> None:
        """Mark a row seen at seen; a row it shows again adds its bands to dirty."""
        if row >= self._count:
            return  # added by this run, with this seen time
        old = float(self._seen[row])
        if old < seen:
            self._seen[row] = seen
            if old < self._since <= seen:
                dirty.update(band_keys(self._sigs[row : row + 1])[0].tolist())

    def _flush(self, new: _Pending, seen: float) -> None:
        """Add the rows of a run that are not added yet."""
        if not new.raws:
            return
        start = self._append(new.raws, np.stack(new.sigs), np.full(len(new.raws), seen))
        self._buckets.add(new.keys, start)
        new.clear(self._count)

    def _nearest_many(self, sigs: U8, keys: U32) -> list[int]:
        """Return each signature's nearest visible row (as _nearest), _NONE or _TOO_MANY."""
        items, rows = self._buckets.candidates_many(keys)
        best = np.full(len(sigs), _NONE, dtype=np.int64)
        if not len(rows):
            return best.tolist()
        # Each (item, row) once, by item then row: as _candidates' sorted set.
        pairs = np.unique((items.astype(np.int64) << 32) | rows)
        items, rows = pairs >> 32, pairs & 0xFFFFFFFF
        best[np.bincount(items, minlength=len(sigs)) > MAX_CANDIDATES] = _TOO_MANY
        keep = (self._seen[rows] >= self._since) & (best[items] != _TOO_MANY)
        items, rows = items[keep], rows[keep]
        if not len(rows):
            return best.tolist()
        equal = (self._sigs[rows] == sigs[items]).sum(axis=1, dtype=np.int64)
        # The most equal bytes, then the lowest row: _nearest's argmax over ascending rows.
        score = (equal << 32) - rows
        firsts, starts = np.unique(items, return_index=True)
        top = np.maximum.reduceat(score, starts)
        equal_top = -(-top >> 32)
        ok = _SAME_AT[equal_top]
        best[firsts[ok]] = (equal_top << 32)[ok] - top[ok]
        return best.tolist()

    def expire(self, before: float) -> None:
        """Ignore texts last seen before a POSIX time; drop them once they are half the index."""
        with self._lock:
            self._since = before
            keep = self._seen[: self._count] >= before
            if self._count and 2 * int(np.count_nonzero(keep)) <= self._count:
                self._compact(keep)

    def _nearest(self, sig: U8, keys: U32) -> int | None:
        found = self._buckets.candidates(keys)
        if not found:
            return None
        rows = np.array(found, dtype=np.int64)
        rows = rows[self._seen[rows] >= self._since]
        if not len(rows):
            return None
        equal = (self._sigs[rows] == sig).sum(axis=1)
        best = int(equal.argmax())  # the first of equals: the oldest copy
        return int(rows[best]) if jaccard(int(equal[best]) / PERMUTATIONS) >= SAME else None

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
        self._buckets.merge(band_keys(self._sigs[start:end]), start)
        self._merged = end

    def _compact(self, keep: npt.NDArray[np.bool_]) -> None:
        kept = np.flatnonzero(keep)
        sigs, seen = self._sigs[kept], self._seen[kept]
        self._rows, self._count, self._merged = {}, 0, 0
        self._buckets.clear()
        self._append([bytes(s) for s in sigs], sigs, seen)
        self._merge()


class _Pending:
    """Rows a resolve_many run has decided to add, added together (before any new lookup)."""

    def __init__(self, start: int) -> None:
        self.raws: list[bytes] = []
        self.sigs: list[U8] = []
        self.keys: list[list[int]] = []
        self.rows: dict[bytes, int] = {}
        self.end = start  # the row count once they are added

    def add(self, raw: bytes, sig: U8, keys: list[int]) -> None:
        """Plan a new row."""
        self.rows[raw] = self.end
        self.raws.append(raw)
        self.sigs.append(sig)
        self.keys.append(keys)
        self.end += 1

    def clear(self, start: int) -> None:
        """Forget the planned rows: they were added, and are known by the index's rows."""
        self.raws, self.sigs, self.keys, self.rows = [], [], [], {}
        self.end = start
