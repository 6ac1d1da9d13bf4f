"""Opt-outs and hand-over requests: who unsubscribed, and runs asked of a running service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from digest.errors import StoreError
from digest.store.base import StoreBase
from digest.store.schema import opt_outs, requests

ALL_DIGESTS = "*"


@dataclass(frozen=True, slots=True)
class OptOut:
    """One recipient's unsubscription: from one digest, or from all ('*')."""

    digest: str
    address: str
    how: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Request:
    """A run handed to the service: its options (JSON), status and result.

    Status: 'new', 'taken' (by the service named in taken_by, which beats heartbeat_at
    while it runs it), then 'done' (result: the reports' JSON), 'failed' (result: the
    error, one line) or 'cancelled' (the requester withdrew it before anyone took it).
    """

    id: int
    kind: str
    options: str
    status: str
    created_at: datetime
    result: str | None = None
    taken_by: str | None = None
    heartbeat_at: datetime | None = None


def normal_address(address: str) -> str:
    """Return an address as opt-outs, bounces and tokens keep it."""
    # Mail systems treat the domain case-insensitively; so do opt-outs, local part included.
    return address.strip().casefold()


class RequestQueries(StoreBase):
    """The Store's opt-out and request queries."""

    # -- opt-outs --------------------------------------------------------------------------

    def opt_out(self, digest: str, address: str, how: str, now: datetime) -> bool:
        """Record an unsubscription; return False when it was recorded before."""
        stmt = self.insert_ignore(opt_outs).values(
            digest=digest, address=normal_address(address), how=how, at=now
        )
        # RETURNING, not rowcount: psycopg reports -1 for an INSERT that SQLAlchemy runs
        # with its implicit RETURNING, which read as "recorded" even when the row existed.
        with self.begin() as conn:
            return conn.execute(stmt.returning(opt_outs.c.id)).first() is not None

    def opt_in(self, digest: str, address: str) -> bool:
        """Forget an unsubscription; return False when there was none."""
        query = sa.delete(opt_outs).where(
            opt_outs.c.digest == digest, opt_outs.c.address == normal_address(address)
        )
        with self.begin() as conn:
            return bool(conn.execute(query).rowcount)

    def opt_in_everywhere(self, address: str) -> tuple[OptOut, ...]:
        """Forget every unsubscription of an address (any digest, or all); return them."""
        where = opt_outs.c.address == normal_address(address)
        with self.begin() as conn:
            rows = conn.execute(sa.select(opt_outs).where(where)).mappings().all()
            conn.execute(sa.delete(opt_outs).where(where))
        return tuple(OptOut(r["digest"], r["address"], r["how"], r["at"]) for r in rows)

    def opted_out(self, digest: str) -> frozenset[str]:
        """Return the (casefolded) addresses that unsubscribed from a digest or from all."""
        query = sa.select(opt_outs.c.address).where(opt_outs.c.digest.in_((digest, ALL_DIGESTS)))
        with self.begin() as conn:
            return frozenset(str(a) for a in conn.execute(query).scalars())

    def opt_outs(self) -> tuple[OptOut, ...]:
        """Return every unsubscription, oldest first."""
        query = sa.select(opt_outs).order_by(opt_outs.c.at, opt_outs.c.id)
        with self.begin() as conn:
            rows = conn.execute(query).mappings().all()
        return tuple(OptOut(r["digest"], r["address"], r["how"], r["at"]) for r in rows)

    # -- requests --------------------------------------------------------------------------

    def add_request(self, kind: str, options: str, now: datetime) -> int:
        """Queue a request for the service; return its id."""
        stmt = sa.insert(requests).values(
            kind=kind, options=options, status="new", created_at=now, updated_at=now
        )
        with self.begin() as conn:
            key = conn.execute(stmt).inserted_primary_key
        if key is None:
            raise StoreError("requests", f"the {kind} request was stored without an id")
        return int(key[0])

    def take_request(self, now: datetime, taken_by: str = "") -> Request | None:
        """Take the oldest new request (status 'taken'); return it, or None when none waits."""
        with self.begin() as conn:
            for row in conn.execute(
                sa.select(requests).where(requests.c.status == "new").order_by(requests.c.id)
            ).mappings():
                taken = conn.execute(
                    sa.update(requests)
                    .where(requests.c.id == row["id"], requests.c.status == "new")
                    .values(status="taken", taken_by=taken_by, heartbeat_at=now, updated_at=now)
                )
                if taken.rowcount == 1:
                    return _request(
                        {**row, "status": "taken", "taken_by": taken_by, "heartbeat_at": now}
                    )
        return None

    def beat_request(self, request_id: int, taken_by: str, now: datetime) -> bool:
        """Renew the heartbeat of a request this service runs; False when it is not ours."""
        with self.begin() as conn:
            beat = conn.execute(
                sa.update(requests)
                .where(
                    requests.c.id == request_id,
                    requests.c.status == "taken",
                    requests.c.taken_by == taken_by,
                )
                .values(heartbeat_at=now)
            )
        return beat.rowcount == 1

    def fail_request(
        self, request_id: int, error: str, now: datetime, *, heartbeat: datetime | None = None
    ) -> bool:
        """Mark a taken request failed with a one-line error; False when it is not taken.

        With heartbeat (what the requester last saw), only if no beat came since: a
        requester giving up on a silent service never overrides one that is still running.
        """
        where = [requests.c.id == request_id, requests.c.status == "taken"]
        if heartbeat is not None:
            where.append(requests.c.heartbeat_at == heartbeat)
        with self.begin() as conn:
            failed = conn.execute(
                sa.update(requests)
                .where(*where)
                .values(status="failed", result=error, updated_at=now)
            )
        return failed.rowcount == 1

    def fail_orphaned_requests(self, taken_by: str, now: datetime) -> tuple[Request, ...]:
        """Fail the requests left taken by another service (dead: this one holds the lock)."""
        with self.begin() as conn:
            rows = conn.execute(
                sa.select(requests).where(
                    requests.c.status == "taken",
                    sa.or_(requests.c.taken_by.is_(None), requests.c.taken_by != taken_by),
                )
            ).mappings()
            orphans = [_request(r) for r in rows]
            for r in orphans:
                error = (
                    f"the service that took it ({r.taken_by or '?'}) stopped before finishing "
                    "it; run the command again"
                )
                conn.execute(
                    sa.update(requests)
                    .where(requests.c.id == r.id, requests.c.status == "taken")
                    .values(status="failed", result=error, updated_at=now)
                )
        return tuple(orphans)

    def finish_request(self, request_id: int, result: str, now: datetime) -> None:
        """Store a request's result (JSON) and mark it done."""
        with self.begin() as conn:
            conn.execute(
                sa.update(requests)
                .where(requests.c.id == request_id)
                .values(status="done", result=result, updated_at=now)
            )

    def cancel_request(self, request_id: int, now: datetime) -> bool:
        """Withdraw a request nobody took yet; return False when the service took it already."""
        with self.begin() as conn:
            return self._move(conn, request_id, "new", "cancelled", now)

    def get_request(self, request_id: int) -> Request | None:
        """Return a request, or None."""
        with self.begin() as conn:
            row = conn.execute(sa.select(requests).where(requests.c.id == request_id)).mappings()
            found = row.first()
        return _request(found) if found else None

    @staticmethod
    def _move(conn: sa.Connection, request_id: int, old: str, new: str, now: datetime) -> bool:
        taken = conn.execute(
            sa.update(requests)
            .where(requests.c.id == request_id, requests.c.status == old)
            .values(status=new, updated_at=now)
        )
        return taken.rowcount == 1


def _request(r: Mapping[Any, Any]) -> Request:
    return Request(
        id=r["id"],
        kind=r["kind"],
        options=r["options"],
        status=r["status"],
        created_at=r["created_at"],
        result=r["result"],
        taken_by=r.get("taken_by"),
        heartbeat_at=r.get("heartbeat_at"),
    )
