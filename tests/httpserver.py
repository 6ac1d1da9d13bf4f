"""Test helpers: a real loopback HTTP server (routes, canned, slow and huge replies) and RSS."""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape


@dataclass
class Reply:
    """A canned answer: status, headers and a body (bytes, or chunks produced lazily)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    chunks: Callable[[], Iterator[bytes]] | None = None
    chunk_delay: float = 0.0
    length: int | None = None


Handler = Callable[[BaseHTTPRequestHandler], Reply]

# Loopback is a private address, refused by default: tests serving feeds on 127.0.0.1 allow it.
LOOPBACK = ("127.0.0.0/8",)
LOOPBACK_FETCH = '\n[fetch]\nallow_private = ["127.0.0.0/8"]\n'  # appended to a config


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True


class LoopbackServer:
    """Serves routes on 127.0.0.1 from a thread; remembers every request (path, headers).

    `host` and `port` pick another loopback address (127.0.0.2) or a fixed port; with a
    server-side `context` it serves HTTPS.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, context: ssl.SSLContext | None = None
    ) -> None:
        self.routes: dict[str, Reply | Handler] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()
        owner = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                with owner.lock:
                    owner.requests.append((self.path, dict(self.headers.items())))
                route = owner.routes.get(self.path) or owner.routes.get(self.path.split("?")[0])
                if route is None:
                    reply = Reply(404, b"not found")
                elif isinstance(route, Reply):
                    reply = route
                else:
                    reply = route(self)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    owner._send(self, reply)

        self.httpd = _Server((host, port), RequestHandler)
        if context is not None:
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.host = host
        self.scheme = "https" if context is not None else "http"
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _send(self, handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        handler.send_response(reply.status)
        headers = {"Content-Type": "application/xml", **reply.headers}
        for name, value in headers.items():
            handler.send_header(name, value)
        if reply.chunks is None:
            handler.send_header("Content-Length", str(len(reply.body)))
            handler.end_headers()
            handler.wfile.write(reply.body)
            return
        if reply.length is not None:
            handler.send_header("Content-Length", str(reply.length))
        handler.send_header("Connection", "close")
        handler.end_headers()
        for chunk in reply.chunks():
            handler.wfile.write(chunk)
            handler.wfile.flush()
            if reply.chunk_delay:
                time.sleep(reply.chunk_delay)
        handler.close_connection = True

    def url(self, path: str) -> str:
        """Return the absolute URL of a path on this server."""
        return f"{self.scheme}://{self.host}:{self.port}{path}"

    def paths(self) -> list[str]:
        """Return the paths requested so far, in order."""
        with self.lock:
            return [p for p, _ in self.requests]

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def rss(
    items: list[tuple[str, str, str]],
    *,
    title: str = "Test feed",
    link: str = "https://example.org/",
    language: str = "en",
    encoding: str = "utf-8",
) -> bytes:
    """Return an RSS 2.0 document with (title, link, description) items."""
    body = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(u)}</link>"
        f"<guid>{escape(u)}</guid><description>{escape(d)}</description>"
        f"<pubDate>Tue, 24 Nov 2026 10:00:00 GMT</pubDate></item>"
        for t, u, d in items
    )
    doc = (
        f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>{escape(link)}</link>"
        f"<language>{language}</language>{body}</channel></rss>"
    )
    return doc.encode(encoding)
