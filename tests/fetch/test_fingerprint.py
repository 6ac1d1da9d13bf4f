"""fingerprint: the batched numpy hashing gives exactly the per-text reference's values.

`reference` (tests/textreference.py) is the formulation fingerprints were stored with (schema v5): a regex for
the words, numpy's "<U16" array of them, the (64, n) permutation matrix. The batched
version must agree with it on every text, or stored fingerprints would stop matching.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from textreference import WORD, real_pages, real_texts, reference

import digest.fetch.fingerprint as fp
from digest.fetch.extract import html_to_text
from digest.fetch.fingerprint import fingerprint, fingerprints

EDGE_CASES = [
    "", " ", "...", "\n\n", "one", "two words", "three words here", "a b", "a b c d",
    "Привет, мир!", "Ёлка и ёж: ЁЖ", "café CAFÉ cafe\u0301", "e\u0301\u0301 a\u0300b",
    "ß STRASSE straße ﬁne İstanbul ǅemal", "under_score __ _x_ 12_34", "١٢٣ ٤ 12 3.14 ½",
    "x" * 16 + " " + "y" * 17 + " " + "z" * 15 + " " + "w" * 40,
    "Антиглобалистский-многоуровневый " + "ж" * 33, "😀 a😀b 𝒜bc 𝟙𝟚 中文字 ᲂ", "\x00a\x00b\x00",
    "lone \ud800 surrogate \udfff", "tab\tand\u00a0odd\u2003spaces", "日本語のテキスト。",
]  # fmt: skip
_ALPHABET = list("ab zZ_19é\u0301ЖжЁ\n.-ßﬁİ😀𝒜١\x00\u200b") + [" "] * 6


def _random_texts(rng: random.Random, count: int) -> list[str]:
    return ["".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 80))) for _ in range(count)]


def _corpus() -> list[str]:
    pages = [html_to_text(page) for page in real_pages()]
    return [*real_texts(), *pages, *EDGE_CASES, *_random_texts(random.Random(11), 2000)]


def test_each_text_matches_the_reference() -> None:
    texts = _corpus()
    expected = [reference(t) for t in texts]
    assert [fingerprint(t) for t in texts] == expected
    assert fingerprints(texts) == expected  # the whole corpus in batches
    assert expected.count("") < len(expected) // 4  # most texts have words


def test_any_batch_matches_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _corpus()
    expected = [reference(t) for t in texts]
    rng = random.Random(7)
    for size in (30, 1000, 10**9):  # texts split over batches, or one batch each
        monkeypatch.setattr(fp, "_BATCH_CHARS", size)
        for _ in range(60):
            picked = rng.sample(range(len(texts)), rng.randint(0, 40))
            assert fingerprints([texts[i] for i in picked]) == [expected[i] for i in picked]


def test_a_long_text_and_its_neighbours_match_the_reference() -> None:
    long = " ".join(real_texts()) * 3  # over _BATCH_CHARS: a batch of its own
    assert len(long) > fp._BATCH_CHARS
    texts = ["a b", long, "Один", "", long[:5000]]
    assert fingerprints(texts) == [reference(t) for t in texts]
    assert fingerprints([]) == []


def test_word_table_agrees_with_the_regex_on_every_code_point() -> None:
    # The table stands for `\w` below U+10000, and any higher code point is asked of the
    # regex itself: check both against re on every character there is.
    every = "".join(map(chr, range(0x110000)))
    starts, ends = fp._word_spans(
        np.frombuffer(every.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    )
    spans = [(m.start(), m.end()) for m in WORD.finditer(every)]
    assert list(zip(starts.tolist(), ends.tolist(), strict=True)) == spans
