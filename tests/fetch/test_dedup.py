"""dedup: canonical URLs and near-duplicate fingerprints of syndicated texts."""

from __future__ import annotations

import random

import numpy as np

from digest.fetch.dedup import SAME, canonical_url, fingerprint, similarity
from digest.fetch.lsh import MERGE_AT, FingerprintIndex

WIRE = (
    "BRUSSELS (Reuters) - European Union leaders agreed early on Wednesday on a new package "
    "of sanctions that targets shipping, banking and energy exports, after talks that ran for "
    "more than fourteen hours. Officials said the measures would take effect once published in "
    "the bloc's official journal, and that a review is planned for the spring. Several member "
    "states had asked for exemptions for liquefied gas contracts signed before the war, and a "
    "compromise gives them until the end of next year to wind those contracts down."
)
OTHER = (
    "The city council voted on Tuesday to expand the tram network to the northern districts. "
    "The project will cost about 400 million euros and take six years to build, officials said, "
    "while opponents argued that the money should go to buses, which serve more neighbourhoods "
    "today and could be expanded far faster than any new tram line."
)


def test_canonical_url_drops_tracking_and_fragment() -> None:
    url = "HTTPS://News.Example.COM:443/a/b?id=7&utm_source=rss&fbclid=x&gclid=y&utm_medium=z#top"
    assert canonical_url(url) == "https://news.example.com/a/b?id=7"
    assert canonical_url("http://e.org:8080") == "http://e.org:8080/"
    assert (
        canonical_url("https://e.org/s?q=a%2Fb+c&utm_term=x&x=1") == "https://e.org/s?q=a%2Fb+c&x=1"
    )
    assert canonical_url("file:///etc/passwd") == "file:///etc/passwd"
    assert canonical_url("not a url") == "not a url"


def test_syndicated_copies_are_near_and_other_stories_far() -> None:
    copy = (
        "By Jane Smith\n\n" + WIRE.replace("BRUSSELS (Reuters) - ", "") + " Reporting by Jan Doe."
    )
    assert similarity(fingerprint(WIRE), fingerprint(copy)) >= SAME
    assert similarity(fingerprint(WIRE), fingerprint(OTHER)) < 0.1
    assert similarity(fingerprint(WIRE), fingerprint(WIRE)) == 1.0
    assert fingerprint("") == "" and similarity("", fingerprint(WIRE)) == 0.0
    assert fingerprint(WIRE) == fingerprint(" ".join(WIRE.split()).upper())  # stable, case-blind


def test_index_gives_near_duplicates_the_first_fingerprint() -> None:
    index = FingerprintIndex([fingerprint(WIRE)])
    copy = WIRE.replace("Wednesday", "Wednesday morning") + " Editing by Sam."
    assert index.resolve(fingerprint(copy)) == fingerprint(WIRE)
    assert index.resolve(fingerprint(OTHER)) == fingerprint(OTHER)
    assert len(index) == 2


def test_fingerprints_keep_the_values_already_stored() -> None:
    # Stored fingerprints are compared with new ones: the value of a known text must not
    # change without a migration that marks the stored ones stale (schema v5 did, when the
    # hashing moved to numpy; the blake2b value was a73674e3...).
    assert fingerprint(WIRE) == (
        "8124ce2986bb7d7d91fd22031f0dda8eb04e4202b95faa2aba0d26d03218eba4"
        "e3c2d157ec53c8c73ecf20753fe1054cfb179dcac26e3932088b03484de64e0d"
    )


def _texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    words = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=6)) for _ in range(3000)]
    return [" ".join(rng.choices(words, k=50)) for _ in range(count)]


def _brute_force(fps: list[str]) -> list[str]:
    """The index's rule by comparing with every known text: the most similar, the oldest on ties."""
    known: list[str] = []
    sigs = np.zeros((len(fps), 64), dtype=np.uint8)
    out = []
    for fp in fps:
        sig = np.frombuffer(bytes.fromhex(fp), dtype=np.uint8)
        equal = (sigs[: len(known)] == sig).sum(axis=1)
        best = int(equal.argmax()) if known else -1
        if best >= 0 and similarity(fp, known[best]) >= SAME:
            out.append(known[best])
        else:
            sigs[len(known)] = sig
            known.append(fp)
            out.append(fp)
    return out


def test_index_agrees_with_comparing_every_pair() -> None:
    rng = random.Random(3)
    stories = _texts(150, 1)
    texts = []
    for _ in range(1500):
        words = rng.choice(stories).split()
        for _ in range(rng.randint(0, 12)):  # 0 to ~25% of words changed: both sides of SAME
            words[rng.randrange(len(words))] = "edit"
        texts.append(" ".join(words))
    fps = [fingerprint(t) for t in texts]
    index = FingerprintIndex()
    resolved = [index.resolve(fp) for fp in fps]
    expected = _brute_force(fps)
    agree = sum(a == b for a, b in zip(resolved, expected, strict=True))
    # LSH finds a pair at Jaccard 0.5 with probability 0.99 (at 0.6, 0.9997): a few
    # borderline copies may start a group of their own, nothing else may differ.
    assert agree >= 0.99 * len(fps) and len(index) == len(set(resolved))


def test_index_merges_its_buckets_without_losing_texts() -> None:
    fps = [fingerprint(t) for t in _texts(MERGE_AT + 500, 2)]
    index = FingerprintIndex(fps[:300])
    for fp in fps[300:]:
        assert index.resolve(fp) == fp  # unrelated texts: each its own
    assert len(index) == len(fps)
    copies = [fingerprint(t + " more words at the end") for t in _texts(MERGE_AT + 500, 2)]
    assert [index.resolve(c) for c in copies] == fps


def test_expired_texts_are_forgotten() -> None:
    first, second, third = _texts(3, 4)
    index = FingerprintIndex()
    index.add_known([(fingerprint(first), 100.0), (fingerprint(second), 200.0)])
    assert index.resolve(fingerprint(third), 200.0) == fingerprint(third)
    copy = fingerprint(first + " and one more sentence here")
    assert similarity(copy, fingerprint(first)) >= SAME
    index.expire(150.0)  # first is hidden but kept: a third of the index
    assert len(index) == 3 and index.resolve(copy, 300.0) == copy
    index.expire(250.0)  # now only the copy is recent: the rest is dropped
    assert len(index) == 1 and index.resolve(fingerprint(second), 300.0) == fingerprint(second)
