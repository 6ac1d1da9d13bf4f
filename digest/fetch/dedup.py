"""Recognise the same article twice: canonical URLs and near-duplicate text fingerprints.

A wire story syndicated by three sites has three URLs but one text. `fingerprint`
(digest/fetch/fingerprint.py) is a b-bit MinHash (64 hash functions, 8 bits each) over word
3-shingles: the share of equal bytes estimates the texts' Jaccard similarity, so a copy with
a different byline, caption or closing line stays close while another story is near zero.
`FingerprintIndex` (digest/fetch/lsh.py) hands every near duplicate the fingerprint of the
first copy seen: "same fingerprint" means "same text".
"""

from __future__ import annotations

from urllib.parse import unquote_plus, urlsplit, urlunsplit

import numpy as np
import numpy.typing as npt

from digest.fetch.fingerprint import PERMUTATIONS, fingerprint

_TRACKING = {
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "yclid", "msclkid", "mc_cid", "mc_eid",
    "igshid", "_ga", "_gl", "ocid", "cmpid", "ncid", "at_medium",
    "at_campaign",
}  # fmt: skip
_DEFAULT_PORTS = {"http": 80, "https": 443}
SAME = 0.5  # estimated Jaccard similarity at or above which two texts are one text
__all__ = [
    "PERMUTATIONS",
    "SAME",
    "canonical_url",
    "fingerprint",
    "jaccard",
    "signature",
    "similarity",
]


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


def signature(fp: str) -> npt.NDArray[np.uint8] | None:
    """Return a fingerprint's 64 one-byte MinHash values (None for '' or a malformed one)."""
    try:
        raw = bytes.fromhex(fp)
    except ValueError:
        return None
    return np.frombuffer(raw, dtype=np.uint8) if len(raw) == PERMUTATIONS else None


def jaccard(equal_share: float) -> float:
    """Return the Jaccard similarity estimated from the share of equal one-byte values."""
    # Two different 8-bit values still match by chance 1 time in 256.
    return max(0.0, (equal_share - 1 / 256) / (1 - 1 / 256))


def similarity(a: str, b: str) -> float:
    """Return the estimated Jaccard similarity of two fingerprinted texts (0.0 to 1.0)."""
    sa, sb = signature(a), signature(b)
    if sa is None or sb is None:
        return 0.0
    return jaccard(float(np.mean(sa == sb)))
