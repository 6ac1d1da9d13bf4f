"""Recognise the same article twice: canonical URLs and near-duplicate text fingerprints.

A wire story syndicated by three sites has three URLs but one text. `fingerprint` is a
64-bit SimHash over word 3-shingles, so texts that differ by a byline, a caption or a
trailing paragraph land a few bits apart; `FingerprintIndex` hands every near duplicate the
fingerprint of the first copy seen, so "same fingerprint" means "same text" downstream.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING = {
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "yclid", "msclkid", "mc_cid", "mc_eid",
    "igshid", "_ga", "_gl", "ocid", "cmpid", "ncid", "utm", "rss", "from_rss", "at_medium",
    "at_campaign", "spm",
}  # fmt: skip
_DEFAULT_PORTS = {"http": 80, "https": 443}
_WORD = re.compile(r"\w+", re.UNICODE)
BITS = 64
NEAR = 8  # at most this many differing bits out of 64: the same text (see tests/test_dedup.py)
SHINGLE = 3


def canonical_url(url: str) -> str:
    """Return url without tracking parameters and fragment, with a lower-case host."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return url
    scheme = parts.scheme.lower()
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not (k.lower().startswith("utm_") or k.lower() in _TRACKING)
    ]
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query), ""))


def _shingles(text: str) -> Iterable[str]:
    words = _WORD.findall(text.casefold())
    if len(words) < SHINGLE:
        yield " ".join(words)
        return
    for i in range(len(words) - SHINGLE + 1):
        yield " ".join(words[i : i + SHINGLE])


def fingerprint(text: str) -> str:
    """Return the text's 64-bit SimHash as 16 hex digits ('' for a text with no words)."""
    weights = [0] * BITS
    seen = 0
    for shingle in set(_shingles(text)):
        if not shingle:
            continue
        seen += 1
        value = int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=8).digest(), "big")
        for bit in range(BITS):
            weights[bit] += 1 if value >> bit & 1 else -1
    if not seen:
        return ""
    result = sum(1 << bit for bit in range(BITS) if weights[bit] > 0)
    return f"{result:016x}"


def distance(a: str, b: str) -> int:
    """Return how many bits two fingerprints differ in (64 when either is empty or invalid)."""
    try:
        return (int(a, 16) ^ int(b, 16)).bit_count() if a and b else BITS
    except ValueError:
        return BITS


class FingerprintIndex:
    """Known fingerprints; `resolve` maps a new one onto a near-duplicate already known."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        self._known: dict[int, str] = {}
        for fp in known:
            self.resolve(fp)

    def resolve(self, fp: str) -> str:
        """Return the known fingerprint within NEAR bits of fp, else remember fp and return it."""
        if not fp:
            return fp
        try:
            value = int(fp, 16)
        except ValueError:
            return fp
        if value in self._known:
            return self._known[value]
        for other, text in self._known.items():
            if (value ^ other).bit_count() <= NEAR:
                return text
        self._known[value] = fp
        return fp

    def __len__(self) -> int:
        return len(self._known)
