"""The RFC 8058 one-click unsubscribe endpoint of `digest serve --http`.

A digest's `unsubscribe` URL carries each recipient's signed `{token}`, e.g.
`https://digest.example.org/unsubscribe?token={token}`, with /unsubscribe proxied to the
service's HTTP port. A mail provider's one-click button POSTs
`List-Unsubscribe=One-Click` to it; a person's browser GETs it and gets a page with a
button that POSTs. Only POST unsubscribes: link scanners that follow every URL in a
message must not unsubscribe anybody (RFC 8058, section 3.2).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from digest.deliver import read_token
from digest.errors import DigestError
from digest.service.jobs import log_event
from digest.store import Store

PATH = "/unsubscribe"
Answer = tuple[int, str]
# A one-click POST is one short form field; nothing longer is ever read.
MAX_BODY = 64 * 1024


def token_of(path: str, body: str = "") -> str | None:
    """Return the token of a request: ?token=, /unsubscribe/TOKEN or a form field."""
    parts = urlsplit(path)
    found = parse_qs(parts.query).get("token") or parse_qs(body).get("token")
    if found:
        return found[0]
    tail = parts.path.removeprefix(PATH).strip("/")
    return tail or None


def _page(title: str, text: str, form: str = "") -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"</head><body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>{form}</body></html>\n"
    )


def masked(address: str) -> str:
    """Return an address with its local part hidden but for its ends: 'b…b@example.org'.

    The confirmation page is shown to whoever holds the link (a forwarded message too); the
    address is shown whole only once the opt-out is made.
    """
    local, at, domain = address.partition("@")
    shown = local[:1] + "…" + (local[-1:] if len(local) > 2 else "")
    return shown + at + domain


class Unsubscriber:
    """Answers GET (a confirmation page) and POST (the opt-out) for one database."""

    def __init__(
        self,
        store: Store,
        secret: str,
        clock: Callable[[], datetime],
        titles: Mapping[str, str] | None = None,
    ) -> None:
        self.store, self.secret, self.clock = store, secret, clock
        self.titles = dict(titles or {})  # digest name -> the title its readers know

    def _recipient(self, token: str, method: str) -> tuple[str, str] | None:
        """Return (digest, address) of a token, or None (logged) when it is not valid."""
        try:
            return read_token(self.secret, token, self.store.token_recipient)
        except DigestError as exc:
            log_event("unsubscribe-refused", logging.WARNING, method=method, reason=exc.message)
            return None

    def confirm(self, path: str) -> Answer:
        """Return the page a browser sees: a button that POSTs the same token."""
        token = token_of(path)
        if token is None:
            return 400, _page("Unsubscribe", "This link has no token.")
        found = self._recipient(token, "GET")
        if found is None:
            return 403, _page("Unsubscribe", "This unsubscribe link is not valid.")
        digest, address = found
        title = self.titles.get(digest, digest)
        # No action: the form posts to this very URL, whatever prefix a proxy put before it.
        form = "<form method='post'><button type='submit'>Unsubscribe</button></form>"
        question = f"Stop sending {title} to {masked(address)}?"
        return 200, _page(f"Unsubscribe from {title}", question, form)

    def unsubscribe(self, path: str, body: str) -> Answer:
        """Record the opt-out the token names; return the HTTP status and page."""
        token = token_of(path, body)
        if token is None:
            return 400, _page("Unsubscribe", "This link has no token.")
        found = self._recipient(token, "POST")
        if found is None:
            return 403, _page("Unsubscribe", "This unsubscribe link is not valid.")
        digest, address = found
        new = self.store.opt_out(digest, address, "one-click", self.clock())
        log_event("unsubscribe", digest=digest, address=address, already=not new)
        title = self.titles.get(digest, digest)
        return 200, _page("Unsubscribed", f"{address} will not receive {title} any more.")


def read_body(handler: BaseHTTPRequestHandler) -> tuple[str, tuple[int, str] | None]:
    """Return a POST's body, or the (status, reason) refusing it, read up to MAX_BODY only.

    The length must be one plain decimal Content-Length: a negative one would have read
    to the end of the stream (`rfile.read(-1)`), and a chunked body has no length to check.
    """
    lengths = handler.headers.get_all("Content-Length") or []
    if handler.headers.get("Transfer-Encoding"):
        return "", (411, "a Content-Length is required (no Transfer-Encoding)")
    if not lengths:
        return "", None
    raw = lengths[0].strip()
    if len(lengths) > 1 or not (raw.isascii() and raw.isdigit()):
        return "", (400, "bad Content-Length")
    if int(raw) > MAX_BODY:
        return "", (413, f"the body is over {MAX_BODY} bytes")
    return handler.rfile.read(int(raw)).decode("utf-8", "replace"), None


def answer(handler: BaseHTTPRequestHandler, unsubscriber: Unsubscriber | None) -> bool:
    """Answer a GET or POST to /unsubscribe on any of the service's servers; False if not ours.

    The health port and the archive site (`--http`) both carry the endpoint, so an operator
    who publishes the site needs no second port for one-click unsubscribes.
    """
    path = handler.path.split("?", 1)[0]
    if unsubscriber is None or not (path == PATH or path.startswith(PATH + "/")):
        return False
    if handler.command == "POST":
        body, refused = read_body(handler)
        if refused is not None:
            handler.send_error(*refused)
            return True
        status, page = unsubscriber.unsubscribe(handler.path, body)
    else:
        status, page = unsubscriber.confirm(handler.path)
    data = page.encode("utf-8")
    handler.send_response(status)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(len(data)))
    handler.send_header("Cache-Control", "no-store")
    handler.end_headers()
    handler.wfile.write(data)
    return True
