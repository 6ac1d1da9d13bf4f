"""The database schema: SQLAlchemy tables and the ordered migrations that create them.

Tables: feeds (state per feed URL), articles (unique on feed+guid and on canonical URL),
runs (unique on digest+period), deliveries (unique on run+recipient, with the message kept
with the row: a transactional outbox; the recipient's headers in the row, the period's body
once in delivery_bodies), digest_events (what each digest showed, so a later digest can mark
a continuing story as developing), opt_outs (who unsubscribed), requests (runs handed to a
running `digest serve`), the language model's cache, daily tokens and latest run per digest
(llm_replies, llm_usage, llm_runs), bounces (consecutive permanent failures per address, and
suspensions), recipient_tokens (the opaque ids unsubscribe links carry) and store_meta (the
database's own identity).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
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
    # The fetch settings the last attempt used, hashed (added by migration v8).
    sa.Column("settings_key", sa.Text, nullable=False, server_default=""),
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

# A period's message body (MIME parts: HTML, text, PDF, EPUB, .ics), once per run and per
# distinct content (recipients asking for other formats get another body), by its SHA-256.
delivery_bodies = sa.Table(
    "delivery_bodies",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.UniqueConstraint("run_id", "sha256", name="uq_delivery_bodies_run_sha"),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("recipient", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("message_id", sa.Text, nullable=False, default=""),
    # The recipient's own part of the message: its header block and unsubscribe token; the
    # body is the period's shared one (v8: before, the whole message was kept per row).
    sa.Column("head", sa.LargeBinary),
    sa.Column("body_id", sa.Integer, sa.ForeignKey("delivery_bodies.id")),
    sa.Column("token", sa.Text),
    # Who holds the claim on a due row (a `digest worker` job), so a dead one's is released.
    sa.Column("claimed_by", sa.Text),
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


# Consecutive permanent delivery failures (5xx) per address, across digests and periods: a
# delivered message clears the row; enough failures in a row suspend the address.
bounces = sa.Table(
    "bounces",
    metadata,
    sa.Column("address", sa.Text, primary_key=True),  # casefolded, as in opt_outs
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_key", sa.Text, nullable=False),  # "digest|period" of the last one counted
    sa.Column("last_error", sa.Text, nullable=False),
    sa.Column("last_at", UTCDateTime, nullable=False),
    sa.Column("suspended_at", UTCDateTime),
)

# The random id an unsubscribe link names instead of the address (signed with the secret).
recipient_tokens = sa.Table(
    "recipient_tokens",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("digest", sa.Text, nullable=False),
    sa.Column("address", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("digest", "address", name="uq_recipient_tokens_digest_address"),
)


def _v1(conn: Connection) -> None:
    tables = [feeds, articles, runs, delivery_bodies, deliveries, digest_events]
    metadata.create_all(conn, tables=tables)


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


def _add_columns(conn: Connection, table: sa.Table, names: tuple[str, ...]) -> None:
    """Add the table's columns a database made before they existed lacks."""
    have = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
    for name in names:
        if name not in have:
            column = sa.schema.CreateColumn(table.c[name]).compile(dialect=conn.dialect)
            conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {column}"))


def _v8(conn: Connection) -> None:
    # A period's message is kept once: each row's stored message is split into its header
    # block (kept in the row) and its body (kept once per distinct body in delivery_bodies),
    # which joined again give the very bytes stored before (no token to fill: the old rows
    # hold it written out).
    delivery_bodies.create(conn, checkfirst=True)
    had = {c["name"] for c in sa.inspect(conn).get_columns("deliveries")}
    _add_columns(conn, deliveries, ("head", "body_id", "token", "claimed_by"))
    if "message" not in had:
        return  # made by v1 as defined now
    last = 0
    while True:  # a few hundred rows at a time: each may hold a few hundred KB
        rows = conn.execute(
            sa.text(
                "SELECT id, run_id, message FROM deliveries WHERE id > :last "
                "AND message IS NOT NULL ORDER BY id LIMIT 200"
            ),
            {"last": last},
        ).all()
        if not rows:
            break
        for row_id, run_id, message in rows:
            head, body = split_message(bytes(message))
            body_id = store_body(conn, int(run_id), body)
            conn.execute(
                sa.update(deliveries)
                .where(deliveries.c.id == row_id)
                .values(head=head, body_id=body_id, token=None)
            )
            last = int(row_id)
    conn.execute(sa.text("ALTER TABLE deliveries DROP COLUMN message"))


def split_message(data: bytes) -> tuple[bytes, bytes]:
    """Split a message into its header block (ending in CRLF) and the rest (from the blank line).

    A message without a blank line is all head, with an empty body.
    """
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return data, b""
    return data[: end + 2], data[end + 2 :]


def store_body(conn: Connection, run_id: int, body: bytes) -> int:
    """Keep a message body once per run (by its SHA-256); return its id."""
    sha = hashlib.sha256(body).hexdigest()
    c = delivery_bodies.c
    found = conn.execute(sa.select(c.id).where(c.run_id == run_id, c.sha256 == sha)).scalar()
    if found is None:
        insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(
            delivery_bodies
        ).on_conflict_do_nothing()  # another writer may store it meanwhile
        conn.execute(insert.values(run_id=run_id, sha256=sha, body=body))
        found = conn.execute(
            sa.select(c.id).where(c.run_id == run_id, c.sha256 == sha)
        ).scalar_one()
    return int(found)


def _v9(conn: Connection) -> None:
    metadata.create_all(conn, tables=[bounces, recipient_tokens])
    _add_columns(conn, feeds, ("settings_key",))


def _v10(conn: Connection) -> None:
    metadata.create_all(conn, tables=[store_meta])
    known = sa.select(store_meta.c.key).where(store_meta.c.key == DATABASE_ID)
    if conn.execute(known).first() is None:
        conn.execute(sa.insert(store_meta).values(key=DATABASE_ID, value=uuid.uuid4().hex))
    # A database made by v3 before these columns existed lacks them.
    _add_columns(conn, requests, ("taken_by", "heartbeat_at"))


# Ordered migrations: index i upgrades the schema from version i to i + 1. Append only.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (
    _v1, _v2, _v3, _v4, _v5, _v6, _v7, _v8, _v9, _v10,
)  # fmt: skip
