"""A throwaway PostgreSQL cluster for the tests: initdb into a temp dir, a Unix socket there.

Started once per test session (conftest's `postgres_server`), on a free port, and stopped at
the end. The server refuses to run as root, so as root (CI) it runs as the `postgres` user
that Debian's package creates, or else as `nobody`. Skipping is allowed only where a
developer has not installed the server and cannot: not root and no server binaries. As
root (CI, or `make test` after `make system-deps`) a server that cannot start fails the tests.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

_counter = itertools.count(1)


def server_binaries() -> Path | None:
    """Return the folder with initdb, pg_ctl and postgres (Debian keeps them off PATH)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(str(Path(os.path.realpath(on_path)).parent))
    for folder in candidates:
        if all((Path(folder) / name).exists() for name in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """One running cluster; `new_database()` returns the URL of a fresh, empty database."""

    def __init__(self, bindir: Path) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="digest-pg-"))
        self.base.chmod(0o755)
        self.data, self.log = self.base / "data", self.base / "server.log"
        self.port = _free_port()
        self.bindir = bindir
        self.run_as: list[str] = []
        if os.geteuid() == 0:  # the server refuses to run as root
            user = _service_user()
            self.run_as = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}"]
            self.run_as.append("--clear-groups")
            os.chown(self.base, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        options = (
            f"-k {self.base} -p {self.port} -c listen_addresses='' -F "
            "-c max_connections=200 -c shared_buffers=32MB"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")

    def _run(self, tool: str, *args: str) -> None:
        cmd = [*self.run_as, str(self.bindir / tool), *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=self.base)
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(
                f"PostgreSQL test server: {tool} failed ({done.returncode}):\n"
                f"{done.stdout}\n{done.stderr}\n{log}"
            )

    def url(self, database: str = "postgres") -> str:
        """Return the SQLAlchemy URL of a database on this server (psycopg 3, Unix socket)."""
        return f"postgresql+psycopg://postgres@/{database}?host={self.base}&port={self.port}"

    def new_database(self) -> str:
        """Create an empty database and return its URL."""
        import psycopg

        name = f"t{os.getpid()}_{next(_counter)}"
        with psycopg.connect(
            host=str(self.base), port=self.port, user="postgres", dbname="postgres",
            autocommit=True,
        ) as conn:  # fmt: skip
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server at once and remove its files."""
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def _service_user() -> pwd.struct_passwd:
    """Return the user the server runs as when the tests run as root."""
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root, but neither a postgres nor a nobody user exists")
