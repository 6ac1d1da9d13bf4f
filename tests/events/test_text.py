"""Tests for the text toolkit (language, sentences with English and Russian abbreviations, tokens) and the TF-IDF rows of digest.events.text."""

from __future__ import annotations

import numpy as np
import pytest

from digest.events.text import tfidf_vectors
from digest.text import detect_language, split_sentences, tokenize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The president met the prime minister in London on Tuesday.", "en"),
        ("Президент встретился с премьер-министром в Лондоне во вторник.", "ru"),
        ("Der Präsident ist nicht in der Stadt und das ist gut.", "de"),
        ("123 456 !!!", "und"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_english_abbreviations_do_not_end_sentences() -> None:
    text = (
        "The U.S. Army met Dr. Smith on Jan. 5 in Washington. "
        "He said “It is fine.” Then he left! Mr. J. K. Rowling was there. "
        "It was in the U.S. The talks ended."
    )
    assert split_sentences(text, "en") == [
        "The U.S. Army met Dr. Smith on Jan. 5 in Washington.",
        "He said “It is fine.”",
        "Then he left!",
        "Mr. J. K. Rowling was there.",
        "It was in the U.S.",
        "The talks ended.",
    ]


def test_russian_abbreviations_and_guillemets() -> None:
    text = (
        "В 2018 г. президент В. В. Путин приехал 5 янв. в Москву. "
        "«Это хорошо», — сказал он. «Мы довольны.» Потом уехал."
    )
    assert split_sentences(text, "ru") == [
        "В 2018 г. президент В. В. Путин приехал 5 янв. в Москву.",
        "«Это хорошо», — сказал он.",
        "«Мы довольны.»",
        "Потом уехал.",
    ]


def test_paragraphs_are_never_joined() -> None:
    assert split_sentences("Accusations of «interference»\nThe indictment was long.", "en") == [
        "Accusations of «interference»",
        "The indictment was long.",
    ]


def test_tokens_are_stemmed_without_stop_words() -> None:
    assert tokenize("The elections will be held in the United States", "en") == [
        "elect",
        "held",
        "unit",
        "state",
    ]
    assert tokenize("Выборы пройдут в Соединённых Штатах", "ru")[0] == "выбор"


def test_tfidf_rows_are_normalised_and_rare_terms_weigh_more() -> None:
    space = tfidf_vectors([["quake", "city"], ["quake", "tsunami"], ["quake", "city"]])
    row = space.matrix[1].toarray()[0]
    assert abs(sum(v * v for v in row) - 1.0) < 1e-9
    assert row[space.vocabulary["tsunami"]] > row[space.vocabulary["quake"]]


def test_tfidf_rows_are_the_textbook_construction_bit_for_bit() -> None:
    # _rows builds CSR directly and normalises in place; the values must be exactly those of
    # scipy's COO sum, element-wise square and diagonal product (clustering ties depend on it).
    from scipy import sparse  # type: ignore[import-untyped]

    from digest.events.text import _rows

    rng = np.random.default_rng(5)
    vocabulary = {f"w{i}": i for i in range(40)}
    idf = rng.random(40) + 1.0
    for _ in range(200):
        docs = [
            [f"w{rng.integers(0, 50)}" for _ in range(rng.integers(0, 25))]
            for _ in range(rng.integers(1, 9))
        ]
        rows = [r for r, tokens in enumerate(docs) for t in tokens if t in vocabulary]
        cols = [vocabulary[t] for tokens in docs for t in tokens if t in vocabulary]
        counts = sparse.csr_matrix(
            (np.ones(len(cols)), (rows, cols)), shape=(len(docs), len(vocabulary))
        )
        counts.sum_duplicates()
        counts.data = (1.0 + np.log(counts.data)) * idf[counts.indices]
        norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        expected = (sparse.diags(1.0 / norms) @ counts).toarray()
        assert np.array_equal(_rows(docs, vocabulary, idf).toarray(), expected)
