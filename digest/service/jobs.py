"""What the service's jobs call: the pipeline stages (injectable for tests) and the structured
log lines they write, one per stage with its counts and timings (key=value, logfmt style).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime

from digest import deliver, pipeline
from digest.config import DigestSettings, Settings
from digest.models import Delivery, IngestReport, RunReport
from digest.store import Store

log = logging.getLogger("digest.service")


def log_event(event: str, /, level: int = logging.INFO, **fields: object) -> None:
    """Write one structured log line: event=NAME key=value ..."""
    log.log(level, _line(event, fields))


def log_crash(event: str, exc: BaseException, /, **fields: object) -> None:
    """Write one structured error line for an unexpected error, its traceback after it."""
    log.error(_line(event, fields), exc_info=exc)


def _line(event: str, fields: dict[str, object]) -> str:
    parts = [f"event={event}"]
    for key, value in fields.items():
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat(timespec="seconds")
        text = str(value)
        if not text or any(c in text for c in ' "=\n'):
            text = json.dumps(text, ensure_ascii=False)
        parts.append(f"{key}={text}")
    return " ".join(parts)


def fetch_due(
    settings: Settings, store: Store, digests: Sequence[DigestSettings], now: datetime
) -> IngestReport:
    """Return the report of fetching the due feeds of the given digests."""
    sources = pipeline.sources_for(settings, store, digests)
    report = pipeline.fetch_once(settings, store, sources, now, pipeline.Deps(progress=_progress))
    pruned = pipeline.prune_store(settings, store, now)
    if any(pruned.values()):
        log_event("prune", **pruned)
    return report


def build_period(
    settings: Settings, d: DigestSettings, store: Store, now: datetime, ingest: IngestReport
) -> RunReport:
    """Return the report of building and delivering the period that now falls in."""
    deps = pipeline.Deps(progress=_progress)
    return pipeline.run_once(settings, d, store, now, deps, pipeline.RunOptions(), ingest)


def retry_deliveries(store: Store, settings: Settings, now: datetime) -> tuple[Delivery, ...]:
    """Return the outcomes of sending the ledger's due messages again."""
    return deliver.retry_pending(store, settings, now)


def _progress(message: str) -> None:
    log.debug("event=progress message=%s", json.dumps(message, ensure_ascii=False))


@dataclass(frozen=True)
class Stages:
    """The pipeline calls the jobs make (tests replace them with fakes)."""

    fetch: Callable[[Settings, Store, Sequence[DigestSettings], datetime], IngestReport] = fetch_due
    build: Callable[[Settings, DigestSettings, Store, datetime, IngestReport], RunReport] = (
        build_period
    )
    retry: Callable[[Store, Settings, datetime], tuple[Delivery, ...]] = retry_deliveries
    # Run every few seconds when set: with `digest worker`, finding dead workers' jobs.
    tick: Callable[[datetime], object] | None = None


_STAGE_COUNTS = {
    "events": ("articles", "events_found"),
    "summarize": ("events",),
    "render": (),
    "deliver": ("delivered", "delivery_failed", "delivery_waiting"),
}


def log_fetch(report: IngestReport, scope: str, seconds: float) -> None:
    """Log what a fetch pass for scope (a digest's name, or "all") did."""
    log_event(
        "stage",
        stage="fetch",
        digest=scope,
        feeds=len(report.health),
        failed=sum(1 for h in report.health if not h.ok),
        entries=report.entries,
        new_articles=report.new_articles,
        duplicates=report.duplicates,
        not_modified=report.not_modified,
        seconds=round(seconds, 3),
    )


def log_report(report: RunReport, seconds: float) -> None:
    """Write one log line per stage of a run, then one for the run as a whole."""
    for stage, stage_seconds in report.timings:
        values = {k: report.count(k) for k in _STAGE_COUNTS.get(stage, ())}
        if stage == "render":
            values["outputs"] = len(report.outputs)
        log_event(
            "stage",
            stage=stage,
            digest=report.digest,
            period=report.period_key,
            seconds=stage_seconds,
            **values,
        )
    for failure in report.failures:
        log_event(
            "failure",
            logging.WARNING,
            digest=report.digest,
            stage=failure.stage,
            subject=failure.subject,
            error=failure.message,
        )
    log_event(
        "run",
        digest=report.digest,
        period=report.period_key,
        status="done" if report.ok else "failed",
        failures=len(report.failures),
        seconds=round(seconds, 3),
        delivery=report.delivery,
        **_counts(report),
    )


def _counts(report: RunReport) -> dict[str, int]:
    """Return every count of a report by name, for the run's log line."""
    c = report.counts
    named = {
        f.name: getattr(c, f.name) for f in fields(c) if f.name not in ("removed", "summarizer")
    }
    named.update(c.summarizer)
    named.update(
        delivered=report.delivered,
        already_delivered=report.already_delivered,
        delivery_failed=report.delivery_failed,
        delivery_waiting=report.delivery_waiting,
    )
    return named
