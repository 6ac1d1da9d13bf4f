"""Recipients' state beyond the config: bounces and suspensions, and unsubscribe-link ids.

A permanent failure (a 5xx answer) of a message counts against its address once per digest
period; a message delivered to the address clears the count. After `smtp.suspend_after`
such failures in a row the address is suspended: no digest is sent to it until
`digest subscribers resume ADDRESS`. Unsubscribe links name a random id kept here, so the
link does not show the address it unsubscribes.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from digest.store.base import StoreBase
from digest.store.requests import normal_address
from digest.store.schema import bounces, recipient_tokens

_PER_STATEMENT = 500  # addresses per statement: within every database's parameter limit


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


@dataclass(frozen=True, slots=True)
class Bounces:
    """An address's consecutive permanent failures, and since when it is suspended."""

    address: str
    failures: int
    last_error: str
    last_at: datetime
    suspended_at: datetime | None = None


class RecipientQueries(StoreBase):
    """The Store's bounce, suspension and unsubscribe-token queries."""

    # -- bounces and suspensions -------------------------------------------------------------

    def record_bounce(
        self, address: str, key: str, error: str, now: datetime, suspend_after: int
    ) -> Bounces:
        """Count a permanent failure of (digest|period) key against an address; suspend it
        at suspend_after failures in a row (0: never). Return the address's state after."""
        address = normal_address(address)
        with self.begin() as conn:
            row = conn.execute(sa.select(bounces).where(bounces.c.address == address)).first()
            if row is None:
                conn.execute(
                    sa.insert(bounces).values(
                        address=address, failures=0, last_key="", last_error="", last_at=now
                    )
                )
                failures, last_key, suspended = 0, "", None
            else:
                failures, last_key, suspended = row.failures, row.last_key, row.suspended_at
            if key != last_key:  # a period counts once, however often it is sent again
                failures += 1
            if suspended is None and 0 < suspend_after <= failures:
                suspended = now
            conn.execute(
                sa.update(bounces)
                .where(bounces.c.address == address)
                .values(
                    failures=failures,
                    last_key=key,
                    last_error=error,
                    last_at=now,
                    suspended_at=suspended,
                )
            )
        return Bounces(address, failures, error, now, suspended)

    def bouncing(self, addresses: Sequence[str]) -> set[str]:
        """Return those of the addresses (as given) with failures counted and not suspended:
        the ones a delivery has a count to clear for (one query for a batch of recipients)."""
        normal = {normal_address(a): a for a in addresses}
        found: set[str] = set()
        b = bounces.c
        with self.begin() as conn:
            for chunk in _chunks(sorted(normal), _PER_STATEMENT):
                query = sa.select(b.address).where(b.address.in_(chunk), b.suspended_at.is_(None))
                found.update(normal[str(a)] for a in conn.execute(query).scalars())
        return found

    def clear_bounces(self, address: str) -> None:
        """Forget an address's failures after a delivery (a suspension stays until resumed)."""
        query = sa.delete(bounces).where(
            bounces.c.address == normal_address(address), bounces.c.suspended_at.is_(None)
        )
        with self.begin() as conn:
            conn.execute(query)

    def bounced(self) -> tuple[Bounces, ...]:
        """Return every address with permanent failures in a row (suspended or not)."""
        query = sa.select(bounces).order_by(bounces.c.address)
        with self.begin() as conn:
            rows = conn.execute(query).mappings().all()
        return tuple(
            Bounces(r["address"], r["failures"], r["last_error"], r["last_at"], r["suspended_at"])
            for r in rows
        )

    def suspensions(self) -> tuple[Bounces, ...]:
        """Return the suspended addresses."""
        return tuple(b for b in self.bounced() if b.suspended_at is not None)

    def resume(self, address: str) -> bool:
        """Lift an address's suspension and forget its failures; return False if none."""
        query = sa.delete(bounces).where(
            bounces.c.address == normal_address(address), bounces.c.suspended_at.is_not(None)
        )
        with self.begin() as conn:
            return bool(conn.execute(query).rowcount)

    # -- unsubscribe-link ids --------------------------------------------------------------

    def recipient_token(self, digest: str, address: str, now: datetime) -> str:
        """Return the random id naming (digest, address) in unsubscribe links, made once."""
        return self.recipient_tokens(digest, [address], now)[address]

    def recipient_tokens(
        self, digest: str, addresses: Sequence[str], now: datetime
    ) -> dict[str, str]:
        """Return the unsubscribe-link id of each address (as given), made once per address.

        One transaction for them all: a period's build asks for every recipient's id, and one
        round trip per recipient was most of its time on a database server.
        """
        wanted = {normal_address(a) for a in addresses}
        out: dict[str, str] = {}
        t = recipient_tokens.c
        with self.begin() as conn:
            for chunk in _chunks(sorted(wanted), _PER_STATEMENT):
                conn.execute(
                    self.insert_ignore(recipient_tokens),
                    [
                        {"id": secrets.token_urlsafe(12), "digest": digest, "address": a,
                         "created_at": now}
                        for a in chunk
                    ],
                )  # fmt: skip  # made meanwhile by another process: theirs wins, read below
                query = sa.select(t.address, t.id).where(t.digest == digest, t.address.in_(chunk))
                out.update((str(a), str(i)) for a, i in conn.execute(query))
        return {a: out[normal_address(a)] for a in addresses}

    def token_recipient(self, token_id: str) -> tuple[str, str] | None:
        """Return (digest, address) of an unsubscribe-link id, None when unknown."""
        query = sa.select(recipient_tokens.c.digest, recipient_tokens.c.address).where(
            recipient_tokens.c.id == token_id
        )
        with self.begin() as conn:
            row = conn.execute(query).first()
        return (str(row[0]), str(row[1])) if row else None
