"""Send now while `digest serve` runs: hand the run to the service and wait for its report.

The service holds the database's lock for its lifetime, so `digest run` cannot take it.
Instead it adds a row to the `requests` table; the service polls for new rows every few
seconds, runs the request on its own worker (after the job in hand, never beside it) and
stores the reports as JSON, which this side prints as if it had run them itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from digest.config import DigestSettings, Settings
from digest.errors import LockError
from digest.models import IngestReport, RunReport, wall_clock
from digest.pipeline import RunOptions
from digest.service import ingest_from_json
from digest.store import Store, held_by_service, lock_holder

POLL_SECONDS = 0.5
# A request not taken by then means the service is gone (or wedged): say so, do not wait on.
TAKE_TIMEOUT = 600.0


@dataclass(frozen=True)
class HandedOver:
    """What the service did with a handed-over run."""

    request_id: int
    ingest: IngestReport | None
    reports: tuple[RunReport, ...]


def request_options(
    chosen: Sequence[DigestSettings],
    options: RunOptions,
    as_of: datetime | None,
    *,
    force: bool = False,
) -> str:
    """Return the JSON of a request's options, as digest/service/requests.py reads them."""
    return json.dumps(
        {
            "digests": [d.name for d in chosen],
            "force": force,
            "fetch": options.fetch,
            "send": options.send,
            "since": options.since.total_seconds() if options.since else None,
            "out_dir": str(options.out_dir.resolve()) if options.out_dir else None,
            "as_of": as_of.isoformat() if as_of else None,
        }
    )


def hand_over(
    settings: Settings,
    store: Store,
    options: str,
    *,
    wait: float,
    kind: str = "run",
    poll: float = POLL_SECONDS,
) -> HandedOver:
    """Queue a run (or a fetch) for the service and return its outcome; raise LockError if
    none comes."""
    request_id = store.add_request(kind, options, wall_clock())
    started, polls = time.monotonic(), 0
    while True:
        time.sleep(poll)
        polls += 1
        request = store.get_request(request_id)
        if request is not None and request.status == "done" and request.result:
            data = json.loads(request.result)
            ingest = ingest_from_json(data["ingest"]) if data.get("ingest") else None
            reports = tuple(RunReport.from_json(r) for r in data["reports"])
            return HandedOver(request_id, ingest, reports)
        waited = time.monotonic() - started
        if request is not None and request.status == "new":
            gone = polls % 10 == 0 and not _service_alive(settings)  # a probe every ~5 s
            late = waited > min(wait, TAKE_TIMEOUT) or gone
            if late and store.cancel_request(request_id, wall_clock()):
                raise LockError("serve", f"request {request_id} was not taken; cancelled")
        elif waited > wait:
            raise LockError("serve", f"request {request_id} still running after {wait:.0f}s")


def _service_alive(settings: Settings) -> bool:
    try:
        holder = lock_holder(settings)
    except LockError:
        return True  # cannot tell: keep waiting for the take timeout
    return holder is not None and held_by_service(LockError("", f"held by {holder}"))
