"""The database schema: SQLAlchemy tables and the ordered migrations that create them.

Tables: feeds (state per feed URL), articles (unique on feed+guid and on canonical URL),
runs (unique on digest+period), deliveries (unique on run+recipient, with the message kept
in the row: a transactional outbox), digest_events (what each digest showed, so a later
digest can mark a continuing story as developing), opt_outs (who unsubscribed), requests
(runs handed to a running `digest serve`), the language model's cache, daily tokens and
latest run per digest (llm_replies, llm_usage, llm_runs), and store_meta (the database's own
identity).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from digest.errors import StoreError


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
    # Its page was not fetched in time (or over the feed's cap): the feed's text is stored,
    # and later passes try the page again, up to a few attempts (added by migration v4).
    sa.Column("page_pending", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("page_attempts", sa.Integer, nullable=False, server_default="0"),
    # The outlet an aggregator's item names in its `<source>` ("" when the feed is the
    # outlet): events count outlets, not feeds (added by migration v7).
    sa.Column("outlet", sa.Text, nullable=False, server_default=""),
    sa.UniqueConstraint("feed_url", "guid", name="uq_articles_feed_guid"),
    sa.UniqueConstraint("url", name="uq_articles_url"),
    sa.Index("ix_articles_page_pending", "page_pending"),
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


# Replies of a language model that passed the fact guard, by a hash of the event's content
# (so a re-run or a re-send asks nothing again), and the tokens spent per UTC day (budget).
llm_replies = sa.Table(
    "llm_replies",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("reply", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False, index=True),
)

llm_usage = sa.Table(
    "llm_usage",
    metadata,
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("tokens", sa.Integer, nullable=False, default=0),
)

# What the language model did in each digest's latest run, by outcome (one row a digest):
# `digest status` shows it for builds and --no-send runs too, which leave no runs row.
llm_runs = sa.Table(
    "llm_runs",
    metadata,
    sa.Column("digest", sa.Text, primary_key=True),
    sa.Column("period_key", sa.Text, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("counts", sa.Text, nullable=False, default="{}"),
)

# Recipients who unsubscribed: digest "*" means from every digest of this database.
opt_outs = sa.Table(
    "opt_outs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("digest", sa.Text, nullable=False),
    sa.Column("address", sa.Text, nullable=False),
    sa.Column("how", sa.Text, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("digest", "address", name="uq_opt_outs_digest_address"),
)

# `digest run` asking a running `digest serve` to do a run now (it holds the lock): the
# service polls for 'new' rows, takes one, runs it and stores the result for the waiting CLI.
requests = sa.Table(
    "requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("options", sa.Text, nullable=False, default="{}"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("result", sa.Text),
    # Which service took it and the last beat of that service's heartbeat (added by v8): a
    # waiting `digest run` gives up when the beats stop, and a new service fails what a dead
    # one left taken.
    sa.Column("taken_by", sa.Text),
    sa.Column("heartbeat_at", UTCDateTime),
)

# Facts about the database itself: "database_id", a random id written when the schema is
# made (v8) and copied into the has-runs marker beside an SQLite file, so that a file replaced
# by another database (even a valid, empty one) is told apart from the one the runs were in.
store_meta = sa.Table(
    "store_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
DATABASE_ID = "database_id"


def _v1(conn: Connection) -> None:
    metadata.create_all(conn, tables=[feeds, articles, runs, deliveries, digest_events])


def _v2(conn: Connection) -> None:
    metadata.create_all(conn, tables=[llm_replies, llm_usage])


def _v3(conn: Connection) -> None:
    metadata.create_all(conn, tables=[opt_outs, requests])


def _v4(conn: Connection) -> None:
    # A database made by v1 before these columns existed lacks them; one made since has them
    # (v1 creates the table as defined now).
    _add_columns(conn, articles, ("page_pending", "page_attempts"))
    next(i for i in articles.indexes if i.name == "ix_articles_page_pending").create(
        conn, checkfirst=True
    )


STALE_FINGERPRINT = "stale:"  # the prefix v5 gives fingerprints of the old hashing


def _v5(conn: Connection) -> None:
    # Fingerprints are hashed anew (numpy, not blake2b per shingle), and an old one
    # never matches a new one. The store cannot compute them (fetching owns the hashing), so
    # they are marked; the next fetch pass recomputes them (Store.refresh_fingerprints).
    c = articles.c
    stale = sa.literal(STALE_FINGERPRINT) + c.fingerprint
    conn.execute(sa.update(articles).where(c.fingerprint != "").values(fingerprint=stale))


def _v6(conn: Connection) -> None:
    metadata.create_all(conn, tables=[llm_runs])


def _v7(conn: Connection) -> None:
    # Articles stored before have no outlet of their own: their feed is their outlet.
    _add_columns(conn, articles, ("outlet",))


def _v8(conn: Connection) -> None:
    metadata.create_all(conn, tables=[store_meta])
    known = sa.select(store_meta.c.key).where(store_meta.c.key == DATABASE_ID)
    if conn.execute(known).first() is None:
        conn.execute(sa.insert(store_meta).values(key=DATABASE_ID, value=uuid.uuid4().hex))
    # A database made by v3 before these columns existed lacks them.
    _add_columns(conn, requests, ("taken_by", "heartbeat_at"))


def _add_columns(conn: Connection, table: sa.Table, names: tuple[str, ...]) -> None:
    """Add the table's columns a database made before they existed lacks."""
    have = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
    for name in names:
        if name not in have:
            column = sa.schema.CreateColumn(table.c[name]).compile(dialect=conn.dialect)
            conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {column}"))


# Ordered migrations: index i upgrades the schema from version i to i + 1. Append only.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (_v1, _v2, _v3, _v4, _v5, _v6, _v7, _v8)
