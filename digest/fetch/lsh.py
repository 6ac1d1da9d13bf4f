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
texts together, with the result of `resolve` one after the other (73 us a text, the storage
thread's largest cost with the inserts): one numpy lookup among the known texts
for the batch, the pairs of its texts sharing a band compared at once, then a walk in order
that adds the new texts and takes as a candidate each earlier text of the batch that was
added. The rare cases that lookup cannot settle (over MAX_CANDIDATES candidates, a hidden
text seen again) are looked up one by one, as resolve does, and so are batches under FEW.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from digest.fetch.buckets import (
    BANDS,
    MAX_CANDIDATES,
    MERGE_AT,
    U8,
    U32,
    Buckets,
    band_keys,
    distinct,
    earlier_sharing,
)
from digest.fetch.dedup import PERMUTATIONS, SAME, jaccard, signature

__all__ = ["BANDS", "MERGE_AT", "FingerprintIndex", "band_keys"]

# Whether a count of equal bytes makes two texts one, computed as _nearest does it.
_SAME_AT = np.array([jaccard(e / PERMUTATIONS) >= SAME for e in range(PERMUTATIONS + 1)])
RUN_ITEMS = 256  # resolve_many's items per numpy lookup (bounds earlier_sharing's pairs)
FEW = 8  # fewer items are resolved one by one: a batch lookup's numpy calls cost more


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
        with self._lock:
            return self._resolve_one(fp, sig, seen)

    def resolve_many(self, fps: Sequence[str], seen: float = math.inf) -> list[str]:
        """Return what resolve(fp, seen) would for each of fps in turn, looked up all at once."""
        sigs = [signature(fp) for fp in fps]
        out = list(fps)
        with self._lock:
            todo = [i for i, sig in enumerate(sigs) if sig is not None]
            while len(todo) >= FEW:  # runs of RUN_ITEMS; a merge due halfway ends a run
                todo = self._resolve_run(sigs, todo, seen, out)
            for i in todo:
                if (sig := sigs[i]) is not None:  # always: todo holds the fingerprints
                    out[i] = self._resolve_one(fps[i], sig, seen)
        return out

    def _resolve_one(self, fp: str, sig: U8, seen: float) -> str:
        """Resolve one signature (the lock held)."""
        raw = sig.tobytes()
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

    def _resolve_run(
        self, sigs: list[U8 | None], todo: list[int], seen: float, out: list[str]
    ) -> list[int]:
        """Resolve the first RUN_ITEMS of todo in order into out; return the rest."""
        todo, rest = todo[:RUN_ITEMS], todo[RUN_ITEMS:]
        batch = np.stack([s for s in (sigs[i] for i in todo) if s is not None])
        keys = band_keys(batch)
        best, equal, counts = self._nearest_many(batch, keys)
        # The candidates resolve would also meet: rows this run adds (the earlier items
        # sharing a band), and rows it shows again (looked up one by one, once shown).
        earlier = earlier_sharing(batch, keys)
        visible = seen >= self._since
        new, added, shown = _Pending(self._count), dict[int, int](), set[int]()
        key_lists = keys.tolist()
        for k, i in enumerate(todo):
            raw = batch[k].tobytes()
            row = self._rows.get(raw, new.rows.get(raw))
            if row is not None:
                self._bump(row, seen, shown)
                continue  # out[i] is fp already, as resolve returns for a known text
            more = [(e, -added[j]) for j, e in earlier.get(k, ()) if j in added]
            if counts[k] + len(more) > MAX_CANDIDATES or not shown.isdisjoint(key_lists[k]):
                self._flush(new, seen)
                row = self._nearest(batch[k], keys[k])
            else:
                row = _pick(best[k], equal[k], more if visible else [])
            if row is not None:
                self._bump(row, seen, shown)
                out[i] = (self._sigs[row] if row < self._count else new.sig(row)).tobytes().hex()
                continue
            added[k] = new.end
            new.add(raw, batch[k], key_lists[k])
            if new.end - self._merged >= MERGE_AT:
                self._flush(new, seen)
                self._merge()
                return todo[k + 1 :] + rest
        self._flush(new, seen)
        return rest

    def _bump(self, row: int, seen: float, shown: set[int]) -> None:
        """Mark a row seen at seen; a row it shows again (was hidden) adds its bands to shown."""
        if row >= self._count:
            return  # added by this run, with this seen time
        old = float(self._seen[row])
        if old < seen:
            self._seen[row] = seen
            if old < self._since <= seen:
                shown.update(band_keys(self._sigs[row : row + 1])[0].tolist())

    def _flush(self, new: _Pending, seen: float) -> None:
        """Add the rows of a run that are not added yet."""
        if not new.raws:
            return
        start = self._append(new.raws, np.stack(new.sigs), np.full(len(new.raws), seen))
        self._buckets.add(new.keys, start)
        new.clear(self._count)

    def _nearest_many(self, sigs: U8, keys: U32) -> tuple[list[int], list[int], list[int]]:
        """Return each signature's most equal visible candidate (the lowest row of ties, -1
        for none), its count of equal bytes, and its number of candidates (hidden ones too)."""
        items, rows = self._buckets.candidates_many(keys)
        best = np.full(len(sigs), -1, dtype=np.int64)
        equal_top = best.copy()
        # Each (item, row) once, by item then row: as _candidates' sorted set.
        pairs = distinct(np.sort((items << 32) | rows))
        items, rows = pairs >> 32, pairs & 0xFFFFFFFF
        counts = np.bincount(items, minlength=len(sigs))
        keep = self._seen[rows] >= self._since
        items, rows = items[keep], rows[keep]
        if len(rows):
            equal = (self._sigs[rows] == sigs[items]).sum(axis=1, dtype=np.int64)
            # The most equal bytes, then the lowest row: _nearest's argmax over ascending rows.
            starts = np.flatnonzero(np.r_[True, items[1:] != items[:-1]])
            top = np.maximum.reduceat((equal << 32) - rows, starts)
            equal_top[items[starts]] = -(-top >> 32)
            best[items[starts]] = (equal_top[items[starts]] << 32) - top
        return best.tolist(), equal_top.tolist(), counts.tolist()

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


def _pick(row: int, equal: int, more: list[tuple[int, int]]) -> int | None:
    """Return the near duplicate among a known row and more (equal bytes, -row), or None."""
    if more and (top := max(more))[0] > equal:  # a tie goes to the lower row: the known one
        equal, row = top[0], -top[1]
    return row if row >= 0 and _SAME_AT[equal] else None


class _Pending:
    """Rows a resolve_many run has decided to add: added together (or before a lookup by
    resolve's way, which must meet them)."""

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

    def sig(self, row: int) -> U8:
        """Return a planned row's signature."""
        return self.sigs[row - self.end + len(self.sigs)]

    def clear(self, start: int) -> None:
        """Forget the planned rows: they were added, and are known by the index's rows."""
        self.raws, self.sigs, self.keys, self.rows = [], [], [], {}
        self.end = start
