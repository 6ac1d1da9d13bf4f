"""The service's HTTP servers (health port, archive site): bounded, on their own daemon thread.

Both face whoever can reach the port, so each is bounded: at most `MAX_CONNECTIONS` at once
(one thread each; one over the cap is answered 503 at once and closed, so idle connections
can never use up the process's file descriptors), every read waits at most `IDLE_TIMEOUT`,
and a connection must have sent its whole request within `REQUEST_DEADLINE` and be answered
within `RESPONSE_DEADLINE`, or it is cut (a slow-loris client holds a slot for seconds, not
forever). The standard library's handlers do the HTTP; `GuardedHandler` refuses what they would
choke on (a NUL in the path, a bad Content-Length) with 400 and one log line, no traceback.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from digest.errors import ConfigError
from digest.service.jobs import log_crash, log_event

MAX_CONNECTIONS = 64
IDLE_TIMEOUT = 5.0
REQUEST_DEADLINE = 10.0
RESPONSE_DEADLINE = 120.0
# How often the connections over a deadline are looked for, and over-cap refusals logged.
SWEEP_EVERY = 0.5
REFUSALS_LOGGED_EVERY = 60.0
BUSY = (
    b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n"
    b"Retry-After: 1\r\nConnection: close\r\n\r\ntoo many conns"
)


class BoundedHTTPServer(ThreadingHTTPServer):
    """A thread per connection, at most max_connections of them, each with a deadline."""

    daemon_threads = True
    request_queue_size = 128  # the accept loop drains it quickly: over the cap is refused

    def __init__(
        self,
        address: tuple[str, int],
        handler: Callable[..., BaseHTTPRequestHandler],
        name: str,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.name = name
        self.max_connections = max_connections
        self._lock = threading.Lock()
        self._deadlines: dict[socket.socket, float] = {}
        self._refused = 0
        self._refusals_logged = 0.0
        self._closing = threading.Event()
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, handler)
        self._sweeper = threading.Thread(target=self._sweep, name=f"{name}-sweep", daemon=True)
        self._sweeper.start()

    @property
    def open_connections(self) -> int:
        """Return how many connections are being served now."""
        with self._lock:
            return len(self._deadlines)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            full = len(self._deadlines) >= self.max_connections
            if not full:
                self._deadlines[request] = time.monotonic() + REQUEST_DEADLINE
            else:
                self._refused += 1
        if full:
            self._refuse(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._lock:
                self._deadlines.pop(request, None)

    def responding(self, request: Any) -> None:
        """Note that the request was read whole: the answer gets its own, longer deadline."""
        with self._lock:
            if request in self._deadlines:
                self._deadlines[request] = time.monotonic() + RESPONSE_DEADLINE

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Never socketserver's bare traceback on stderr. A client that hangs up (a reset, a
        # broken pipe, a connection cut at its deadline) is one DEBUG line; anything else is
        # a bug in a handler, logged with its stack.
        error = sys.exception()
        client = _host(client_address)
        if error is None or isinstance(error, OSError):
            text = f"{type(error).__name__}: {error}" if error else "?"
            log_event("http-error", logging.DEBUG, server=self.name, client=client, error=text)
        else:
            log_crash("http-error", error, server=self.name, client=client, error=repr(error))

    def server_close(self) -> None:
        self._closing.set()
        super().server_close()
        with self._lock:
            hung = list(self._deadlines)
        for request in hung:
            _cut(request)

    def _refuse(self, request: socket.socket) -> None:
        """Answer 503 without waiting on the client, and close."""
        with contextlib.suppress(OSError):
            request.setblocking(False)
            request.send(BUSY)
        self.shutdown_request(request)
        now = time.monotonic()
        with self._lock:
            due = now - self._refusals_logged >= REFUSALS_LOGGED_EVERY
            if due:
                refused, self._refused, self._refusals_logged = self._refused, 0, now
        if due:
            log_event(
                "http-busy",
                logging.WARNING,
                server=self.name,
                refused=refused,
                max_connections=self.max_connections,
            )

    def _sweep(self) -> None:
        """Cut connections past their deadline (the blocked read returns at once)."""
        while not self._closing.wait(SWEEP_EVERY):
            now = time.monotonic()
            with self._lock:
                late = [r for r, deadline in self._deadlines.items() if deadline <= now]
                for request in late:
                    self._deadlines[request] = now + RESPONSE_DEADLINE  # cut once
            for request in late:
                _cut(request)


def _cut(request: socket.socket) -> None:
    with contextlib.suppress(OSError):
        request.shutdown(socket.SHUT_RDWR)


def _host(address: Any) -> str:
    return str(address[0]) if isinstance(address, tuple) and address else str(address)


class GuardedHandler(BaseHTTPRequestHandler):
    """What both servers' handlers share: timeouts, 400 for a NUL in the path, one-line logs."""

    timeout = IDLE_TIMEOUT  # StreamRequestHandler: the socket's timeout for every read
    server: BoundedHTTPServer

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if any(c in unquote(self.path) for c in "\x00\r\n"):
            self.send_error(400, "bad request: control character in the path")
            return False
        return True

    def send_response(self, code: int, message: str | None = None) -> None:
        self.server.responding(self.request)
        super().send_response(code, message)

    def log_error(self, format: str, *args: Any) -> None:
        # send_error's "code %d, message %s": a refused request (400, 411, 413, ...) is worth a
        # line; a page not found, or a read that timed out (a slow or idle client, its slot
        # freed), is not news.
        message = format % args
        code = args[0] if format.startswith("code %d") and args else None
        quiet = code in (404, 408) or message.startswith("Request timed out")
        level = logging.DEBUG if quiet else logging.WARNING
        client = _host(self.client_address)
        log_event("http-refused", level, server=self.server.name, client=client, error=message)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # page views and probes every few seconds would drown the service's own lines


class BackgroundServer:
    """Serves one handler on host:port from a daemon thread; a bind failure is a ConfigError."""

    def __init__(
        self, handler: Callable[..., BaseHTTPRequestHandler], host: str, port: int, option: str
    ) -> None:
        name = option.removeprefix("--")
        try:
            self._server = BoundedHTTPServer((host, port), handler, name)
        except OSError as exc:  # port in use, address not on this machine, no permission
            raise ConfigError(f"{option} {host}:{port}", f"cannot listen: {exc}") from exc
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"digest-{name}", daemon=True
        )

    def start(self) -> Any:
        """Start serving; return self."""
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        """Return the port actually bound (useful when asked for port 0)."""
        return int(self._server.server_address[1])

    @property
    def open_connections(self) -> int:
        """Return how many connections are being served now."""
        return self._server.open_connections

    def close(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
