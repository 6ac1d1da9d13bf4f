"""The JSON a handed-over fetch pass travels in: `digest run` (or `fetch`) waits in the CLI
while the service runs it (digest/service/requests.py), and the reports come back through the
database. A run's own report travels as RunReport.to_json writes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from digest.models import Failure, FeedHealth, IngestReport


def ingest_json(report: IngestReport) -> dict[str, object]:
    """Return a fetch pass's report as JSON-ready data (for a run handed to the service)."""
    return {
        "health": [
            {
                "url": h.url,
                "name": h.name,
                "ok": h.ok,
                "error": h.error,
                "error_count": h.error_count,
                "next_check_at": h.next_check_at.isoformat() if h.next_check_at else None,
                "disabled": h.disabled,
            }
            for h in report.health
        ],
        "counts": [report.entries, report.new_articles, report.duplicates, report.not_modified],
        "failures": [[f.stage, f.subject, f.message] for f in report.failures],
    }


def ingest_from_json(data: dict[str, Any]) -> IngestReport:
    """Return the IngestReport that ingest_json described."""
    health = tuple(
        FeedHealth(
            url=h["url"],
            name=h["name"],
            ok=h["ok"],
            error=h["error"],
            error_count=h["error_count"],
            next_check_at=datetime.fromisoformat(h["next_check_at"])
            if h["next_check_at"]
            else None,
            disabled=h["disabled"],
        )
        for h in data["health"]
    )
    entries, new, duplicates, not_modified = data["counts"]
    return IngestReport(
        health=health,
        entries=entries,
        new_articles=new,
        duplicates=duplicates,
        not_modified=not_modified,
        failures=tuple(Failure(*f) for f in data["failures"]),
    )
