"""The Store: SQLAlchemy Core over SQLite (WAL) by default, PostgreSQL by URL; migrations.

All SQL lives in the Store: its queries are split by subject (digest/store/feeds.py for feeds
and articles, digest/store/runs.py for runs and past events), the tables and migrations are
digest/store/schema.py, and retention, which spans the tables, is here.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from digest.errors import StoreError
from digest.models import wall_clock
from digest.store.base import MARKER_SUFFIX, marker_id
from digest.store.feeds import FeedQueries
from digest.store.llm import LlmQueries
from digest.store.recipients import RecipientQueries
from digest.store.requests import RequestQueries
from digest.store.runs import RunQueries
from digest.store.schema import (
    MIGRATIONS,
    articles,
    deliveries,
    delivery_bodies,
    digest_events,
    llm_replies,
    runs,
    schema_version,
)


class Store(FeedQueries, RunQueries, LlmQueries, RequestQueries, RecipientQueries):
    """The database: one engine, with one short transaction per call."""

    def prune(self, before: datetime) -> dict[str, int]:
        """Forget what is older than before; return how many rows each table lost.

        Articles published and fetched before it and the events digests showed go; delivery
        rows stay (they keep a period from being sent twice) but lose their message
        once sent or written, as only `digest resend` would need them.
        """
        with self.begin() as conn:
            gone_articles = conn.execute(
                sa.delete(articles).where(
                    articles.c.published < before, articles.c.fetched < before
                )
            ).rowcount
            gone_events = conn.execute(
                sa.delete(digest_events).where(digest_events.c.shown_at < before)
            ).rowcount
            emptied = conn.execute(
                sa.update(deliveries)
                .where(
                    deliveries.c.status.in_(("sent", "written")),
                    deliveries.c.updated_at < before,
                    deliveries.c.head.is_not(None),
                )
                .values(head=None, body_id=None, token=None)
            ).rowcount
            # A body goes with the last row that used it.
            used = sa.select(deliveries.c.body_id).where(deliveries.c.body_id.is_not(None))
            conn.execute(sa.delete(delivery_bodies).where(delivery_bodies.c.id.not_in(used)))
            gone_replies = conn.execute(
                sa.delete(llm_replies).where(llm_replies.c.created_at < before)
            ).rowcount
        return {
            "articles": gone_articles,
            "events": gone_events,
            "messages": emptied,
            "llm_replies": gone_replies,
        }


def _on_connect(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    # WAL lets the service read while a run writes; NORMAL sync is durable at each commit in
    # WAL mode except across power loss, which is the usual trade-off for a local cache.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _on_connect_read_only(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def can_write(url: str) -> bool:
    """Return False for an SQLite file this process may read but not write (another user's
    data folder): commands that only read then open it with open_store(read_only=True)."""
    if not url.startswith("sqlite:///"):
        return True
    path = Path(url.removeprefix("sqlite:///"))
    if not path.is_file():
        return True  # created by whoever opens it first
    # SQLite writes beside the file too (its -wal and -shm files).
    return os.access(path, os.R_OK | os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)


def open_store(url: str, *, read_only: bool = False, upgrade: bool = True) -> Store:
    """Return a Store on the database at url, creating it and applying pending migrations.

    An SQLite file that is missing, empty or another database where runs were recorded
    before (its marker is beside it, naming the database's id) is refused with a StoreError
    rather than used as if nothing had been sent. With read_only, an existing SQLite file is
    opened for reading only (nothing created, nothing migrated). Without upgrade, pending
    migrations are left to the caller (`digest migrate`).
    """
    if read_only and url.startswith("sqlite:///"):
        return _open_read_only(Path(url.removeprefix("sqlite:///")))
    marker = None
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if str(path) not in ("", ":memory:"):
            marker = path.with_name(path.name + MARKER_SUFFIX)
            _refuse_lost_database(path, marker)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(str(path.parent), f"cannot create data directory: {exc}") from exc
    try:
        engine = sa.create_engine(url)
    except (SQLAlchemyError, ValueError) as exc:
        raise StoreError(url, f"bad storage URL: {exc}") from exc
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _on_connect)
    store = Store(engine, marker)
    if marker is not None and marker.exists():
        _refuse_another_database(store, marker)  # before migrating writes anything into it
    if not upgrade:
        _check_version(store, schema_of(store))
        return store
    migrate(store)
    if marker is not None and store.recent_runs(limit=1):
        store.note_runs_recorded()  # a database from before markers existed
    return store


def _refuse_lost_database(path: Path, marker: Path) -> None:
    """Raise StoreError when the marker says runs were recorded but the file is gone or empty."""
    try:
        if not marker.exists():
            return
        state = "empty (0 bytes)" if path.exists() and path.stat().st_size == 0 else None
        state = state or (None if path.exists() else "missing")
    except OSError as exc:
        raise StoreError(str(path), f"cannot read: {exc}") from exc
    if state:
        raise StoreError(
            str(path),
            f"the database is {state}, but {marker} says runs were recorded in it: restore "
            "it from a backup, or delete the marker to start a new database (every recipient "
            "would get the current period again)",
        )


# ('dige', 'st\0\2'): beside the run lock's ('dige', 'st\0\1') of digest/store/lock.py.
MIGRATION_LOCK_KEYS = (0x64696765, 0x73740002)


def _open_read_only(path: Path) -> Store:
    """Return a Store reading an SQLite file this process may not write.

    Reading a WAL database takes its -shm file; while the service runs it is there and
    SQLite reads through it. When no process has the database open there is no -wal (the
    last one to close checkpointed it into the file), so the file alone is the database and
    is read as immutable: no -shm is needed, which a read-only folder could not hold.
    """
    if not path.is_file():
        raise StoreError(str(path), "no database here yet (and this user may not create one)")
    try:
        probe = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
            mode = "mode=ro"
        finally:
            probe.close()
    except sqlite3.OperationalError as exc:
        if path.with_name(path.name + "-wal").exists():
            raise StoreError(str(path), f"cannot read: {exc}") from exc
        mode = "immutable=1"
    engine = sa.create_engine(f"sqlite:///file:{path}?{mode}&uri=true")
    sa.event.listen(engine, "connect", _on_connect_read_only)
    store = Store(engine, None)
    with store.begin() as conn:
        current = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0
    _check_version(store, current)
    if current < len(MIGRATIONS):
        raise StoreError(
            str(path),
            f"the database is at schema {current}, this digest reads schema {len(MIGRATIONS)}: "
            "run `digest migrate` as the user who owns it first",
        )
    return store


def _check_version(store: Store, current: int) -> None:
    """Raise StoreError when the database was migrated by a newer digest than this one."""
    if current > len(MIGRATIONS):
        where = store.engine.url.render_as_string(hide_password=True)
        raise StoreError(
            where,
            f"the database is at schema {current}, newer than this digest's "
            f"{len(MIGRATIONS)}: a newer version of digest migrated it. Install that version "
            "again, or restore the backup taken before the upgrade (docs/operating.md, "
            '"Upgrading")',
        )


def backup(store: Store, target: Path) -> None:
    """Copy an SQLite database to target (SQLite's online backup: a consistent copy)."""
    url = store.engine.url
    if url.get_backend_name() != "sqlite" or not url.database:
        raise StoreError(url.render_as_string(hide_password=True), "only SQLite files are copied")
    try:
        with sqlite3.connect(url.database) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        source.close()
        copy.close()
    except sqlite3.Error as exc:
        raise StoreError(str(target), f"cannot write the backup: {exc}") from exc


def schema_of(store: Store) -> int:
    """Return the schema version the database is at (0 for a new one)."""
    with store.begin() as conn:
        schema_version.create(conn, checkfirst=True)
        return int(conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0)


def _refuse_another_database(store: Store, marker: Path) -> None:
    """Raise StoreError when the file is not the database the marker says runs were in.

    An empty but valid SQLite file (4 KB after `PRAGMA journal_mode=WAL`) has no id; a
    database from elsewhere has another one. A marker written before ids existed names
    none: then the file must at least hold recorded runs.
    """
    path = marker.with_name(marker.name.removesuffix(MARKER_SUFFIX))
    expected, found = marker_id(marker), store.database_id()
    if expected is not None:
        if found == expected:
            return
        has = f"database-id {found}" if found else "no database-id (a new database)"
        problem = f"this file has {has}, but {marker} says runs were recorded in {expected}"
    else:
        with store.begin() as conn:
            recorded = (
                sa.inspect(conn).has_table(runs.name)
                and conn.execute(sa.select(sa.func.count()).select_from(runs)).scalar()
            )
        if recorded:
            return
        problem = f"this file has no recorded runs, but {marker} says runs were recorded in it"
    store.close()
    raise StoreError(
        str(path),
        f"{problem}: restore the database from a backup, or delete the marker to start a new "
        "database (every recipient would get the current period again)",
    )


def migrate(store: Store) -> int:
    """Apply pending migrations in order; return the schema version reached."""
    with store.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Processes started together (`digest serve` and its workers) migrate one at a
            # time; the lock ends with the transaction.
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(*MIGRATION_LOCK_KEYS)))
        schema_version.create(conn, checkfirst=True)
        current = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0
        _check_version(store, current)
        for version in range(current, len(MIGRATIONS)):
            MIGRATIONS[version](conn)
            conn.execute(
                sa.insert(schema_version).values(version=version + 1, applied_at=wall_clock())
            )
    return len(MIGRATIONS)
