"""The delivery ledger: every query against the `deliveries` table (with its run).

A row is one (run, recipient) message. Its life:

    pending --claim--> (attempts+1, leased) --final dot--> sending --250--> sent
       ^                      |                                  \\--4xx/5xx--> retry / failed
       +------- retry <-------+ (4xx, refused, timeout)          \\--no answer--> sending (unknown)
                                                     (dropped before the dot was written --> retry)

The message bytes are stored when the row is created (a transactional outbox), so a re-run
sends the very same bytes and Message-ID. 'sent' and 'written' rows are never sent again;
a row left in 'sending' (the process died after handing the message over) is not sent again
automatically either: that is the at-most-once choice, see digest/deliver/send.py.

A recipient whose message could not be built (rendering failed, a malformed address) gets
a 'failed' row without bytes (`built` False), so it shows in `digest deliveries`; the next
delivery pass of the same run builds it again (`rebuild`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa

from digest.errors import StoreError
from digest.models import Delivery, DeliveryStatus
from digest.store import Store, deliveries, runs

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
        )


_COLUMNS = [c for c in deliveries.c if c.name != "message"]


def _select() -> sa.Select[Any]:
    built = deliveries.c.message.is_not(None).label("built")
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
    message: bytes | None,
    message_id: str,
    now: datetime,
    status: str = "pending",
    error: str | None = None,
) -> LedgerRow:
    """Insert the row with its message bytes (unless one exists); return the stored row."""
    # Store.insert_ignore is the one dialect switch for INSERT .. ON CONFLICT DO NOTHING.
    insert = store.insert_ignore(deliveries).values(
        run_id=run_id,
        recipient=recipient,
        status=status,
        message_id=message_id,
        message=message,
        attempts=0,
        error=error,
        created_at=now,
        updated_at=now,
        next_attempt_at=now if status in DUE else None,
    )
    with store.begin() as conn:
        conn.execute(insert)  # a row made meanwhile by another process wins; never two
    row = find(store, run_id, recipient)
    if row is None:  # the insert succeeded or lost to another's: either way a row is there
        raise StoreError(f"deliveries of run {run_id}", f"no row for {recipient} after its insert")
    return row


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


def claim(store: Store, row_id: int, now: datetime, lease: timedelta) -> bytes | None:
    """Take a due row for one attempt (attempts+1, leased); return its bytes, None if taken."""
    with store.begin() as conn:
        taken = conn.execute(
            sa.update(deliveries)
            .where(
                deliveries.c.id == row_id,
                deliveries.c.status.in_(DUE),
                sa.or_(deliveries.c.next_attempt_at.is_(None), deliveries.c.next_attempt_at <= now),
            )
            .values(attempts=deliveries.c.attempts + 1, updated_at=now, next_attempt_at=now + lease)
        )
        if taken.rowcount != 1:
            return None
        data = conn.execute(
            sa.select(deliveries.c.message).where(deliveries.c.id == row_id)
        ).scalar_one()
    return bytes(data) if data is not None else None


def _update(store: Store, row_id: int, **values: Any) -> None:
    with store.begin() as conn:
        conn.execute(sa.update(deliveries).where(deliveries.c.id == row_id).values(**values))


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


def requeue(store: Store, row_id: int, message: bytes, message_id: str, now: datetime) -> None:
    """Make a row due now with new message bytes: a resend asked for on purpose."""
    _update(
        store,
        row_id,
        status="pending",
        message=message,
        message_id=message_id,
        error=None,
        updated_at=now,
        next_attempt_at=now,
    )


def rebuild(
    store: Store,
    row_id: int,
    *,
    message: bytes | None,
    message_id: str,
    now: datetime,
    error: str | None = None,
) -> None:
    """Give a row that could not be built its message (due now), or record why it failed again.

    Only a 'failed' row without bytes changes: a built row keeps its bytes and Message-ID.
    """
    values: dict[str, Any] = (
        {"status": "pending", "message": message, "error": None, "next_attempt_at": now}
        if message is not None
        else {"status": "failed", "error": error, "next_attempt_at": None}
    )
    with store.begin() as conn:
        conn.execute(
            sa.update(deliveries)
            .where(
                deliveries.c.id == row_id,
                deliveries.c.status == "failed",
                deliveries.c.message.is_(None),
            )
            .values(message_id=message_id, updated_at=now, **values)
        )


def message(store: Store, row_id: int) -> bytes | None:
    """Return a row's stored message bytes (None when it could not be built)."""
    with store.begin() as conn:
        query = sa.select(deliveries.c.message).where(deliveries.c.id == row_id)
        data = conn.execute(query).scalar_one_or_none()
    return bytes(data) if data is not None else None
