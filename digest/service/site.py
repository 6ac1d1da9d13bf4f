"""`digest serve --http HOST:PORT`: the archive site as static files, on its own thread.

Only files under the site folder are served (the standard library's handler resolves paths
inside its directory and refuses to climb out; a symlink leading out of it and a name
starting with "." answer 404); folders without an index.html answer 404 rather than listing
their files. The server is bounded (digest/service/background.py). It is kept apart from the health server so that either can
be run alone; both answer the one-click /unsubscribe (service/unsubscribe.py) when a secret
is set.
"""

from __future__ import annotations

import os
from functools import partial
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any

from digest.service import unsubscribe
from digest.service.background import BackgroundServer, GuardedHandler
from digest.service.unsubscribe import Unsubscriber

CONTENT_TYPES = {
    ".atom": "application/atom+xml",
    ".epub": "application/epub+zip",
    ".ics": "text/calendar; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
}


def parse_address(value: str) -> tuple[str, int]:
    """Return (host, port) of 'HOST:PORT' ('[::1]:8080' for IPv6); ValueError otherwise."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{value!r} is not HOST:PORT like 127.0.0.1:8080")
    return host.strip("[]") or "127.0.0.1", int(port)


class _SiteHandler(GuardedHandler, SimpleHTTPRequestHandler):
    server_version = "digest-site"
    unsubscriber: Unsubscriber | None = None

    def do_GET(self) -> None:
        if not unsubscribe.answer(self, self.unsubscriber):
            super().do_GET()

    def do_POST(self) -> None:
        if not unsubscribe.answer(self, self.unsubscriber):
            self.send_error(404, "not found")

    def guess_type(self, path: Any) -> str:
        return CONTENT_TYPES.get(Path(str(path)).suffix.lower()) or super().guess_type(path)

    def list_directory(self, path: Any) -> None:
        self.send_error(404, "not found")  # an archive folder's file list is nobody's business
        return None

    def send_head(self) -> Any:
        # Only files really inside the site folder: a symlink may point anywhere on the
        # machine, and names starting with "." (the half-written files and folders of a
        # publish in progress) are never served.
        path = self.translate_path(self.path)
        root = os.path.realpath(self.directory)
        parts = Path(os.path.relpath(path, self.directory)).parts
        real = os.path.realpath(path)
        inside = real == root or real.startswith(root + os.sep)
        if not inside or any(p.startswith(".") for p in parts if p != "."):
            self.send_error(404, "not found")
            return None
        return super().send_head()


class SiteServer(BackgroundServer):
    """A static file server for the archive site on its own daemon thread."""

    def __init__(
        self, site_dir: Path, host: str, port: int, unsubscriber: Unsubscriber | None = None
    ) -> None:
        site_dir.mkdir(parents=True, exist_ok=True)
        handler_class = type("_Handler", (_SiteHandler,), {"unsubscriber": unsubscriber})
        super().__init__(partial(handler_class, directory=str(site_dir)), host, port, "--http")


def start_site_server(
    site_dir: Path, host: str, port: int, unsubscriber: Unsubscriber | None = None
) -> SiteServer:
    """Return a running static server for site_dir on host:port (port 0 picks a free one)."""
    server = SiteServer(site_dir, host, port, unsubscriber)
    server.start()
    return server
