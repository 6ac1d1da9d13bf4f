"""Runs handed over by `digest run` while the service holds the lock (see cli/handover.py).

A request is a `digest run` (kind "run") or a `digest fetch` ("fetch"). The service's
`requests` job takes one waiting row at a time and runs it here, on the same
single worker as the scheduled jobs, so a handed-over run never races a fetch pass.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from digest import pipeline
from digest.config import Settings
from digest.errors import DigestError
from digest.models import Clock, Failure, RunReport
from digest.service.jobs import log_crash, log_event, log_report
from digest.service.wire import ingest_json
from digest.store import Request, Store

# A request in hand has its heartbeat renewed this often (cli/handover.py gives up on it
# when the beats stop).
HEARTBEAT_EVERY = 2.0


def run_request(settings: Settings, store: Store, request: Request, now: datetime) -> str:
    """Return the result JSON of running a handed-over request (nothing raised)."""
    try:
        options: dict[str, Any] = json.loads(request.options)
        chosen = [settings.digest(n) for n in options.get("digests") or []] or list(
            settings.digests
        )
    except (ValueError, DigestError) as exc:
        report = RunReport("", "", failures=(Failure("serve", f"request {request.id}", str(exc)),))
        return json.dumps({"ingest": None, "reports": [report.to_json()]})
    run_options = pipeline.RunOptions(
        fetch=bool(options.get("fetch", True)),
        send=bool(options.get("send", True)),
        since=timedelta(seconds=options["since"]) if options.get("since") else None,
        out_dir=Path(options["out_dir"]) if options.get("out_dir") else None,
    )
    when = datetime.fromisoformat(options["as_of"]) if options.get("as_of") else now
    if request.kind == "fetch":  # `digest fetch`: every feed, as the command does
        sources = pipeline.sources_for(settings, store, settings.digests)
        deps = pipeline.Deps()
        fetched = pipeline.fetch_once(
            settings, store, sources, when, deps, force=bool(options.get("force"))
        )
        pipeline.prune_store(settings, store, when)
        return json.dumps({"ingest": ingest_json(fetched), "reports": []})
    started = time.perf_counter()
    ingest, reports = pipeline.run_digests(
        settings, store, chosen, run_options, when, pipeline.Deps()
    )
    for report in reports:  # the service's log names what failed, as for scheduled runs
        if report.digest:
            log_report(report, time.perf_counter() - started)
    return json.dumps(
        {
            "ingest": ingest_json(ingest) if ingest else None,
            "reports": [r.to_json() for r in reports],
        },
        ensure_ascii=False,
    )


def serve_requests(settings: Settings, store: Store, holder: str, clock: Clock) -> str:
    """Run the runs `digest run` handed over (it waits for each); return a summary.

    holder names this service in each request row it takes.
    """
    done = []
    while (request := store.take_request(clock(), holder)) is not None:
        started = time.perf_counter()
        log_event("request", id=request.id, kind=request.kind, options=request.options)
        try:
            with _heartbeat(store, request.id, holder, clock):
                result = run_request(settings, store, request, clock())
        # Broad: whatever the run raised, its row must not stay taken; the requester is
        # told (it stops waiting), and the next request runs.
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            with contextlib.suppress(DigestError):  # the store itself may be what failed
                store.fail_request(request.id, error, clock())
            log_crash("request-failed", exc, id=request.id, error=error)
            done.append(f"{request.id} failed")
            continue
        store.finish_request(request.id, result, clock())
        log_event("request-done", id=request.id, seconds=round(time.perf_counter() - started, 3))
        done.append(str(request.id))
    return f"requests {', '.join(done)} done" if done else "no requests"


@contextmanager
def _heartbeat(store: Store, request_id: int, holder: str, clock: Clock) -> Iterator[None]:
    """Renew a request's heartbeat from a thread of its own while the block runs it."""
    finished = threading.Event()

    def beat() -> None:
        while not finished.wait(HEARTBEAT_EVERY):
            with contextlib.suppress(DigestError):  # busy database: the next beat will do
                store.beat_request(request_id, holder, clock())

    beater = threading.Thread(target=beat, name=f"digest-heartbeat-{request_id}", daemon=True)
    beater.start()
    try:
        yield
    finally:
        finished.set()
        beater.join()
