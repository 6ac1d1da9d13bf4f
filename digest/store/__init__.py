"""Storage: SQLAlchemy Core tables, ordered migrations, queries per area and the run lock.

`open_store` opens (and migrates) the SQLite file or the `storage_url` database and returns a
`Store` with the feed, article, run and event queries; `run_lock` is the one lock that keeps
two runs of the same data directory apart. It also keeps opt-outs (who unsubscribed) and the
requests `digest run` hands to a running `digest serve`. The `runs` and `deliveries` tables are exported for
the delivery ledger, which keeps its own queries beside the SMTP code that uses them.
"""

from digest.store.database import Store, open_store
from digest.store.lock import (
    SERVICE_ROLE,
    held_by_service,
    holder_name,
    is_postgres,
    lock_holder,
    lock_path,
    run_lock,
)
from digest.store.requests import ALL_DIGESTS, OptOut, Request
from digest.store.schema import STALE_FINGERPRINT, deliveries, runs

__all__ = [
    "ALL_DIGESTS",
    "SERVICE_ROLE",
    "STALE_FINGERPRINT",
    "OptOut",
    "Request",
    "Store",
    "deliveries",
    "held_by_service",
    "holder_name",
    "is_postgres",
    "lock_holder",
    "lock_path",
    "open_store",
    "run_lock",
    "runs",
]
