"""Storage: SQLAlchemy Core tables, ordered migrations, queries per area and the run lock.

`open_store` opens (and migrates) the SQLite file or the `storage_url` database and returns a
`Store` with the feed, article, run and event queries; `run_lock` is the one lock that keeps
two runs of the same data directory apart. It also keeps opt-outs (who unsubscribed) and the
requests `digest run` hands to a running `digest serve`, and per address the bounces that
suspend it and the ids its unsubscribe links carry. `ledger` holds the delivery ledger's
queries (one row per recipient and period; the period's message body kept once).
"""

from digest.store import ledger
from digest.store.database import Store, backup, can_write, migrate, open_store, schema_of
from digest.store.ledger import LedgerRow
from digest.store.lock import (
    SERVICE_ROLE,
    held_by_service,
    holder_name,
    is_postgres,
    lock_holder,
    lock_path,
    run_lock,
)
from digest.store.recipients import Bounces
from digest.store.requests import ALL_DIGESTS, OptOut, Request
from digest.store.schema import MIGRATIONS, STALE_FINGERPRINT, deliveries, runs

__all__ = [
    "ALL_DIGESTS",
    "MIGRATIONS",
    "SERVICE_ROLE",
    "STALE_FINGERPRINT",
    "Bounces",
    "LedgerRow",
    "OptOut",
    "Request",
    "Store",
    "backup",
    "can_write",
    "deliveries",
    "held_by_service",
    "holder_name",
    "is_postgres",
    "ledger",
    "lock_holder",
    "lock_path",
    "migrate",
    "open_store",
    "run_lock",
    "runs",
    "schema_of",
]
