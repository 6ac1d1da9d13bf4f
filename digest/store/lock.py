"""One scheduler or run per database: a file lock for SQLite, an advisory lock for PostgreSQL.

`digest serve` holds it for its lifetime; `digest run` holds it while it runs, so system cron
and the service never build and send the same period at the same time. Both kinds of lock are
dropped by the operating system or the database server when the holding process dies, so a
crash (even kill -9) never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from filelock import FileLock, Timeout
from sqlalchemy.exc import SQLAlchemyError

from digest.config import Settings
from digest.errors import LockError

# The two-int form of pg_advisory_lock: ('dige', 'st\0\1'). Advisory locks are per database,
# so one fixed key is "the digest lock" of that database.
PG_LOCK_KEYS = (0x64696765, 0x73740001)
_POLL = 0.2
# How `digest serve` names itself as the holder, so `digest run` knows it can hand over.
SERVICE_ROLE = "digest serve"


def lock_path(settings: Settings) -> Path:
    """Return the lock file for the settings' database (beside it, or in the data dir)."""
    url = settings.storage_url
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        db = Path(url.removeprefix("sqlite:///"))
        return db.with_name(db.name + ".lock")
    return settings.data_dir / "digest.lock"


def holder_name(role: str = "") -> str:
    """Return how this process names itself to other processes: '[ROLE, ]pid N on HOST'."""
    where = f"pid {os.getpid()} on {socket.gethostname()}"
    return f"{role}, {where}" if role else where


def held_by_service(exc: LockError) -> bool:
    """Return True when a LockError says a `digest serve` holds the lock."""
    return f"held by {SERVICE_ROLE}," in exc.message


def is_postgres(settings: Settings) -> bool:
    """Return True when the settings' database is PostgreSQL (advisory lock, not a file)."""
    return settings.storage_url.startswith(("postgresql", "postgres:"))


@contextmanager
def run_lock(settings: Settings, *, wait: float = 0.0, role: str = "") -> Iterator[None]:
    """Hold the database's lock for the block; raise LockError naming the holder if taken.

    role (SERVICE_ROLE for `digest serve`) is part of the holder's name others see.
    """
    if is_postgres(settings):
        lock = _pg_lock(settings, wait, holder_name(role))
    else:
        lock = _file_lock(settings, wait, holder_name(role))
    with lock:
        yield


def lock_holder(settings: Settings) -> str | None:
    """Return who holds the database's lock ('pid N on HOST'), or None when it is free.

    It probes by taking the lock for an instant, so a `digest serve` starting in that very
    instant would see it taken and exit; `digest status` is the only caller. Raises
    LockError when the lock cannot be checked.
    """
    try:
        with run_lock(settings):
            return None
    except LockError as exc:
        if not exc.message.startswith("held by "):
            raise  # the lock could not be checked at all (say, the server is down)
        return exc.message.removeprefix("held by ")


@contextmanager
def _file_lock(settings: Settings, wait: float, holder: str) -> Iterator[None]:
    path = lock_path(settings)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LockError(str(path.parent), f"cannot create the lock's folder: {exc}") from exc
    holder_file = path.with_name(path.name + ".holder")
    lock = FileLock(str(path), timeout=wait)
    try:
        lock.acquire()
    except Timeout as exc:
        other = holder_file.read_text(encoding="utf-8").strip() if holder_file.exists() else "?"
        raise LockError(str(path), f"held by {other or '?'}") from exc
    except OSError as exc:  # another user's data folder: the lock file is not ours to open
        raise LockError(str(path), f"cannot open the lock: {exc.strerror}") from exc
    try:
        # Written after taking the lock, so it always names the current holder.
        holder_file.write_text(holder + "\n", encoding="utf-8")
        with _inode_lock(settings, wait):
            yield
    finally:
        lock.release()


@contextmanager
def _inode_lock(settings: Settings, wait: float) -> Iterator[None]:
    """Hold an flock on the database file itself, which every name of it shares.

    The lock file is found by the database's path, and a hard link (or a symlink) is another
    path to the same file: a second service through it would take its own lock file. An
    flock belongs to the file (the inode), whatever the name it was opened by, and is
    independent of SQLite's own fcntl locks. A file not made yet has no other name.
    """
    db = Path(settings.storage_url.removeprefix("sqlite:///"))
    try:
        fd = os.open(db, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        yield
        return
    except OSError as exc:
        raise LockError(str(db), f"cannot open to lock: {exc}") from exc
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as exc:
                if time.monotonic() >= deadline:
                    node = os.fstat(fd)
                    raise LockError(
                        str(db),
                        "held by another process using this very database file under another "
                        f"name (a hard link or symlink: device {node.st_dev}, inode "
                        f"{node.st_ino})",
                    ) from exc
                time.sleep(_POLL)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)  # closing it releases the flock


@contextmanager
def _pg_lock(settings: Settings, wait: float, holder: str) -> Iterator[None]:
    """Hold a session-level advisory lock on its own connection for the block."""
    url = sa.engine.make_url(settings.storage_url)
    where = url.render_as_string(hide_password=True)
    # The application name is how a second process finds out who holds the lock.
    engine = sa.create_engine(
        url,
        poolclass=sa.pool.NullPool,
        connect_args={"application_name": f"digest {holder}"[:63]},
    )
    try:
        with engine.connect() as conn:
            _pg_acquire(conn, where, wait)
            try:
                yield
            finally:
                _pg_release(conn)
    except SQLAlchemyError as exc:
        raise LockError(where, f"advisory lock: {str(exc).splitlines()[0]}") from exc
    finally:
        engine.dispose()


def _pg_acquire(conn: sa.Connection, where: str, wait: float) -> None:
    deadline = time.monotonic() + wait
    query = sa.text("SELECT pg_try_advisory_lock(:a, :b)")
    keys = {"a": PG_LOCK_KEYS[0], "b": PG_LOCK_KEYS[1]}
    while True:
        got = bool(conn.execute(query, keys).scalar())
        conn.commit()  # the lock is session-level: it outlives this transaction
        if got:
            return
        if time.monotonic() >= deadline:
            raise LockError(where, f"held by {_pg_holder(conn)}")
        time.sleep(_POLL)


def _pg_release(conn: sa.Connection) -> None:
    try:
        conn.execute(
            sa.text("SELECT pg_advisory_unlock(:a, :b)"),
            {"a": PG_LOCK_KEYS[0], "b": PG_LOCK_KEYS[1]},
        )
        conn.commit()
    except SQLAlchemyError:
        pass  # a dropped connection has released the lock already


def _pg_holder(conn: sa.Connection) -> str:
    row: Any = conn.execute(
        sa.text(
            "SELECT a.application_name, a.pid, a.client_addr FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted "
            "AND l.classid = :a AND l.objid = :b AND l.objsubid = 2"
        ),
        {"a": PG_LOCK_KEYS[0], "b": PG_LOCK_KEYS[1]},
    ).first()
    conn.commit()
    if row is None:
        return "? (released meanwhile)"
    name = row.application_name.removeprefix("digest ") or "?"
    return f"{name} (server backend {row.pid}, client {row.client_addr or 'local socket'})"
