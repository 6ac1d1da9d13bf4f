"""Runs handed over by `digest run` while the service holds the lock (see cli/handover.py).

A request is a `digest run` (kind "run") or a `digest fetch` ("fetch"). The service's
`requests` job takes one waiting row at a time and runs it here, on the same
single worker as the scheduled jobs, so a handed-over run never races a fetch pass.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from digest import pipeline
from digest.config import Settings
from digest.errors import DigestError
from digest.models import Failure, RunReport
from digest.service.jobs import log_report
from digest.service.wire import ingest_json
from digest.store import Request, Store


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
