"""What the store reads of the job queue `digest worker` runs (Procrastinate's tables).

Procrastinate keeps its jobs and workers in the same PostgreSQL database: `procrastinate_jobs`
(one row per job, with its status) and `procrastinate_workers` (one row per running worker,
with a heartbeat). These read-only queries serve `digest status`, `/metrics`, and the
scheduler's search for jobs whose worker died.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from digest.store.database import Store

JOB_STATES = ("todo", "doing", "succeeded", "failed", "cancelled", "aborted")


@dataclass(frozen=True, slots=True)
class QueueStats:
    """The queue at a glance: jobs waiting, jobs by state, and workers alive."""

    depth: int  # jobs waiting to run (todo)
    by_state: tuple[tuple[str, int], ...]
    workers: int  # workers with a heartbeat in the last minute


@dataclass(frozen=True, slots=True)
class StalledJob:
    """A job left 'doing' by a worker that stopped sending heartbeats (killed, or cut off)."""

    id: int
    task: str
    args: dict[str, Any]


def installed(store: Store) -> bool:
    """Return True when the database has the queue's tables (PostgreSQL, schema applied)."""
    if store.engine.dialect.name != "postgresql":
        return False
    with store.begin() as conn:
        found = conn.execute(sa.text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL"))
        return bool(found.scalar())


def install(store: Store, schema: str) -> bool:
    """Apply the queue's schema (its SQL script) unless it is there; return True if applied.

    Under the migrations' lock, so processes started together apply it once.
    """
    from digest.store.database import MIGRATION_LOCK_KEYS

    with store.begin() as conn:
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(*MIGRATION_LOCK_KEYS)))
        if conn.execute(sa.text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")).scalar():
            return False
        # The script as it is (no parameters: its % signs are not placeholders).
        conn.connection.dbapi_connection.execute(schema)  # type: ignore[union-attr]
    return True


def stats(store: Store) -> QueueStats | None:
    """Return the queue's figures, or None when the database has no queue."""
    if not installed(store):
        return None
    with store.begin() as conn:
        rows = conn.execute(
            sa.text("SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY status")
        ).all()
        workers = conn.execute(
            sa.text(
                "SELECT count(*) FROM procrastinate_workers "
                "WHERE last_heartbeat > now() - interval '1 minute'"
            )
        ).scalar_one()
    counts = {str(state): int(n) for state, n in rows}
    by_state = tuple((state, counts.get(state, 0)) for state in JOB_STATES)
    return QueueStats(depth=counts.get("todo", 0), by_state=by_state, workers=int(workers))


def stalled(store: Store, seconds_since_heartbeat: float) -> tuple[StalledJob, ...]:
    """Return the jobs 'doing' whose worker sent no heartbeat for that long (or has none)."""
    if not installed(store):
        return ()
    with store.begin() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT j.id, j.task_name, j.args FROM procrastinate_jobs j "
                "LEFT JOIN procrastinate_workers w ON w.id = j.worker_id "
                "WHERE j.status = 'doing' AND (w.id IS NULL OR "
                "w.last_heartbeat < now() - make_interval(secs => :secs)) ORDER BY j.id"
            ),
            {"secs": seconds_since_heartbeat},
        ).all()
    return tuple(
        StalledJob(int(r[0]), str(r[1]), r[2] if isinstance(r[2], dict) else json.loads(r[2]))
        for r in rows
    )


def unfinished(store: Store, task: str) -> int:
    """Return how many jobs of a task wait or run (todo or doing)."""
    if not installed(store):
        return 0
    with store.begin() as conn:
        found = conn.execute(
            sa.text(
                "SELECT count(*) FROM procrastinate_jobs "
                "WHERE task_name = :task AND status IN ('todo', 'doing')"
            ),
            {"task": task},
        )
        return int(found.scalar_one())
