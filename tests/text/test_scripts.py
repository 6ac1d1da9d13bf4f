"""scripts: script_counts and detect_language give exactly what the findall formulation gave.

`reference_language` is detect_language before the batched rewrite: a findall per script and every
word looked up in every language's stop words.
"""

from __future__ import annotations

import random
import re

from textreference import real_texts

from digest.text import CYRILLIC, LATIN, STOP_WORDS, WORD, detect_language, script_counts


def reference_language(text: str) -> str:
    sample = text[:3000]
    cyr = len(CYRILLIC.findall(sample))
    lat = len(LATIN.findall(sample))
    if cyr + lat < 3:
        return "und"
    if cyr > lat:
        ukrainian = len(re.findall(r"[іїєґ]", sample, re.IGNORECASE))
        return "uk" if ukrainian > len(re.findall(r"[ыэъё]", sample, re.IGNORECASE)) else "ru"
    words = [w.lower() for w in WORD.findall(sample)]
    best, hits = "und", 0
    for lang in ("en", "de", "fr", "es", "it"):
        n = sum(1 for w in words if w in STOP_WORDS[lang])
        if n > hits:
            best, hits = lang, n
    return best if hits else "en"


# Letters the case-blind classes also match ("ı", "İ", "ſ", the Kelvin sign, the old
# Cyrillic letter forms), stop words of every language, and what is neither.
_PIECES = [
    "a", "Z", "ı", "İ", "ſ", "\u212a", "ж", "Ё", "ї", "Ґ", "\u1c82", "\u1c85", "é", "ß", "😀",
    "١", "中", " ", "  ", "\n", "-", "'", "’", "_", "1", "The", "the", "AND", "der", "und",
    "le", "les", "el", "los", "il", "della", "и", "это", "Straße", "İstanbul", "word",
]  # fmt: skip


def _texts() -> list[str]:
    rng = random.Random(9)
    texts = [*real_texts(), " ".join(real_texts()), "", "ab", "abc", "жжж", "ıſK"]
    texts += ["".join(rng.choices(_PIECES, k=rng.randint(0, 40))) for _ in range(4000)]
    texts += [" ".join(rng.choices(_PIECES[25:], k=rng.randint(1, 12))) for _ in range(2000)]
    return texts


def test_detect_language_matches_the_reference() -> None:
    texts = _texts()
    expected = [reference_language(t) for t in texts]
    assert [detect_language(t) for t in texts] == expected
    assert {"und", "en", "ru", "uk", "de", "fr", "es", "it"} <= set(expected)


def test_script_counts_match_the_regexes_on_every_code_point() -> None:
    every = "".join(map(chr, range(0x110000)))
    assert script_counts(every) == (len(CYRILLIC.findall(every)), len(LATIN.findall(every)))
    for text in _texts():
        expected = (len(CYRILLIC.findall(text)), len(LATIN.findall(text)))
        assert script_counts(text) == expected, text


def test_a_russian_story_quoting_ukrainian_words_is_russian() -> None:
    # Its names go to the Russian fact finder, which puts them in the nominative.
    text = (
        "Фильм посвящен событиям Майдана и влиянию революции на Восточную Европу. Одного из "
        "героев фильма 'Київ нескорений' зовут Владимир Шуваев, сообщает издание."
    )
    assert detect_language(text) == "ru"
    assert detect_language("Верховна Рада України ухвалила закон про освіту.") == "uk"
