"""One scheduler or run per database: a file lock beside a SQLite database.

`digest serve` holds it for its lifetime; `digest run` holds it while it runs, so system cron
and the service never build and send the same period at the same time.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from digest.config import Settings
from digest.errors import LockError


def lock_path(settings: Settings) -> Path:
    """Return the lock file for the settings' database (beside it, or in the data dir)."""
    url = settings.storage_url
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        db = Path(url.removeprefix("sqlite:///"))
        return db.with_name(db.name + ".lock")
    return settings.data_dir / "digest.lock"


@contextmanager
def run_lock(settings: Settings, *, wait: float = 0.0) -> Iterator[None]:
    """Hold the database's lock for the block; raise LockError naming the holder if taken."""
    path = lock_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    holder_file = path.with_name(path.name + ".holder")
    lock = FileLock(str(path), timeout=wait)
    try:
        lock.acquire()
    except Timeout as exc:
        holder = holder_file.read_text(encoding="utf-8").strip() if holder_file.exists() else "?"
        raise LockError(str(path), f"held by {holder}") from exc
    try:
        holder_file.write_text(f"pid {os.getpid()} on {socket.gethostname()}\n", encoding="utf-8")
        yield
    finally:
        lock.release()
