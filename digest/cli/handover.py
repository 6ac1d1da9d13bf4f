"""Send now while `digest serve` runs: hand the run to the service and wait for its report.

The service holds the database's lock for its lifetime, so `digest run` cannot take it.
Instead it adds a row to the `requests` table; the service polls for new rows every few
seconds, runs the request on its own worker (after the job in hand, never beside it) and
stores the reports as JSON, which this side prints as if it had run them itself.

While the service runs a request it renews the row's heartbeat every few seconds. This side
gives up, saying why, when the beats stop for `LEASE` seconds (a real-time count, so a step
of the wall clock does not matter) or the service is gone, and when the service marks the
request failed (the run raised, or a restarted service found it left by a dead one).
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
from digest.store import Request, Store, held_by_service, lock_holder

POLL_SECONDS = 0.5
# A request not taken by then means the service is gone (or wedged): say so, do not wait on.
TAKE_TIMEOUT = 600.0
# No new heartbeat for this long while the request is taken: the service is gone or wedged.
LEASE = 30.0


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
    heartbeat = Heartbeat(None, started)
    while True:
        time.sleep(poll)
        polls += 1
        request = store.get_request(request_id)
        if request is None:
            raise LockError("serve", f"request {request_id} is no longer in the database")
        outcome = _outcome(request)
        if outcome is not None:
            return outcome
        now = time.monotonic()
        gone = polls % 10 == 0 and not _service_alive(settings)  # probed every ~5 s
        if request.status == "new":
            if not_taken(now - started, wait, gone) and store.cancel_request(
                request_id, wall_clock()
            ):
                raise LockError(
                    "serve", f"request {request_id} was not taken by digest serve; cancelled"
                )
            continue
        why = abandoned(heartbeat.silent_for(request.heartbeat_at, now), gone)
        if why is not None:
            _give_up(store, request, why, heartbeat.at)
            continue  # it moved on meanwhile (done, failed or beating): read it again
        if now - started > wait:
            raise LockError("serve", f"request {request_id} still running after {wait:.0f}s")


def _outcome(request: Request) -> HandedOver | None:
    """Return what the service did with a request it finished, None while it is not done;
    LockError when it failed."""
    if request.status == "done" and request.result:
        data = json.loads(request.result)
        ingest = ingest_from_json(data["ingest"]) if data.get("ingest") else None
        reports = tuple(RunReport.from_json(r) for r in data["reports"])
        return HandedOver(request.id, ingest, reports)
    if request.status == "failed":
        raise LockError("serve", f"request {request.id} failed: {request.result or '?'}")
    return None


def not_taken(waited: float, wait: float, service_gone: bool) -> bool:
    """Return True when a request the service has not taken is to be cancelled: the caller's
    wait (or TAKE_TIMEOUT, whichever is shorter) is over, or the service is gone."""
    return waited > min(wait, TAKE_TIMEOUT) or service_gone


@dataclass
class Heartbeat:
    """The last heartbeat seen of a taken request, and when (monotonic seconds) it was seen."""

    at: datetime | None
    seen: float

    def silent_for(self, beat: datetime | None, now: float) -> float:
        """Return how long the request has sent no new heartbeat, noting a new one (beat)."""
        if beat != self.at:
            self.at, self.seen = beat, now
        return now - self.seen


def abandoned(silent: float, service_gone: bool) -> str | None:
    """Return why a taken request is abandoned (its service is gone, or its heartbeat has
    been silent for over LEASE seconds), None while it is alive."""
    if service_gone:
        return "stopped"
    if silent > LEASE:
        return f"sent no heartbeat for {silent:.0f}s"
    return None


def _give_up(store: Store, request: Request, why: str, beat: datetime | None) -> None:
    """Mark an abandoned request failed and raise LockError, unless it moved on meanwhile."""
    taken_by = request.taken_by or "?"
    error = f"abandoned: the service running it ({taken_by}) {why}"
    if store.fail_request(request.id, error, wall_clock(), heartbeat=beat):
        raise LockError(
            "serve",
            f"request {request.id}: the service running it ({taken_by}) {why}; see `digest "
            "status` and the service's log, then run the command again",
        )


def _service_alive(settings: Settings) -> bool:
    try:
        holder = lock_holder(settings)
    except LockError:
        return True  # cannot tell: keep waiting for the take timeout
    return holder is not None and held_by_service(LockError("", f"held by {holder}"))
