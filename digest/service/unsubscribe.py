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
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from digest.deliver import read_token
from digest.errors import DigestError
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


class Unsubscriber:
    """Answers GET (a confirmation page) and POST (the opt-out) for one database."""

    def __init__(self, store: Store, secret: str, clock: Callable[[], datetime]) -> None:
        self.store, self.secret, self.clock = store, secret, clock

    def confirm(self, path: str) -> Answer:
        """Return the page a browser sees: a button that POSTs the same token."""
        token = token_of(path)
        if token is None:
            return 400, _page("Unsubscribe", "This link has no token.")
        # No action: the form posts to this very URL, whatever prefix a proxy put before it.
        form = "<form method='post'><button type='submit'>Unsubscribe</button></form>"
        return 200, _page("Unsubscribe", "Stop receiving this digest?", form)

    def unsubscribe(self, path: str, body: str) -> Answer:
        """Record the opt-out the token names; return the HTTP status and page."""
        token = token_of(path, body)
        if token is None:
            return 400, _page("Unsubscribe", "This link has no token.")
        try:
            digest, address = read_token(self.secret, token)
        except DigestError:
            return 403, _page("Unsubscribe", "This unsubscribe link is not valid.")
        self.store.opt_out(digest, address, "one-click", self.clock())
        return 200, _page("Unsubscribed", f"{address} will not receive {digest} any more.")


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
