"""All SQL: SQLAlchemy Core over SQLite (WAL) by default, PostgreSQL by URL; ordered migrations.

Tables: feeds (state per feed URL), articles (unique on feed+guid and on canonical URL),
runs (unique on digest+period), deliveries (unique on run+recipient, with the message kept
in the row: a transactional outbox), digest_events (what each digest showed, so a later
digest can mark a continuing story as developing).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from digest.errors import StoreError
from digest.models import Article, FeedSource, FeedState, PastEvent, RunRecord


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and returns them aware (SQLite keeps no zone)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise StoreError("datetime", f"naive datetime {value!r} (times must be aware)")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied_at", UTCDateTime, nullable=False),
)

feeds = sa.Table(
    "feeds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("url", sa.Text, nullable=False, unique=True),
    sa.Column("title", sa.Text, nullable=False, default=""),
    sa.Column("name", sa.Text, nullable=False, default=""),
    sa.Column("tags", sa.Text, nullable=False, default="[]"),
    sa.Column("added", sa.Boolean, nullable=False, default=False),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("error_count", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("last_success_at", UTCDateTime),
    sa.Column("next_check_at", UTCDateTime),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
)

articles = sa.Table(
    "articles",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("feed_url", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("guid", sa.Text, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("published", UTCDateTime, nullable=False, index=True),
    sa.Column("fetched", UTCDateTime, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("fingerprint", sa.Text, nullable=False, default=""),
    sa.Column("tags", sa.Text, nullable=False, default="[]"),
    sa.Column("image_url", sa.Text),
    sa.UniqueConstraint("feed_url", "guid", name="uq_articles_feed_guid"),
    sa.UniqueConstraint("url", name="uq_articles_url"),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("digest", sa.Text, nullable=False),
    sa.Column("period_key", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("report", sa.Text, nullable=False, default="{}"),
    sa.UniqueConstraint("digest", "period_key", name="uq_runs_digest_period"),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("recipient", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("message_id", sa.Text, nullable=False, default=""),
    sa.Column("message", sa.LargeBinary),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("error", sa.Text),
    sa.Column("path", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime),
    sa.UniqueConstraint("run_id", "recipient", name="uq_deliveries_run_recipient"),
)

digest_events = sa.Table(
    "digest_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("digest", sa.Text, nullable=False),
    sa.Column("event_key", sa.Text, nullable=False),
    sa.Column("headline", sa.Text, nullable=False),
    sa.Column("first_seen", UTCDateTime, nullable=False),
    sa.Column("shown_at", UTCDateTime, nullable=False, index=True),
    sa.Column("article_urls", sa.Text, nullable=False),
    sa.Column("terms", sa.Text, nullable=False, default="[]"),
)


def _v1(conn: Connection) -> None:
    metadata.create_all(conn, tables=[feeds, articles, runs, deliveries, digest_events])


# Ordered migrations: index i upgrades the schema from version i to i + 1. Append only.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (_v1,)


class Store:
    """The database: one engine, with one short transaction per call."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """Yield a connection inside one transaction, mapping database errors to StoreError."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError(
                self.engine.url.render_as_string(hide_password=True), str(exc).splitlines()[0]
            ) from exc

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()

    # -- feeds -----------------------------------------------------------------------------

    def feed_state(self, url: str) -> FeedState:
        """Return the stored state of a feed (a blank state for a feed never fetched)."""
        with self.begin() as conn:
            row = conn.execute(sa.select(feeds).where(feeds.c.url == url)).mappings().first()
        return _feed_state(row) if row else FeedState(url=url)

    def feed_states(self) -> tuple[FeedState, ...]:
        """Return the state of every feed the store knows, by URL."""
        with self.begin() as conn:
            rows = conn.execute(sa.select(feeds).order_by(feeds.c.url)).mappings().all()
        return tuple(_feed_state(r) for r in rows)

    def save_feed_state(self, state: FeedState) -> None:
        """Insert or update a feed's state."""
        values = {
            "title": state.title,
            "etag": state.etag,
            "last_modified": state.last_modified,
            "error_count": state.error_count,
            "last_error": state.last_error,
            "last_success_at": state.last_success_at,
            "next_check_at": state.next_check_at,
            "disabled": state.disabled,
        }
        with self.begin() as conn:
            self._upsert_feed(conn, state.url, values)

    def _upsert_feed(self, conn: Connection, url: str, values: dict[str, Any]) -> None:
        updated = conn.execute(sa.update(feeds).where(feeds.c.url == url).values(**values))
        if updated.rowcount == 0:
            conn.execute(sa.insert(feeds).values(url=url, **values))

    def added_feeds(self) -> tuple[FeedSource, ...]:
        """Return the feeds added with `digest feeds add` (beside the configured ones)."""
        with self.begin() as conn:
            rows = conn.execute(sa.select(feeds).where(feeds.c.added)).mappings().all()
        return tuple(
            FeedSource(url=r["url"], name=r["name"], tags=tuple(json.loads(r["tags"])))
            for r in rows
        )

    def add_feed(self, source: FeedSource) -> None:
        """Remember a feed added from the command line."""
        with self.begin() as conn:
            self._upsert_feed(
                conn,
                source.url,
                {"added": True, "name": source.name, "tags": json.dumps(list(source.tags))},
            )

    def remove_feed(self, url: str) -> bool:
        """Forget a feed's state (its articles stay); return whether it was known."""
        with self.begin() as conn:
            return conn.execute(sa.delete(feeds).where(feeds.c.url == url)).rowcount > 0

    # -- articles --------------------------------------------------------------------------

    def add_articles(self, items: Iterable[Article]) -> tuple[Article, ...]:
        """Insert articles, skipping any already stored by feed+guid or URL; return the new ones."""
        new: list[Article] = []
        with self.begin() as conn:
            for a in items:
                stmt = self.insert_ignore(articles).values(
                    feed_url=a.feed_url,
                    source=a.source,
                    guid=a.guid,
                    url=a.url,
                    title=a.title,
                    published=a.published,
                    fetched=a.fetched or a.published,
                    text=a.text,
                    language=a.language,
                    fingerprint=a.fingerprint,
                    tags=json.dumps(list(a.tags)),
                    image_url=a.image_url,
                )
                result = conn.execute(stmt)
                if result.rowcount:
                    key = result.inserted_primary_key
                    new.append(_with_id(a, int(key[0]) if key and key[0] is not None else None))
        return tuple(new)

    def insert_ignore(self, table: sa.Table) -> Any:
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table).on_conflict_do_nothing()
        return sqlite.insert(table).on_conflict_do_nothing()

    def has_fingerprint(self, fingerprint: str) -> bool:
        """Return True when an article with this text fingerprint is already stored."""
        with self.begin() as conn:
            return (
                conn.execute(
                    sa.select(articles.c.id).where(articles.c.fingerprint == fingerprint).limit(1)
                ).first()
                is not None
            )

    def stored_guids(self, feed_url: str) -> frozenset[str]:
        """Return the guids already stored for a feed (so known entries are not re-fetched)."""
        with self.begin() as conn:
            rows = conn.execute(sa.select(articles.c.guid).where(articles.c.feed_url == feed_url))
            return frozenset(r[0] for r in rows)

    def recent_fingerprints(self, since: datetime) -> tuple[str, ...]:
        """Return the non-empty text fingerprints of articles fetched since a time."""
        query = sa.select(articles.c.fingerprint).where(
            articles.c.fetched >= since, articles.c.fingerprint != ""
        )
        with self.begin() as conn:
            return tuple(dict.fromkeys(r[0] for r in conn.execute(query.order_by(articles.c.id))))

    def articles_between(
        self, start: datetime, end: datetime, feed_urls: Sequence[str] | None = None
    ) -> tuple[Article, ...]:
        """Return the articles published in [start, end), oldest first, optionally by feed."""
        query = sa.select(articles).where(articles.c.published >= start, articles.c.published < end)
        if feed_urls is not None:
            query = query.where(articles.c.feed_url.in_(list(feed_urls)))
        with self.begin() as conn:
            rows = conn.execute(query.order_by(articles.c.published, articles.c.id)).mappings()
            return tuple(_article(r) for r in rows)

    def article_count(self) -> int:
        """Return how many articles are stored."""
        with self.begin() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(articles)).scalar_one())

    # -- retention -------------------------------------------------------------------------

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
        return {"articles": gone_articles, "events": gone_events, "messages": emptied}

    # -- runs ------------------------------------------------------------------------------

    def claim_run(self, digest: str, period_key: str, now: datetime) -> RunRecord:
        """Return the run row for a digest period, creating it with status 'started'."""
        with self.begin() as conn:
            stmt = self.insert_ignore(runs).values(
                digest=digest, period_key=period_key, status="started", started_at=now, report="{}"
            )
            conn.execute(stmt)
            row = (
                conn.execute(
                    sa.select(runs).where(runs.c.digest == digest, runs.c.period_key == period_key)
                )
                .mappings()
                .one()
            )
        return _run(row)

    def finish_run(self, run_id: int, status: str, report: str, now: datetime) -> None:
        """Record a run's final status and its report (JSON)."""
        with self.begin() as conn:
            conn.execute(
                sa.update(runs)
                .where(runs.c.id == run_id)
                .values(status=status, report=report, finished_at=now)
            )

    def get_run(self, digest: str, period_key: str) -> RunRecord | None:
        """Return the run of a digest period, or None when it never started."""
        with self.begin() as conn:
            row = (
                conn.execute(
                    sa.select(runs).where(runs.c.digest == digest, runs.c.period_key == period_key)
                )
                .mappings()
                .first()
            )
        return _run(row) if row else None

    def recent_runs(self, digest: str | None = None, limit: int = 20) -> tuple[RunRecord, ...]:
        """Return the latest runs, newest first, optionally of one digest."""
        query = sa.select(runs).order_by(runs.c.started_at.desc(), runs.c.id.desc()).limit(limit)
        if digest is not None:
            query = query.where(runs.c.digest == digest)
        with self.begin() as conn:
            return tuple(_run(r) for r in conn.execute(query).mappings().all())

    # -- past events -----------------------------------------------------------------------

    def record_events(
        self, run_id: int, digest: str, shown_at: datetime, events: Iterable[PastEvent]
    ) -> None:
        """Remember what a digest showed, for marking developing stories later."""
        with self.begin() as conn:
            conn.execute(sa.delete(digest_events).where(digest_events.c.run_id == run_id))
            for e in events:
                conn.execute(
                    sa.insert(digest_events).values(
                        run_id=run_id,
                        digest=digest,
                        event_key=e.key,
                        headline=e.headline,
                        first_seen=e.first_seen,
                        shown_at=shown_at,
                        article_urls=json.dumps(list(e.article_urls)),
                        terms=json.dumps(list(e.terms)),
                    )
                )

    def past_events(
        self, digest: str, since: datetime, before: datetime, *, except_period: str | None = None
    ) -> tuple[PastEvent, ...]:
        """Return the events shown by a digest between two times (not by one period), newest first."""
        query = (
            sa.select(digest_events)
            .join(runs, runs.c.id == digest_events.c.run_id)
            .where(
                digest_events.c.digest == digest,
                digest_events.c.shown_at >= since,
                digest_events.c.shown_at < before,
            )
            .order_by(digest_events.c.shown_at.desc())
        )
        if except_period is not None:
            query = query.where(runs.c.period_key != except_period)
        with self.begin() as conn:
            rows = conn.execute(query).mappings().all()
        return tuple(
            PastEvent(
                key=r["event_key"],
                headline=r["headline"],
                first_seen=r["first_seen"],
                article_urls=tuple(json.loads(r["article_urls"])),
                terms=tuple(json.loads(r["terms"])),
            )
            for r in rows
        )


def _feed_state(r: Any) -> FeedState:
    return FeedState(
        url=r["url"],
        title=r["title"] or "",
        etag=r["etag"],
        last_modified=r["last_modified"],
        error_count=r["error_count"] or 0,
        last_error=r["last_error"],
        last_success_at=r["last_success_at"],
        next_check_at=r["next_check_at"],
        disabled=bool(r["disabled"]),
    )


def _run(r: Any) -> RunRecord:
    return RunRecord(
        id=r["id"],
        digest=r["digest"],
        period_key=r["period_key"],
        status=r["status"],
        started_at=r["started_at"],
        finished_at=r["finished_at"],
        report=r["report"],
    )


def _article(r: Any) -> Article:
    return Article(
        id=r["id"],
        feed_url=r["feed_url"],
        source=r["source"],
        guid=r["guid"],
        url=r["url"],
        title=r["title"],
        published=r["published"],
        fetched=r["fetched"],
        text=r["text"],
        language=r["language"],
        fingerprint=r["fingerprint"],
        tags=tuple(json.loads(r["tags"])),
        image_url=r["image_url"],
    )


def _with_id(a: Article, article_id: int | None) -> Article:
    from dataclasses import replace

    return replace(a, id=article_id)


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
    """Return a Store on the database at url, creating it and applying pending migrations."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if str(path) not in ("", ":memory:"):
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
    store = Store(engine)
    migrate(store)
    return store


def migrate(store: Store) -> int:
    """Apply pending migrations in order; return the schema version reached."""
    with store.begin() as conn:
        schema_version.create(conn, checkfirst=True)
        current = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0
        for version in range(current, len(MIGRATIONS)):
            MIGRATIONS[version](conn)
            conn.execute(
                sa.insert(schema_version).values(version=version + 1, applied_at=datetime.now(UTC))
            )
    return len(MIGRATIONS)
