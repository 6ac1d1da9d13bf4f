"""Run and past-event queries: a digest period's run row and the events its digest showed."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from digest.errors import StoreError
from digest.models import PastEvent, RunRecord, RunReport
from digest.store.base import StoreBase
from digest.store.schema import digest_events, runs


class RunQueries(StoreBase):
    """The Store's run and past-event queries."""

    # -- runs ------------------------------------------------------------------------------

    def claim_run(self, digest: str, period_key: str, now: datetime) -> RunRecord:
        """Return the run row for a digest period, creating it with status 'started'."""
        with self.begin() as conn:
            stmt = self.insert_ignore(runs).values(
                digest=digest, period_key=period_key, status="started", started_at=now, report="{}"
            )
            conn.execute(stmt)
            row = (
                conn.execute(
                    sa.select(runs).where(runs.c.digest == digest, runs.c.period_key == period_key)
                )
                .mappings()
                .one()
            )
        self.note_runs_recorded()
        return _run(row)

    def finish_run(self, run_id: int, report: RunReport, now: datetime) -> None:
        """Record a run's report (kept as JSON) and its final status: done unless it failed."""
        status = "done" if report.ok else "failed"
        with self.begin() as conn:
            conn.execute(
                sa.update(runs)
                .where(runs.c.id == run_id)
                .values(status=status, report=report.to_json(), finished_at=now)
            )

    def get_run(self, digest: str, period_key: str) -> RunRecord | None:
        """Return the run of a digest period, or None when it never started."""
        with self.begin() as conn:
            row = (
                conn.execute(
                    sa.select(runs).where(runs.c.digest == digest, runs.c.period_key == period_key)
                )
                .mappings()
                .first()
            )
        return _run(row) if row else None

    def recent_runs(self, digest: str | None = None, limit: int = 20) -> tuple[RunRecord, ...]:
        """Return the latest runs, newest first, optionally of one digest."""
        query = sa.select(runs).order_by(runs.c.started_at.desc(), runs.c.id.desc()).limit(limit)
        if digest is not None:
            query = query.where(runs.c.digest == digest)
        with self.begin() as conn:
            return tuple(_run(r) for r in conn.execute(query).mappings().all())

    # -- past events -----------------------------------------------------------------------

    def record_events(
        self, run_id: int, digest: str, shown_at: datetime, events: Iterable[PastEvent]
    ) -> None:
        """Remember what a digest showed, for marking developing stories later."""
        with self.begin() as conn:
            conn.execute(sa.delete(digest_events).where(digest_events.c.run_id == run_id))
            for e in events:
                conn.execute(
                    sa.insert(digest_events).values(
                        run_id=run_id,
                        digest=digest,
                        event_key=e.key,
                        headline=e.headline,
                        first_seen=e.first_seen,
                        shown_at=shown_at,
                        article_urls=json.dumps(list(e.article_urls)),
                        terms=json.dumps(list(e.terms)),
                    )
                )

    def past_events(
        self, digest: str, since: datetime, before: datetime, *, except_period: str | None = None
    ) -> tuple[PastEvent, ...]:
        """Return the events shown by a digest between two times (not by one period), newest first."""
        query = (
            sa.select(digest_events)
            .join(runs, runs.c.id == digest_events.c.run_id)
            .where(
                digest_events.c.digest == digest,
                digest_events.c.shown_at >= since,
                digest_events.c.shown_at < before,
            )
            .order_by(digest_events.c.shown_at.desc())
        )
        if except_period is not None:
            query = query.where(runs.c.period_key != except_period)
        with self.begin() as conn:
            rows = conn.execute(query).mappings().all()
        return tuple(
            PastEvent(
                key=r["event_key"],
                headline=r["headline"],
                first_seen=r["first_seen"],
                article_urls=tuple(json.loads(r["article_urls"])),
                terms=tuple(json.loads(r["terms"])),
            )
            for r in rows
        )


def _run(r: Any) -> RunRecord:
    report = None
    if r["finished_at"] is not None:
        try:
            report = RunReport.from_json(r["report"])
        except (ValueError, TypeError, KeyError) as exc:
            raise StoreError(f"runs row {r['id']}", f"report cannot be read: {exc}") from exc
    return RunRecord(
        id=r["id"],
        digest=r["digest"],
        period_key=r["period_key"],
        status=r["status"],
        started_at=r["started_at"],
        finished_at=r["finished_at"],
        report=report,
    )
