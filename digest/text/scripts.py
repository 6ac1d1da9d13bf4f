"""Letters by script: how many Cyrillic and how many Latin letters a text holds.

detect_language (digest/text/language.py) tells Russian from Latin-script languages by these
counts. They were `len(CYRILLIC.findall(sample))` and `len(LATIN.findall(sample))`: a list
of one-letter strings each, half of detect_language's 0.33 ms an item, paid on
every item of a feed that declares no language. `script_counts` gives the same numbers from a
table of the code points each regex matches, built from the regexes themselves.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import numpy.typing as npt

CYRILLIC = re.compile(r"[а-яёіїєґ]", re.IGNORECASE)
LATIN = re.compile(r"[a-z]", re.IGNORECASE)
_ASCII_LETTERS = bytes(range(ord("A"), ord("Z") + 1)) + bytes(range(ord("a"), ord("z") + 1))
_BMP = 0x10000


def script_counts(sample: str) -> tuple[int, int]:
    """Return how many characters of sample CYRILLIC and LATIN match, in that order."""
    if sample.isascii():  # O(1); then only the ASCII letters match
        return 0, len(sample) - len(sample.encode("ascii").translate(None, _ASCII_LETTERS))
    points = np.frombuffer(sample.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    kinds = np.bincount(_script_table().take(np.minimum(points, _BMP)), minlength=3)
    return int(kinds[2]), int(kinds[1])


@cache
def _script_table() -> npt.NDArray[np.uint8]:
    # 1 where LATIN matches, 2 where CYRILLIC does (re.I adds "ı", "ſ", "K", "ᲂ"...) for
    # every code point below U+10000; none above matches (tests/events/test_scripts.py
    # checks every code point), and index _BMP stands for them all.
    every = "".join(map(chr, range(_BMP)))
    table = np.zeros(_BMP + 1, dtype=np.uint8)
    table[[m.start() for m in LATIN.finditer(every)]] = 1
    table[[m.start() for m in CYRILLIC.finditer(every)]] = 2
    return table
