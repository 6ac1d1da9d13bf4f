"""The Store: SQLAlchemy Core over SQLite (WAL) by default, PostgreSQL by URL; migrations.

All SQL lives in the Store: its queries are split by subject (digest/store/feeds.py for feeds
and articles, digest/store/runs.py for runs and past events), the tables and migrations are
digest/store/schema.py, and retention, which spans the tables, is here.
"""

from __future__ import annotations

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
from digest.store.requests import RequestQueries
from digest.store.runs import RunQueries
from digest.store.schema import (
    MIGRATIONS,
    articles,
    deliveries,
    digest_events,
    llm_replies,
    runs,
    schema_version,
)


class Store(FeedQueries, RunQueries, LlmQueries, RequestQueries):
    """The database: one engine, with one short transaction per call."""

    def prune(self, before: datetime) -> dict[str, int]:
        """Forget what is older than before; return how many rows each table lost.

        Articles published and fetched before it and the events digests showed go; delivery
        rows stay (they keep a period from being sent twice) but lose their message bytes
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
                    deliveries.c.message.is_not(None),
                )
                .values(message=None)
            ).rowcount
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


def open_store(url: str) -> Store:
    """Return a Store on the database at url, creating it and applying pending migrations.

    An SQLite file that is missing, empty or another database where runs were recorded
    before (its marker is beside it, naming the database's id) is refused with a StoreError
    rather than used as if nothing had been sent.
    """
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
        schema_version.create(conn, checkfirst=True)
        current = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0
        for version in range(current, len(MIGRATIONS)):
            MIGRATIONS[version](conn)
            conn.execute(
                sa.insert(schema_version).values(version=version + 1, applied_at=wall_clock())
            )
    return len(MIGRATIONS)
