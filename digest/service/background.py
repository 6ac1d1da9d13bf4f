"""A ThreadingHTTPServer on its own daemon thread: what the health port and the site share."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from digest.errors import ConfigError


class BackgroundServer:
    """Serves one handler on host:port from a daemon thread; a bind failure is a ConfigError."""

    def __init__(
        self, handler: Callable[..., BaseHTTPRequestHandler], host: str, port: int, option: str
    ) -> None:
        try:
            self._server = ThreadingHTTPServer((host, port), handler)
        except OSError as exc:  # port in use, address not on this machine, no permission
            raise ConfigError(f"{option} {host}:{port}", f"cannot listen: {exc}") from exc
        self._server.daemon_threads = True
        name = f"digest{option.removeprefix('-').removeprefix('-')}"
        self._thread = threading.Thread(target=self._server.serve_forever, name=name, daemon=True)

    def start(self) -> Any:
        """Start serving; return self."""
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        """Return the port actually bound (useful when asked for port 0)."""
        return int(self._server.server_address[1])

    def close(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
