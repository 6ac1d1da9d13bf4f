"""Shared fixtures: a real loopback HTTP server over a folder, and config files in tmp dirs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def serve_dir() -> Iterator[Any]:
    """Serve folders over HTTP on 127.0.0.1; return a function folder -> base URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(folder: Path) -> str:
        server = ThreadingHTTPServer(
            ("127.0.0.1", 0), partial(_QuietHandler, directory=str(folder))
        )
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


# -- databases: every store, ledger, request and lock test runs on SQLite and on PostgreSQL --


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """Start one throwaway PostgreSQL cluster for the session (see tests/pgserver.py).

    Skipped only when the server is not installed and cannot be (not root): as root, as on
    CI after `make system-deps`, a server that does not start fails the tests loudly.
    """
    import os

    from pgserver import PostgresServer, server_binaries

    bindir = server_binaries()
    if bindir is None:
        if os.geteuid() != 0 and not os.environ.get("CI"):
            pytest.skip(
                "PostgreSQL server binaries (initdb, pg_ctl) are not installed: "
                "`make system-deps` as root installs Debian's postgresql"
            )
        pytest.fail("PostgreSQL server binaries are missing: run `make system-deps` as root")
    server = PostgresServer(bindir)
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a new, empty database: an SQLite file, then a database on the test server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'digest.db'}"
    server = request.getfixturevalue("postgres_server")
    return str(server.new_database())
