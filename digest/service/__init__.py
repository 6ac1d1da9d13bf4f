"""Service: `digest serve`, the APScheduler process that fetches and sends on schedule.

`serve_forever` runs the scheduler with its signal handlers and the health/metrics server;
`next_slot` tells when a digest is next due (for `digest status`); `ingest_from_json` reads
back the fetch report of a run handed to the service by `digest run`. With PostgreSQL,
`JobQueue` and `queued_stages` make the service enqueue its work and `run_worker` runs it
(`digest worker`).
Jobs call the pipeline, so a scheduled run and `digest run` do the same work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from digest import lazy_exports

if TYPE_CHECKING:
    from digest.service.process import serve_forever
    from digest.service.schedule import next_slot
    from digest.service.site import parse_address, start_site_server
    from digest.service.wire import ingest_from_json
    from digest.service.worker import JobQueue, queued_stages, run_worker

# Loaded on first use (digest.lazy_exports): where each public name lives.
_HOMES = {
    "serve_forever": "digest.service.process",
    "next_slot": "digest.service.schedule",
    "parse_address": "digest.service.site",
    "start_site_server": "digest.service.site",
    "ingest_from_json": "digest.service.wire",
    # Procrastinate is imported only by processes that use the job queue (PostgreSQL).
    "JobQueue": "digest.service.worker",
    "queued_stages": "digest.service.worker",
    "run_worker": "digest.service.worker",
}

__all__ = [
    "JobQueue",
    "ingest_from_json",
    "next_slot",
    "parse_address",
    "queued_stages",
    "run_worker",
    "serve_forever",
    "start_site_server",
]

__getattr__ = lazy_exports(__name__, _HOMES)
