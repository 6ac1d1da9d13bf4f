"""lsh: resolve_many gives exactly what resolve gives one fingerprint after another."""

from __future__ import annotations

import random
from collections.abc import Sequence
from functools import partial

import pytest

from digest.fetch.dedup import fingerprint
from digest.fetch.lsh import BANDS, FEW, MERGE_AT, FingerprintIndex


def _edit(rng: random.Random, fp: str, changed: int) -> str:
    """Return fp with `changed` of its 64 bytes replaced (an edited copy's fingerprint)."""
    raw = bytearray(bytes.fromhex(fp) if len(fp) == 128 else rng.randbytes(64))
    for at in rng.sample(range(64), changed):
        raw[at] = rng.randrange(256)
    return raw.hex()


def _stream(rng: random.Random, count: int) -> list[str]:
    """Return fingerprints: new texts, exact copies and edited copies (both sides of SAME)
    of recent or old ones, and a few that are not fingerprints at all."""
    out: list[str] = []
    for _ in range(count):
        roll = rng.random()
        valid = [fp for fp in out[-50:] if len(fp) == 128]
        if not valid or roll < 0.45:
            out.append(rng.randbytes(64).hex())
        elif roll < 0.6:
            # Most often a copy within the same batch, else of an older (perhaps hidden) text.
            out.append(rng.choice(out[-50:] if rng.random() < 0.7 else out))
        elif roll < 0.95:
            source = rng.choice(valid if rng.random() < 0.7 else out[:-50] or valid)
            out.append(_edit(rng, source, rng.randint(1, 40)))  # ~32 changed: the threshold
        else:
            out.append(rng.choice(("", "not hex", "ab" * 10, "AB" * 64, "ab" * 64)))
    return out


def _compare(
    fps: list[str], seed: int, known: Sequence[str] = (), expire_every: int = 0
) -> FingerprintIndex:
    """Resolve fps one by one and in random batches; assert the same results, batch by batch."""
    rng = random.Random(seed)
    one, many = FingerprintIndex(), FingerprintIndex()
    for index in (one, many):  # stored texts, fetched at various times
        index.add_known((fp, 990.0 + n % 20) for n, fp in enumerate(known))
    start, batch_no = 0, 0
    while start < len(fps):
        batch = fps[start : start + rng.choice((1, 7, 8, 9, 50, 200, 700))]
        seen = 1000.0 + batch_no
        if expire_every and batch_no % expire_every == expire_every - 1:
            before = seen - rng.choice((0.5, 3, 10))  # hides some texts, sometimes drops them
            one.expire(before)
            many.expire(before)
            if rng.random() < 0.3:
                seen = before - 1  # fetched before the horizon: its new rows stay hidden
        expected = [one.resolve(fp, seen) for fp in batch]
        assert many.resolve_many(batch, seen) == expected, f"batch {batch_no} at {start}"
        assert len(many) == len(one)
        start, batch_no = start + len(batch), batch_no + 1
    return many


@pytest.mark.parametrize("seed", range(4))
def test_batches_resolve_as_one_by_one(seed: int) -> None:
    fps = _stream(random.Random(seed), 3 * MERGE_AT)  # merges fall within batches too
    index = _compare(fps, seed)
    copies = len(fps) - len(set(fps))
    assert copies > 200 and len(index) < len(set(fps))  # copies met, edits grouped


def test_batches_resolve_as_one_by_one_with_expiry() -> None:
    rng = random.Random(9)
    fps = _stream(rng, 4000)
    _compare(fps[1500:], 9, known=fps[:1500], expire_every=3)


def test_texts_resolve_in_a_batch_as_one_by_one() -> None:
    rng = random.Random(4)
    words = ["".join(rng.choices("abcdefghijklmnop", k=6)) for _ in range(2000)]
    stories = [rng.choices(words, k=60) for _ in range(300)]
    texts = []
    for _ in range(2500):
        story = list(rng.choice(stories))
        for _ in range(rng.choice((0, 0, 2, 8, 20))):  # copies, near copies, other texts
            story[rng.randrange(len(story))] = rng.choice(words)
        texts.append(" ".join(story))
    _compare([fingerprint(t) for t in texts], 4)


def _templated(rng: random.Random, common: bytes) -> str:
    """Return a random fingerprint whose first band is common's."""
    raw = bytearray(rng.randbytes(64))
    for at in BANDS[0].tolist():
        raw[at] = common[at]
    return raw.hex()


def test_crowded_buckets_resolve_as_one_by_one() -> None:
    # Over MAX_CANDIDATES known texts share a band (a template): the lookup compares the
    # most recent ones only, in a batch as one by one.
    rng = random.Random(5)
    common = rng.randbytes(64)
    templated = partial(_templated, rng, common)
    known = [templated() for _ in range(1500)]
    fps = [_edit(rng, rng.choice(known), rng.randint(0, 40)) for _ in range(300)]
    _compare(fps + [templated() for _ in range(300)], 5, known=known)


def test_a_hidden_text_seen_again_is_found_by_the_rest_of_its_batch() -> None:
    rng = random.Random(6)
    old = rng.randbytes(64).hex()
    copy = _edit(rng, old, 8)  # near: 56 of 64 bytes equal
    results = []
    for batch in ([copy, copy], [old, copy]):
        for batched in (False, True):
            index = FingerprintIndex()
            index.add_known([(old, 100.0)] + [(rng.randbytes(64).hex(), 300.0) for _ in range(3)])
            index.expire(150.0)  # old is hidden (and kept: a quarter of the index)
            if batched:  # padded: fewer than FEW are resolved one by one
                results.append(index.resolve_many(batch + _padding(rng), 200.0)[: len(batch)])
            else:
                results.append([index.resolve(fp, 200.0) for fp in batch])
    assert results[0] == results[1] == [copy, copy]  # hidden: no near duplicate of copy
    # Seen again by its exact copy first, old is the near duplicate of the rest of the batch.
    assert results[2] == results[3] == [old, old]


def _padding(rng: random.Random) -> list[str]:
    """Return FEW unrelated fingerprints: a batch padded with them is looked up as a batch."""
    return [rng.randbytes(64).hex() for _ in range(FEW)]


def _both(known: Sequence[str], batch: list[str]) -> list[list[str]]:
    """Return batch resolved one by one and all at once, each by an index knowing known."""
    one, many = FingerprintIndex(known), FingerprintIndex(known)
    padded = many.resolve_many(batch + _padding(random.Random(1)))
    return [[one.resolve(fp) for fp in batch], padded[: len(batch)]]


def test_a_tie_goes_to_the_older_text_in_a_batch_too() -> None:
    old = bytes(range(64))
    new = bytes(b ^ 0xFF if at < 40 else b for at, b in enumerate(old))  # 24 equal: another
    # As equal to both (44 bytes): old's first 20 bytes changed as in new, bytes 20-39 not.
    tie = new[:20] + old[20:]
    assert _both([old.hex()], [new.hex(), tie.hex()]) == [[new.hex(), old.hex()]] * 2


def test_a_crowded_band_leaves_out_the_oldest_in_a_batch_too() -> None:
    # 1,024 known texts share a band (a template): with one more added by the batch, the
    # lookup compares the 1,024 most recent, and the oldest one's copy is not found.
    rng = random.Random(8)
    common = rng.randbytes(64)
    templated = partial(_templated, rng, common)
    known = [templated() for _ in range(1024)]
    copy = _edit(rng, known[0], 4)
    one, many = _both(known, [templated(), copy])
    assert one == many and one[1] == copy  # not known[0]
    assert _both(known, [copy]) == [[known[0]]] * 2  # with nothing added first, it is found
