"""Recognise the same article twice: canonical URLs and near-duplicate text fingerprints.

A wire story syndicated by three sites has three URLs but one text. `fingerprint` is a
b-bit MinHash (64 hash functions, 8 bits each) over word 3-shingles: the share of equal
bytes estimates the texts' Jaccard similarity, so a copy with a different byline, caption or
closing line stays close while another story is near zero. `FingerprintIndex` hands every
near duplicate the fingerprint of the first copy seen: "same fingerprint" means "same text".
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import numpy as np
import numpy.typing as npt

_TRACKING = {
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "yclid", "msclkid", "mc_cid", "mc_eid",
    "igshid", "_ga", "_gl", "ocid", "cmpid", "ncid", "at_medium",
    "at_campaign",
}  # fmt: skip
_DEFAULT_PORTS = {"http": 80, "https": 443}
_WORD = re.compile(r"\w+", re.UNICODE)
PERMUTATIONS = 64
SHINGLE = 3
SAME = 0.5  # estimated Jaccard similarity at or above which two texts are one text
_RNG = np.random.default_rng(20261125)  # fixed seed: fingerprints must be stable across runs
_A = _RNG.integers(1, 2**63, PERMUTATIONS, dtype=np.uint64) | np.uint64(1)
_B = _RNG.integers(0, 2**63, PERMUTATIONS, dtype=np.uint64)


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
    # Parameters are filtered as written, not decoded and re-encoded: "%2F" must stay "%2F".
    query = "&".join(
        pair
        for pair in parts.query.split("&")
        if pair and not _is_tracking(unquote_plus(pair.split("=", 1)[0]).lower())
    )
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def _is_tracking(key: str) -> bool:
    return key.startswith("utm_") or key in _TRACKING


def _shingles(text: str) -> set[str]:
    words = _WORD.findall(text.casefold())
    if len(words) < SHINGLE:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def fingerprint(text: str) -> str:
    """Return the text's MinHash signature as 128 hex digits ('' for a text with no words)."""
    shingles = _shingles(text)
    if not shingles:
        return ""
    hashes = np.fromiter(
        (
            int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "big")
            for s in shingles
        ),
        dtype=np.uint64,
        count=len(shingles),
    )
    # Multiply-shift hashing (wrapping uint64 arithmetic) gives the 64 permutations.
    with np.errstate(over="ignore"):
        permuted = hashes[:, None] * _A[None, :] + _B[None, :]
    low_bytes = (permuted.min(axis=0) & np.uint64(0xFF)).astype(np.uint8)
    return str(low_bytes.tobytes().hex())


def _signature(fp: str) -> npt.NDArray[np.uint8] | None:
    try:
        raw = bytes.fromhex(fp)
    except ValueError:
        return None
    return np.frombuffer(raw, dtype=np.uint8) if len(raw) == PERMUTATIONS else None


def _jaccard(equal_share: float) -> float:
    # Two different 8-bit values still match by chance 1 time in 256.
    return max(0.0, (equal_share - 1 / 256) / (1 - 1 / 256))


def similarity(a: str, b: str) -> float:
    """Return the estimated Jaccard similarity of two fingerprinted texts (0.0 to 1.0)."""
    sa, sb = _signature(a), _signature(b)
    if sa is None or sb is None:
        return 0.0
    return _jaccard(float(np.mean(sa == sb)))


class FingerprintIndex:
    """Known fingerprints; `resolve` maps a new one onto a near-duplicate already known."""

    # Locality-sensitive lookup: 32 bands of 2 bytes. Texts with Jaccard 0.5 share at least
    # one band with probability 1 - (1 - 0.5**2)**32 > 0.9999, so candidates are found
    # without comparing against every known text (a cold pass stores tens of thousands).
    BAND = 2

    def __init__(self, known: Iterable[str] = ()) -> None:
        self._texts: list[str] = []
        self._signatures: list[bytes] = []
        self._bands: dict[tuple[int, bytes], list[int]] = {}
        self._exact: dict[str, str] = {}
        for fp in known:
            self.resolve(fp)

    def resolve(self, fp: str) -> str:
        """Return the known fingerprint similar to fp (>= SAME), else remember fp and return it."""
        if fp in self._exact:
            return self._exact[fp]
        signature = _signature(fp)
        if signature is None:
            return fp
        raw = signature.tobytes()
        keys = [(i, raw[i : i + self.BAND]) for i in range(0, PERMUTATIONS, self.BAND)]
        candidates = {n for key in keys for n in self._bands.get(key, ())}
        best, best_share = -1, 0.0
        for n in candidates:
            share = (
                sum(a == b for a, b in zip(raw, self._signatures[n], strict=True)) / PERMUTATIONS
            )
            if share > best_share:
                best, best_share = n, share
        if best >= 0 and _jaccard(best_share) >= SAME:
            self._exact[fp] = self._texts[best]
            return self._texts[best]
        number = len(self._texts)
        self._texts.append(fp)
        self._signatures.append(raw)
        for key in keys:
            self._bands.setdefault(key, []).append(number)
        self._exact[fp] = fp
        return fp

    def __len__(self) -> int:
        return len(self._texts)
