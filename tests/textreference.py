"""Real texts and the reference fingerprint for the differential tests of the text steps.

From fixtures already in tests/data (licences there): the Telegram contest pairs (Russian
and English news, Apache-2.0), ECB+ documents (CC-BY-3.0), the goose3 pages (Apache-2.0),
the seed article and the mini sets written for the tests.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import numpy as np

import digest.fetch.fingerprint as fp

DATA = Path(__file__).parent / "data"


@cache
def real_texts() -> tuple[str, ...]:
    """Return every plain text of the fixtures: titles and bodies, Russian and English."""
    out: list[str] = [(DATA / "pages" / "seed-article.txt").read_text(encoding="utf-8")]
    for name in ("pairs-tgcontest-fused.jsonl", "events-ecbplus-mini.jsonl",
                 "summarize-mini.jsonl", "facts-mini.jsonl"):  # fmt: skip
        for line in (DATA / "eval" / name).read_text(encoding="utf-8").splitlines():
            doc = json.loads(line)
            for item in (doc, doc.get("a") or {}, doc.get("b") or {}):
                out += [str(item[k]) for k in ("title", "text") if item.get(k)]
    return tuple(out)


@cache
def real_pages() -> tuple[str, ...]:
    """Return the goose3 test pages' HTML (English, Arabic, ...)."""
    folder = DATA / "pages" / "goose3"
    return tuple(
        p.read_text(encoding="utf-8", errors="replace") for p in sorted(folder.glob("*.html"))
    )


WORD = re.compile(r"\w+", re.UNICODE)


def reference(text: str) -> str:
    """Return the per-text fingerprint, as computed before batching."""
    words = WORD.findall(text.casefold())
    if not words:
        return ""
    with np.errstate(over="ignore"):
        blocks = np.array(words, dtype="<U16").view(np.uint64).reshape(len(words), 8)
        h = blocks[:, 0] * fp._PRIME
        for column in range(1, 8):
            h ^= blocks[:, column]
            h *= fp._PRIME
        w = _mix(h)
        if len(w) < 3:
            s = _mix(w[:1] * fp._FIRST + w[1:2].sum(dtype=np.uint64))
        else:
            s = _mix((w[:-2] * fp._FIRST + w[1:-1]) * fp._SECOND + w[2:])
        permuted = np.multiply.outer(fp._A, s) + fp._B_COLUMN
    return str((permuted.min(axis=1) & fp._LOW_BYTE).astype(np.uint8).tobytes().hex())


def _mix(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> fp._S30)
    h = h * fp._MIX1
    h = h ^ (h >> fp._S27)
    h = h * fp._MIX2
    return h ^ (h >> fp._S31)
