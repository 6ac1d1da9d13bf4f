"""Per-recipient unsubscribe tokens: `{token}` in a digest's `unsubscribe` URL, signed.

A token names the digest and the address and carries an HMAC-SHA256 over both with the
secret from DIGEST_UNSUBSCRIBE_SECRET, so nobody can unsubscribe someone else by guessing.
It is `base64url(json [digest, address]) "." base64url(mac)`: URL-safe as it stands, and
readable without a database lookup by the one-click endpoint of `digest serve --http`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

from digest.errors import DeliveryError

PLACEHOLDER = "{token}"
_CONTEXT = b"digest-unsubscribe-v1:"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), _CONTEXT + payload.encode(), hashlib.sha256).digest()


def make_token(secret: str, digest: str, address: str) -> str:
    """Return the signed unsubscribe token of one recipient of one digest."""
    payload = _b64(json.dumps([digest, address.strip().casefold()]).encode("utf-8"))
    return f"{payload}.{_b64(_mac(secret, payload))}"


def read_token(secret: str, token: str) -> tuple[str, str]:
    """Return (digest, address) of a token; raise DeliveryError when it is not ours."""
    payload, _, mac = token.strip().partition(".")
    try:
        valid = hmac.compare_digest(_unb64(mac), _mac(secret, payload))
        digest, address = json.loads(_unb64(payload)) if valid else ("", "")
    except (binascii.Error, ValueError, TypeError) as exc:
        raise DeliveryError("unsubscribe", "malformed token") from exc
    if not valid or not isinstance(digest, str) or not isinstance(address, str):
        raise DeliveryError("unsubscribe", "token not signed with this secret")
    return digest, address


def personalise(text: str, token: str | None) -> str:
    """Return text with every {token} placeholder replaced by the recipient's token."""
    if token is None or PLACEHOLDER not in text:
        return text
    return text.replace(PLACEHOLDER, token)
