"""Per-recipient unsubscribe tokens: `{token}` in a digest's `unsubscribe` URL, signed.

A token is `ID "." base64url(mac)`: ID is a random id the database keeps for one (digest,
address) pair, and mac an HMAC-SHA256 over it with the secret from DIGEST_UNSUBSCRIBE_SECRET
(cut to 128 bits, which no one can guess). The link says nothing of the address: a forwarded
message does not give it away, and nobody can unsubscribe someone else by guessing.

Tokens sent before 0.2.0 were `base64url(json [digest, address]) "." base64url(mac)`, the
address readable by anyone holding the link; they are still honoured (the mac is checked).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable

from digest.errors import DeliveryError

PLACEHOLDER = "{token}"
_CONTEXT = b"digest-unsubscribe-v2:"
_LEGACY_CONTEXT = b"digest-unsubscribe-v1:"  # tokens naming the address (before 0.2.0)
_MAC_BYTES = 16
Lookup = Callable[[str], tuple[str, str] | None]  # a token id -> (digest, address)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, context: bytes, payload: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), context + payload.encode(), hashlib.sha256).digest()


def make_token(secret: str, token_id: str) -> str:
    """Return the signed unsubscribe token for a stored id (Store.recipient_token)."""
    return f"{token_id}.{_b64(_mac(secret, _CONTEXT, token_id)[:_MAC_BYTES])}"


def read_token(secret: str, token: str, lookup: Lookup) -> tuple[str, str]:
    """Return (digest, address) of a token; raise DeliveryError when it is not ours."""
    payload, _, mac = token.strip().partition(".")
    try:
        given = _unb64(mac)
    except (binascii.Error, ValueError) as exc:
        raise DeliveryError("unsubscribe", "malformed token") from exc
    if hmac.compare_digest(given, _mac(secret, _CONTEXT, payload)[:_MAC_BYTES]):
        found = lookup(payload)
        if found is None:
            raise DeliveryError("unsubscribe", "signed, but not known to this database")
        return found
    if hmac.compare_digest(given, _mac(secret, _LEGACY_CONTEXT, payload)):
        return _legacy(payload)
    raise DeliveryError("unsubscribe", "token not signed with this secret")


def _legacy(payload: str) -> tuple[str, str]:
    """Return (digest, address) from the payload of a token sent before 0.2.0."""
    try:
        digest, address = json.loads(_unb64(payload))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise DeliveryError("unsubscribe", "malformed token") from exc
    if not isinstance(digest, str) or not isinstance(address, str):
        raise DeliveryError("unsubscribe", "malformed token")
    return digest, address


def personalise(text: str, token: str | None) -> str:
    """Return text with every {token} placeholder replaced by the recipient's token."""
    if token is None or PLACEHOLDER not in text:
        return text
    return text.replace(PLACEHOLDER, token)
