"""Work shared by many machines: `digest serve` enqueues jobs, `digest worker` processes run them.

With `storage_url` on PostgreSQL, the scheduler (`digest serve`, one at a time by the
database's advisory lock) does no fetching, building or sending itself: it puts jobs on a
Procrastinate queue kept in the same database, and any number of `digest worker` processes,
on any machines that reach the database, run them. Procrastinate (MIT) is a task queue that
needs nothing but PostgreSQL; its tables live beside ours and its workers send heartbeats.

Jobs, each idempotent:

- fetch_feeds(urls, at): one fetch pass over a batch of feeds. Feeds are batched by a hash
  of their host, and a batch's jobs share a Procrastinate lock, so one host's feeds are
  never fetched by two workers at once and per-host politeness holds across workers.
  Fetching twice stores nothing twice (articles are unique by feed+guid and URL).
- build_period(digest, at): build a digest's period (events, summaries, render) and give
  each recipient a ledger row with their message, then enqueue its deliveries. The run
  row is unique per period, so a second build of it only completes what is missing.
- deliver_batch(run_id, ids): send the due ledger rows among ids. A claim names the job; a
  row already sent is never sent again, and one another worker holds is left to it.

A worker killed mid-job stops sending heartbeats; the scheduler finds its job stalled,
releases the ledger rows the job had claimed and puts the job back on the queue, so another
worker finishes it (`recover`). The at-most-once rule for a message whose final dot may
have reached the server is the ledger's, as in one process.
"""

from __future__ import annotations

import logging
import socket
import time
import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued, NoResult
from sqlalchemy.engine import make_url

from digest import deliver, pipeline
from digest.config import DigestSettings, Settings, period_key
from digest.errors import StoreError
from digest.fetch import report_states, steps_in_threads
from digest.models import Failure, FeedSource, IngestReport, RunReport
from digest.service.jobs import log_event, log_report
from digest.store import Store, ledger, open_store
from digest.store import queue as job_queue

QUEUE = "digest"
FETCH_TASK, BUILD_TASK, DELIVER_TASK = "digest.fetch_feeds", "digest.build_period", "digest.deliver"
FETCH_BUCKETS = 32  # host groups: at most this many fetch jobs per pass, one host in one
DELIVER_BATCH = 100  # recipients per delivery job: its SMTP connection and reads shared by 100
HEARTBEAT = 5.0  # seconds between a worker's heartbeats
STALLED_AFTER = 20.0  # a worker silent this long is taken for dead
_POLL = 0.5


def conninfo(url: str) -> str:
    """Return the libpq connection string of an SQLAlchemy PostgreSQL URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def make_app(settings: Settings) -> procrastinate.App:
    """Return the Procrastinate app on the settings' database (not opened)."""
    connector = procrastinate.PsycopgConnector(conninfo=conninfo(settings.storage_url))
    return procrastinate.App(connector=connector)


def ensure_schema(app: procrastinate.App, store: Store) -> None:
    """Create the queue's tables in the database unless they are there."""
    if job_queue.install(store, app.schema_manager.get_schema()):
        log_event("queue", schema="applied")


def host_bucket(url: str) -> int:
    """Return the fetch batch of a feed: a stable hash of its host."""
    host = (urlsplit(url).hostname or url).lower()
    return zlib.crc32(host.encode()) % FETCH_BUCKETS


def batches(sources: Sequence[FeedSource]) -> dict[int, list[str]]:
    """Return the feeds' URLs grouped by host bucket."""
    out: dict[int, list[str]] = {}
    for s in sources:
        out.setdefault(host_bucket(s.url), []).append(s.url)
    return out


class JobQueue:
    """The scheduler's side of the queue: enqueue jobs, wait for them, recover dead workers'."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings, self.store = settings, store
        self.app = make_app(settings)
        self.app.open()
        ensure_schema(self.app, store)

    def close(self) -> None:
        """Close the queue's connections."""
        self.app.close()

    def _defer(self, task: str, lock: str | None = None, **args: Any) -> int | None:
        deferrer = self.app.configure_task(task, queue=QUEUE, lock=lock, queueing_lock=lock)
        try:
            return int(deferrer.defer(**args))
        except AlreadyEnqueued:
            return None  # the same batch waits to run already: one is enough

    def fetch(self, sources: Sequence[FeedSource], now: datetime) -> list[int]:
        """Enqueue the fetch of the sources, one job per host bucket; return the job ids."""
        ids = []
        for bucket, urls in sorted(batches(sources).items()):
            job = self._defer(FETCH_TASK, f"fetch:{bucket}", urls=urls, at=now.isoformat())
            if job is not None:
                ids.append(job)
        return ids

    def build(self, d: DigestSettings, at: datetime) -> int:
        """Enqueue the build of a digest's period; return the job id."""
        job = self._defer(BUILD_TASK, f"build:{d.name}", digest=d.name, at=at.isoformat())
        return job if job is not None else -1

    def deliver(self, run_id: int, ids: Sequence[int]) -> list[int]:
        """Enqueue the delivery of ledger rows, DELIVER_BATCH a job; return the job ids."""
        return [
            job
            for i in range(0, len(ids), DELIVER_BATCH)
            if (
                job := self._defer(
                    DELIVER_TASK, run_id=run_id, ids=list(ids[i : i + DELIVER_BATCH])
                )
            )
            is not None
        ]

    def wait(self, job_ids: Sequence[int], timeout: float) -> dict[str, int]:
        """Wait until the jobs are finished (or timeout); return how many ended in each state."""
        deadline = time.monotonic() + timeout
        pending = [j for j in job_ids if j >= 0]
        ended: dict[str, int] = {}
        while pending:
            still = []
            for job in pending:
                try:
                    status = self.app.job_manager.get_job_status(job).value
                except NoResult:  # workers delete the jobs that succeeded
                    status = "succeeded"
                if status in ("todo", "doing"):
                    still.append(job)
                else:
                    ended[status] = ended.get(status, 0) + 1
            pending = still
            if not pending or time.monotonic() >= deadline:
                break
            self.recover(datetime.now(UTC))  # a dead worker must not hold the wait forever
            time.sleep(_POLL)
        if pending:
            ended["unfinished"] = len(pending)
        return ended

    def recover(self, now: datetime) -> int:
        """Put the jobs of workers found dead back on the queue; return how many."""
        stalled = job_queue.stalled(self.store, STALLED_AFTER)
        for job in stalled:
            released = ledger.release(self.store, job_tag(job.id), now)
            self.app.job_manager.retry_job_by_id(job.id, retry_at=now)
            log_event("recover", logging.WARNING, job=job.id, task=job.task, released=released)
        return len(stalled)

    def dispatch_due(self, now: datetime) -> int:
        """Enqueue the ledger's due rows when no delivery job is waiting; return how many."""
        if job_queue.unfinished(self.store, DELIVER_TASK):
            return 0
        due = ledger.due(self.store, now)
        by_run: dict[int, list[int]] = {}
        for row in due:
            by_run.setdefault(row.run_id, []).append(row.id)
        for run_id, ids in by_run.items():
            self.deliver(run_id, ids)
        return len(due)


def job_tag(job_id: int) -> str:
    """Return how a job names itself in the ledger's claims."""
    return f"job:{job_id}"


def queued_stages(queue: JobQueue) -> Any:
    """Return the service's Stages that enqueue work for `digest worker` instead of doing it."""
    from digest.service.jobs import Stages

    def fetch(
        settings: Settings, store: Store, digests: Sequence[DigestSettings], now: datetime
    ) -> IngestReport:
        sources = pipeline.sources_for(settings, store, digests)
        jobs = queue.fetch(sources, now)
        ended = queue.wait(jobs, settings.fetch_every.total_seconds())
        log_event("queue-fetch", jobs=len(jobs), **ended)
        pruned = pipeline.prune_store(settings, store, now)
        if any(pruned.values()):
            log_event("prune", **pruned)
        return report_states(sources, {s.url: store.feed_state(s.url) for s in sources})

    def build(
        settings: Settings, d: DigestSettings, store: Store, at: datetime, _ingest: IngestReport
    ) -> RunReport:
        job = queue.build(d, at)
        ended = queue.wait([job], timeout=3600)
        key = period_key(d, at)
        run = store.get_run(d.name, key)
        failures: tuple[Failure, ...] = ()
        if ended.get("succeeded") != 1 or run is None or run.status == "failed":
            note = f"build job {job}: {ended} (see the worker's log)"
            failures = (Failure("run", d.name, note),)
        return RunReport(digest=d.name, period_key=key, failures=failures)

    def retry(store: Store, settings: Settings, now: datetime) -> tuple[Any, ...]:
        queue.recover(now)
        queue.dispatch_due(now)
        return ()

    def tick(now: datetime) -> str:
        return f"{queue.recover(now)} stalled jobs requeued"

    return Stages(fetch=fetch, build=build, retry=retry, tick=tick)


# -- the worker --------------------------------------------------------------------------------


def run_worker(
    settings: Settings,
    *,
    concurrency: int = 1,
    name: str | None = None,
    once: bool = False,
    connect: Callable[..., Any] | None = None,
) -> None:
    """Run jobs until SIGTERM/SIGINT (or, with once, until the queue is empty)."""
    store = open_store(settings.storage_url)
    steps_in_threads(True)  # a worker is one process: start more workers to use more cores
    app = make_app(settings)
    ensure_schema(app, store)
    _register(app, settings, store, connect)
    worker = name or f"{socket.gethostname()}:{__import__('os').getpid()}"
    log_event("worker", name=worker, concurrency=concurrency)
    try:
        app.run_worker(
            queues=[QUEUE],
            name=worker,
            concurrency=concurrency,
            wait=not once,
            update_heartbeat_interval=HEARTBEAT,
            stalled_worker_timeout=STALLED_AFTER,
            delete_jobs="successful",
        )
    finally:
        store.close()


def _register(
    app: procrastinate.App, settings: Settings, store: Store, connect: Callable[..., Any] | None
) -> None:
    """Define the jobs on the app (closures over the worker's settings and store)."""

    @app.task(name=FETCH_TASK, queue=QUEUE)
    def fetch_feeds(urls: list[str], at: str) -> None:
        wanted = set(urls)
        sources = [
            s for s in pipeline.sources_for(settings, store, settings.digests) if s.url in wanted
        ]
        started = time.perf_counter()
        report = pipeline.fetch_once(
            settings, store, sources, datetime.fromisoformat(at), pipeline.Deps()
        )
        log_event(
            "stage", stage="fetch", feeds=len(sources), entries=report.entries,
            new_articles=report.new_articles, failed=len(report.failures),
            seconds=round(time.perf_counter() - started, 3),
        )  # fmt: skip

    @app.task(name=BUILD_TASK, queue=QUEUE)
    def build_period(digest: str, at: str) -> None:
        d = next((x for x in settings.digests if x.name == digest), None)
        if d is None:
            log_event("skip", digest=digest, reason="not in this worker's configuration")
            return
        started = time.perf_counter()

        def dispatch(run_id: int, ids: Sequence[int]) -> None:
            for i in range(0, len(ids), DELIVER_BATCH):
                app.configure_task(DELIVER_TASK, queue=QUEUE).defer(
                    run_id=run_id, ids=list(ids[i : i + DELIVER_BATCH])
                )

        deps = pipeline.Deps(dispatch=dispatch, connect=connect)
        options = pipeline.RunOptions(fetch=False)
        report = pipeline.run_once(settings, d, store, datetime.fromisoformat(at), deps, options)
        log_report(report, time.perf_counter() - started)
        if not report.ok and store.get_run(d.name, report.period_key) is None:
            raise StoreError(d.name, "; ".join(str(f) for f in report.failures))

    @app.task(name=DELIVER_TASK, queue=QUEUE, pass_context=True)
    def deliver_batch(context: procrastinate.JobContext, run_id: int, ids: list[int]) -> None:
        if context.job is None or context.job.id is None:  # Procrastinate always gives both
            raise StoreError(DELIVER_TASK, "the job context names no job")
        started = time.perf_counter()
        out = deliver.send_batch(store, settings, ids, by=job_tag(context.job.id), connect=connect)
        statuses = [x.status for x in out]
        log_event(
            "stage", stage="deliver", run=run_id, rows=len(ids),
            seconds=round(time.perf_counter() - started, 3),
            **{s: statuses.count(s) for s in set(statuses)},
        )  # fmt: skip
