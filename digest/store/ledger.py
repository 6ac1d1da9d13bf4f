"""The delivery ledger: every query against the `deliveries` table (with its run).

A row is one (run, recipient) message. Its life:

    pending --claim--> (attempts+1, leased) --final dot--> sending --250--> sent
       ^                      |                                  \\--4xx/5xx--> retry / failed
       +------- retry <-------+ (4xx, refused, timeout)          \\--no answer--> sending (unknown)
                                                     (dropped before the dot was written --> retry)

The message is stored when the row is created (a transactional outbox), so a re-run sends
the very same bytes and Message-ID. It is kept in two parts (digest.models.MessageParts):
the row holds the recipient's header block and unsubscribe token, and the body (HTML, text,
PDF, EPUB, .ics) is kept once per run in delivery_bodies, shared by every recipient with the
same body; digest/deliver/message.py joins them into the exact bytes.

'sent' and 'written' rows are never sent again; a row left in 'sending' (the process died
after handing the message over) is not sent again automatically either: that is the
at-most-once choice, see digest/deliver/send.py. A claim names its holder (a `digest worker`
job): when that worker is found dead, `release` makes its claimed rows due at once instead
of after the lease.

A recipient whose message could not be built (rendering failed, a malformed address) gets
a 'failed' row without bytes (`built` False), so it shows in `digest deliveries`; the next
delivery pass of the same run builds it again (`rebuild`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from digest.errors import StoreError
from digest.models import Delivery, DeliveryStatus, MessageParts
from digest.store import messages
from digest.store.database import Store
from digest.store.messages import message_values, stored_body
from digest.store.schema import deliveries, runs, store_body

DONE = ("sent", "written")
DUE = ("pending", "retry")
UNKNOWN_NOTE = (
    "interrupted while the server was receiving it; outcome unknown, not resent "
    "automatically (at-most-once): check, then `digest resend {id}`"
)


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One row of the deliveries table, with its run's digest name and period."""

    id: int
    run_id: int
    digest: str
    period_key: str
    recipient: str
    status: str
    message_id: str
    attempts: int
    error: str | None
    path: str | None
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None
    built: bool = True  # False when the message could not be built (no stored bytes)

    def to_delivery(self) -> Delivery:
        """Return the row as the pipeline's Delivery ('sending' is reported as failed)."""
        status, error = self.status, self.error
        if status == "sending":
            status, error = "failed", error or UNKNOWN_NOTE.format(id=self.id)
        return Delivery(
            recipient=self.recipient,
            status=cast(DeliveryStatus, status),
            message_id=self.message_id,
            attempts=self.attempts,
            error=error,
            path=self.path,
            next_attempt_at=self.next_attempt_at if status == "retry" else None,
        )


_COLUMNS = [c for c in deliveries.c if c.name not in ("head", "body_id", "token", "claimed_by")]


def _select() -> sa.Select[Any]:
    built = deliveries.c.head.is_not(None).label("built")
    return sa.select(*_COLUMNS, built, runs.c.digest, runs.c.period_key).join(
        runs, runs.c.id == deliveries.c.run_id
    )


def _row(r: Any) -> LedgerRow:
    return LedgerRow(
        id=r["id"],
        run_id=r["run_id"],
        digest=r["digest"],
        period_key=r["period_key"],
        recipient=r["recipient"],
        status=r["status"],
        message_id=r["message_id"] or "",
        attempts=r["attempts"] or 0,
        error=r["error"],
        path=r["path"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        next_attempt_at=r["next_attempt_at"],
        built=bool(r["built"]),
    )


def _many(store: Store, query: sa.Select[Any]) -> tuple[LedgerRow, ...]:
    with store.begin() as conn:
        return tuple(_row(r) for r in conn.execute(query).mappings().all())


def run_key(store: Store, run_id: int) -> tuple[str, str]:
    """Return (digest name, period key) of a run."""
    with store.begin() as conn:
        row = conn.execute(sa.select(runs.c.digest, runs.c.period_key).where(runs.c.id == run_id))
        found = row.first()
    if found is None:
        raise LookupError(f"no run with id {run_id}")
    return str(found[0]), str(found[1])


def find(store: Store, run_id: int, recipient: str) -> LedgerRow | None:
    """Return the row of a run's recipient, or None when it was never created."""
    rows = _many(
        store,
        _select().where(deliveries.c.run_id == run_id, deliveries.c.recipient == recipient),
    )
    return rows[0] if rows else None


def get(store: Store, row_id: int) -> LedgerRow | None:
    """Return the row with this id, or None."""
    rows = _many(store, _select().where(deliveries.c.id == row_id))
    return rows[0] if rows else None


def find_by(store: Store, digest: str, period_key: str, recipient: str) -> LedgerRow | None:
    """Return the row of (digest, period, recipient), or None."""
    rows = _many(
        store,
        _select().where(
            runs.c.digest == digest,
            runs.c.period_key == period_key,
            deliveries.c.recipient == recipient,
        ),
    )
    return rows[0] if rows else None


def create(
    store: Store,
    run_id: int,
    recipient: str,
    *,
    message: MessageParts | None,
    message_id: str,
    now: datetime,
    status: str = "pending",
    error: str | None = None,
) -> LedgerRow:
    """Insert the row with its message (unless one exists); return the stored row."""
    with store.begin() as conn:
        values = message_values(conn, run_id, message)
        # Store.insert_ignore is the one dialect switch for INSERT .. ON CONFLICT DO NOTHING.
        insert = store.insert_ignore(deliveries).values(
            run_id=run_id,
            recipient=recipient,
            status=status,
            message_id=message_id,
            attempts=0,
            error=error,
            created_at=now,
            updated_at=now,
            next_attempt_at=now if status in DUE else None,
            **values,
        )
        conn.execute(insert)  # a row made meanwhile by another process wins; never two
    row = find(store, run_id, recipient)
    if row is None:  # the insert succeeded or lost to another's: either way a row is there
        raise StoreError(f"deliveries of run {run_id}", f"no row for {recipient} after its insert")
    return row


@dataclass(frozen=True, slots=True)
class NewRow:
    """A ledger row to create: a recipient's message, or why it could not be built."""

    recipient: str
    message: MessageParts | None
    message_id: str
    error: str | None = None


def create_many(store: Store, run_id: int, rows: Sequence[NewRow], now: datetime) -> None:
    """Insert the rows (those without a message as 'failed') in one transaction.

    A row that exists already (made meanwhile by another process) is kept as it is.
    """
    if not rows:
        return
    with store.begin() as conn:
        body_ids: dict[bytes, int] = {}
        values = []
        for r in rows:
            own: dict[str, Any] = {"head": None, "body_id": None, "token": None}
            if r.message is not None:
                body = r.message.body
                if body not in body_ids:
                    body_ids[body] = store_body(conn, run_id, body)
                own = {"head": r.message.head, "body_id": body_ids[body], "token": r.message.token}
            status = "pending" if r.message is not None else "failed"
            values.append({
                "run_id": run_id, "recipient": r.recipient, "status": status,
                "message_id": r.message_id, "attempts": 0, "error": r.error,
                "created_at": now, "updated_at": now,
                "next_attempt_at": now if status in DUE else None, **own,
            })  # fmt: skip
        conn.execute(store.insert_ignore(deliveries), values)


def for_run(store: Store, run_id: int) -> tuple[LedgerRow, ...]:
    """Return every row of a run, in creation order."""
    return _many(store, _select().where(deliveries.c.run_id == run_id).order_by(deliveries.c.id))


def due(store: Store, now: datetime, run_id: int | None = None) -> tuple[LedgerRow, ...]:
    """Return the pending/retry rows whose next attempt is due, optionally of one run."""
    query = _select().where(
        deliveries.c.status.in_(DUE),
        sa.or_(deliveries.c.next_attempt_at.is_(None), deliveries.c.next_attempt_at <= now),
    )
    if run_id is not None:
        query = query.where(deliveries.c.run_id == run_id)
    return _many(store, query.order_by(deliveries.c.id))


def listing(
    store: Store,
    *,
    digest: str | None = None,
    statuses: Sequence[str] = (),
    limit: int = 100,
) -> tuple[LedgerRow, ...]:
    """Return the newest rows first, filtered by digest name and statuses."""
    query = _select().order_by(deliveries.c.id.desc()).limit(limit)
    if digest is not None:
        query = query.where(runs.c.digest == digest)
    if statuses:
        query = query.where(deliveries.c.status.in_(list(statuses)))
    return _many(store, query)


def undelivered(store: Store) -> int:
    """Return how many rows are neither sent nor written (pending, retry, failed, unknown)."""
    with store.begin() as conn:
        query = sa.select(sa.func.count()).where(deliveries.c.status.not_in(DONE))
        return int(conn.execute(query.select_from(deliveries)).scalar_one())


def claim(
    store: Store, row_id: int, now: datetime, lease: timedelta, by: str | None = None
) -> MessageParts | None:
    """Take a due row for one attempt (attempts+1, leased); return its message, None if taken.

    `by` names the holder (a worker's job), so that `release` can end its lease early.
    """
    return claim_many(store, [row_id], now, lease, by).get(row_id)


def claim_many(
    store: Store, row_ids: Sequence[int], now: datetime, lease: timedelta, by: str | None = None
) -> dict[int, MessageParts]:
    """Take the due rows among row_ids for one attempt each, in one transaction; return the
    messages of those taken, by row id (a row another process holds is left out).

    The lease must cover every attempt the caller makes before the last of these rows is
    sent: they are all claimed now.
    """
    if not row_ids:
        return {}
    d = deliveries.c
    with store.begin() as conn:
        taken = conn.execute(
            sa.update(deliveries)
            .where(
                d.id.in_(list(row_ids)),
                d.status.in_(DUE),
                sa.or_(d.next_attempt_at.is_(None), d.next_attempt_at <= now),
            )
            .values(
                attempts=d.attempts + 1,
                updated_at=now,
                next_attempt_at=now + lease,
                claimed_by=by,
            )
            .returning(d.id, d.head, d.token, d.body_id)
        ).all()
        return {
            int(r.id): MessageParts(
                head=bytes(r.head),
                body=stored_body(conn, r.body_id) if r.body_id is not None else b"",
                token=r.token,
            )
            for r in taken
            if r.head is not None  # nothing to send: the row could not be built
        }


def _update(store: Store, row_id: int, **values: Any) -> None:
    query = sa.update(deliveries).where(deliveries.c.id == row_id)
    with _one_statement(store) as conn:
        conn.execute(query.values(claimed_by=None, **values))


@contextmanager
def _one_statement(store: Store) -> Iterator[sa.Connection]:
    """Yield a connection for one statement that commits by itself.

    On a database server a transaction around a single UPDATE costs three round trips
    (BEGIN, the statement, COMMIT) where autocommit costs one; sending a message records
    two such updates, and their round trips were most of a worker's time per message.
    SQLite (in-process, no round trips) keeps its usual transaction.
    """
    if store.engine.dialect.name != "postgresql":
        with store.begin() as conn:
            yield conn
        return
    try:
        with store.engine.connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")
    except SQLAlchemyError as exc:  # named as Store.begin names them
        where = store.engine.url.render_as_string(hide_password=True)
        raise StoreError(where, str(exc).splitlines()[0]) from exc


def release(store: Store, by: str, now: datetime) -> int:
    """Make the rows a dead holder claimed and left due-but-leased due now; return how many.

    Only rows still 'pending' or 'retry' under that holder's claim change: a row it marked
    'sending' stays so (the at-most-once rule), and one it finished is not claimed any more.
    """
    with store.begin() as conn:
        released = conn.execute(
            sa.update(deliveries)
            .where(
                deliveries.c.claimed_by == by,
                deliveries.c.status.in_(DUE),
                deliveries.c.next_attempt_at > now,
            )
            .values(next_attempt_at=now, claimed_by=None)
            .returning(deliveries.c.id)
        )
        return len(released.all())


def due_ids(store: Store, now: datetime, run_id: int | None = None) -> tuple[int, ...]:
    """Return the ids of the due rows, oldest first (what `digest worker` jobs are given)."""
    d = deliveries.c
    query = sa.select(d.id).where(
        d.status.in_(DUE), sa.or_(d.next_attempt_at.is_(None), d.next_attempt_at <= now)
    )
    if run_id is not None:
        query = query.where(d.run_id == run_id)
    with store.begin() as conn:
        return tuple(int(i) for i in conn.execute(query.order_by(d.id)).scalars())


def rows(store: Store, ids: Sequence[int]) -> tuple[LedgerRow, ...]:
    """Return the rows with these ids, in id order."""
    return _many(store, _select().where(deliveries.c.id.in_(list(ids))).order_by(deliveries.c.id))


def mark_sending(store: Store, row_id: int, now: datetime) -> None:
    """Record that the message is being handed over (committed before the final dot)."""
    _update(store, row_id, status="sending", updated_at=now)


def mark_done(
    store: Store, row_id: int, status: str, now: datetime, path: str | None = None
) -> None:
    """Record a message sent ('sent') or written to a file ('written')."""
    _update(
        store, row_id, status=status, updated_at=now, error=None, next_attempt_at=None, path=path
    )


def mark_retry(store: Store, row_id: int, error: str, now: datetime, next_at: datetime) -> None:
    """Record a transient failure and when to try again."""
    _update(store, row_id, status="retry", error=error, updated_at=now, next_attempt_at=next_at)


def mark_failed(store: Store, row_id: int, error: str, now: datetime) -> None:
    """Record a permanent failure (or one past the retry deadline)."""
    _update(store, row_id, status="failed", error=error, updated_at=now, next_attempt_at=None)


def mark_unknown(store: Store, row_id: int, error: str, now: datetime) -> None:
    """Record that the server may or may not have accepted the message (left 'sending')."""
    _update(store, row_id, status="sending", error=error, updated_at=now, next_attempt_at=None)


def requeue(
    store: Store, row_id: int, message: MessageParts, message_id: str, now: datetime
) -> None:
    """Make a row due now with a new message: a resend asked for on purpose."""
    row = get(store, row_id)
    if row is None:
        raise StoreError(f"delivery {row_id}", "no such delivery to send again")
    with store.begin() as conn:
        conn.execute(
            sa.update(deliveries)
            .where(deliveries.c.id == row_id)
            .values(
                status="pending",
                message_id=message_id,
                error=None,
                updated_at=now,
                next_attempt_at=now,
                **message_values(conn, row.run_id, message),
            )
        )


def rebuild(
    store: Store,
    row_id: int,
    *,
    message: MessageParts | None,
    message_id: str,
    now: datetime,
    error: str | None = None,
) -> None:
    """Give a row that could not be built its message (due now), or record why it failed again.

    Only a 'failed' row without a message changes: a built row keeps its message and Message-ID.
    """
    row = get(store, row_id)
    if row is None:
        return
    with store.begin() as conn:
        values: dict[str, Any] = (
            {"status": "pending", "error": None, "next_attempt_at": now}
            | message_values(conn, row.run_id, message)
            if message is not None
            else {"status": "failed", "error": error, "next_attempt_at": None}
        )
        conn.execute(
            sa.update(deliveries)
            .where(
                deliveries.c.id == row_id,
                deliveries.c.status == "failed",
                deliveries.c.head.is_(None),
            )
            .values(message_id=message_id, updated_at=now, **values)
        )


# A row's stored message and the bytes all messages take, kept with the ledger's queries.
message = messages.message
stored_bytes = messages.stored_bytes
