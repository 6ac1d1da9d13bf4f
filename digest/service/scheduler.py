"""The background service: a fetch job, one cron job per digest, a retry job and catch-up.

Jobs run one at a time on a single worker thread, so a digest never races the fetch pass for
the same feeds or the same SQLite file. Each digest job builds "the latest period due" (see
digest/service/schedule.py), so a job that starts late (a busy worker, a suspended machine) still
builds the right period, and one that fires for a period already built does nothing.
Missed periods are planned once, at start, from the runs table.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from digest.config import CatchUp, DigestSettings, Settings, slot_key, trigger_for
from digest.errors import ConfigError, DigestError
from digest.models import Clock, IngestReport, wall_clock
from digest.service.health import JobOutcome, ServiceState
from digest.service.jobs import Stages, log_crash, log_event, log_report
from digest.service.requests import run_request
from digest.service.schedule import due_slots, in_period, is_settled, job_grace, next_slot
from digest.store import Store, ledger
from digest.store import queue as job_queue

# The ledger's first retry comes after a minute; checking each minute keeps it on time.
RETRY_EVERY = timedelta(minutes=1)
# A `digest run` waiting for the service to take its request (cli/handover.py) waits this long.
REQUESTS_EVERY = timedelta(seconds=2)
FETCH_JOB, RETRY_JOB, DIGEST_PREFIX, CATCH_UP_PREFIX = "fetch", "retry", "digest:", "catch-up:"
REQUESTS_JOB = "requests"
# With `digest worker`: how often the scheduler looks for jobs of dead workers.
TICK_EVERY, TICK_JOB = timedelta(seconds=5), "queue"


class Service:
    """The scheduler, its jobs and their shared state, for one database."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        load: Callable[[], Settings] | None = None,
        stages: Stages | None = None,
        clock: Clock = wall_clock,
        state: ServiceState | None = None,
    ) -> None:
        self.settings, self.store = settings, store
        self.stages = stages or Stages()
        self.clock = clock
        self.state = state or ServiceState(clock, stale_after(settings))
        self._load = load
        # One worker: jobs queue instead of overlapping (see the module docstring).
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=UTC,
        )
        self.scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED)
        self._guard_lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        self._stopping = False
        self.current_job: str | None = None

    # lifecycle

    def start(self) -> None:
        """Schedule the jobs, plan the catch-up runs from the runs table and start."""
        now = self.clock()
        self._schedule(now, first_fetch=now)
        for name, slots in self.plan_catch_up(now):
            keys = [slot_key(s) for s in slots]
            log_event("catch-up", digest=name, periods=",".join(keys), count=len(keys))
            self.scheduler.add_job(
                self._guarded,
                "date",
                args=(CATCH_UP_PREFIX + name, self.build_slots, name, slots),
                id=CATCH_UP_PREFIX + name,
                run_date=now,
                misfire_grace_time=None,
            )
        self.scheduler.start()
        self.state.set_running(True)
        self._publish_next_runs()
        self._publish_undelivered()  # from the start, not only once the retry job ran

    def plan_catch_up(self, now: datetime) -> tuple[tuple[str, tuple[datetime, ...]], ...]:
        """Return, per digest, the missed periods to build once now, oldest first."""
        plan = []
        for d in self.settings.digests:
            slots = due_slots(d, now, self._settled(d), d.catch_up, d.catch_up_grace)
            if slots:
                plan.append((d.name, slots))
            elif d.catch_up == "none":
                missed = due_slots(d, now, self._settled(d), "all", d.catch_up_grace)
                if missed:
                    log_event("catch-up", digest=d.name, policy="none", skipped=len(missed))
        return tuple(plan)

    def reload(self) -> bool:
        """Load the configuration again and reschedule; keep the running one on any error."""
        if self._load is None:
            return False
        old = self.settings
        try:
            new = self._load()
            if new.storage_url != old.storage_url:
                raise ConfigError(
                    str(new.config_path or "settings"),
                    "storage_url changed: restart the service to switch databases",
                )
            self._apply(new)
        # Any error, not only DigestError: a value the loader let through must cost the
        # reload, never the running service (systemd would not restart it on a SIGHUP).
        except Exception as exc:
            expected = isinstance(exc, DigestError)
            detail = str(exc) if expected else f"{type(exc).__name__}: {exc}"
            if expected:
                log_event("reload", logging.ERROR, ok=False, error=detail, kept="running config")
            else:
                log_crash("reload", exc, ok=False, error=detail, kept="running config")
            if self.settings is not old:
                self._apply(old)
            return False
        log_event("reload", ok=True, digests=len(new.digests), feeds=len(new.all_feeds))
        return True

    def _apply(self, settings: Settings) -> None:
        self.settings = settings
        self.state.stale_after = stale_after(settings)
        self._schedule(self.clock(), first_fetch=None)
        self._publish_next_runs()

    def stop(self, timeout: float, force: Callable[[], bool] = lambda: False) -> bool:
        """Stop scheduling; wait for the running job; return False if it had to be abandoned."""
        with self._guard_lock:
            self._stopping = True  # queued jobs become no-ops from here on
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.state.set_running(False)
        deadline = time.monotonic() + timeout
        while not self._idle.wait(0.1):
            if force() or time.monotonic() >= deadline:
                return False
        return True

    # scheduling

    def _schedule(self, now: datetime, first_fetch: datetime | None) -> None:
        s, sched = self.settings, self.scheduler
        every = s.fetch_every
        fetch_kwargs = {"next_run_time": first_fetch} if first_fetch else {}
        sched.add_job(
            self._guarded,
            IntervalTrigger(seconds=every.total_seconds(), timezone=UTC),
            args=(FETCH_JOB, self.fetch_feeds),
            id=FETCH_JOB,
            replace_existing=True,
            misfire_grace_time=int(every.total_seconds()),
            **fetch_kwargs,
        )
        sched.add_job(
            self._guarded,
            IntervalTrigger(seconds=RETRY_EVERY.total_seconds(), timezone=UTC),
            args=(RETRY_JOB, self.retry_messages),
            id=RETRY_JOB,
            replace_existing=True,
            misfire_grace_time=int(RETRY_EVERY.total_seconds()),
        )
        sched.add_job(
            self._guarded,
            IntervalTrigger(seconds=REQUESTS_EVERY.total_seconds(), timezone=UTC),
            args=(REQUESTS_JOB, self.serve_requests),
            id=REQUESTS_JOB,
            replace_existing=True,
            misfire_grace_time=None,  # behind a long job it runs late, never "missed"
        )
        if self.stages.tick is not None:
            sched.add_job(
                self._guarded,
                IntervalTrigger(seconds=TICK_EVERY.total_seconds(), timezone=UTC),
                args=(TICK_JOB, self.tick),
                id=TICK_JOB,
                replace_existing=True,
                misfire_grace_time=None,
            )
        names = {d.name for d in s.digests}
        for job in sched.get_jobs():
            if job.id.startswith(DIGEST_PREFIX) and job.id.removeprefix(DIGEST_PREFIX) not in names:
                sched.remove_job(job.id)
        for d in s.digests:
            grace = job_grace(d)
            sched.add_job(
                self._guarded,
                trigger_for(d),
                args=(DIGEST_PREFIX + d.name, self.build_due, d.name),
                id=DIGEST_PREFIX + d.name,
                replace_existing=True,
                misfire_grace_time=int(grace.total_seconds()),
            )
            log_event(
                "schedule",
                digest=d.name,
                schedule=d.schedule,
                timezone=d.timezone,
                next_run=next_slot(d, now),
                catch_up=d.catch_up,
                misfire_grace=int(grace.total_seconds()),
            )

    def _on_missed(self, event: JobExecutionEvent) -> None:
        # Later than its misfire grace: the start-up catch-up is what builds such a period.
        log_event("missed", logging.WARNING, job=event.job_id, scheduled=event.scheduled_run_time)

    def _publish_next_runs(self) -> None:
        jobs = self.scheduler.get_jobs() if self.scheduler.running else []
        self.state.set_next_runs([(j.id, getattr(j, "next_run_time", None)) for j in jobs])

    @contextmanager
    def _busy(self) -> Iterator[bool]:
        with self._guard_lock:
            if self._stopping:
                yield False
                return
            self._idle.clear()
        try:
            yield True
        finally:
            self._idle.set()

    def _guarded(self, job: str, body: Callable[..., str], *args: object) -> None:
        """Run one job body: skipped once stopping, timed, recorded, never raising."""
        with self._busy() as go:
            if not go:
                return
            started = time.perf_counter()
            ok, detail = True, ""
            self.current_job = job
            try:
                detail = body(*args)
            except Exception as exc:  # a job that fails must not stop the scheduler
                ok, detail = False, f"{type(exc).__name__}: {exc}"
                log_crash("error", exc, job=job, error=detail)
            finally:
                self.current_job = None
            seconds = round(time.perf_counter() - started, 3)
            self.state.job_finished(JobOutcome(job, ok, self.clock(), seconds, detail))
        self._publish_next_runs()

    def _settled(self, d: DigestSettings) -> Callable[[str], bool]:
        return lambda key: is_settled(self.store.get_run(d.name, key))

    # job bodies (each returns a one-line summary for the health endpoint)

    def fetch_feeds(self) -> str:
        """Fetch the due feeds of every digest; return a summary."""
        report = self._fetch(self.settings.digests, self.clock(), "all")
        failed = sum(1 for h in report.health if not h.ok)
        self.state.set_gauge("digest_feeds", len(report.health) - failed, state="ok")
        self.state.set_gauge("digest_feeds", failed, state="failing")
        return f"{len(report.health)} feeds, {failed} failing, {report.new_articles} new"

    def build_due(self, name: str) -> str:
        """Build the period a digest's cron job fired for (and, with 'all', missed ones)."""
        d = self._digest(name)
        if d is None:
            return "digest removed"
        policy: CatchUp = "latest" if d.catch_up == "none" else d.catch_up
        now = self.clock()
        return self.build_slots(name, due_slots(d, now, self._settled(d), policy, job_grace(d)))

    def build_slots(self, name: str, slots: Sequence[datetime]) -> str:
        """Build each given period of a digest that is not settled yet; return a summary."""
        d = self._digest(name)
        now = self.clock()
        todo = [s for s in slots if d is not None and not self._settled(d)(slot_key(s))]
        if d is None or not todo:
            log_event("skip", digest=name, reason="period already built or nothing due")
            return "nothing due"
        ingest = self._fetch([d], now, d.name)
        built = []
        for slot in todo:
            key = slot_key(slot)
            # Build "as of now" when now still falls in that period (fresher news); an older
            # missed period is built as of its own fire time, so it keeps its own key.
            at = now if in_period(d, slot, now) else slot.astimezone(UTC)
            started = time.perf_counter()
            report = self.stages.build(self.settings, d, self.store, at, ingest)
            log_report(report, time.perf_counter() - started)
            built.append(f"{key} {'ok' if report.ok else 'with failures'}")
        self._publish_undelivered()  # a period's failed or waiting messages count at once
        return "; ".join(built)

    def serve_requests(self) -> str:
        """Run the runs `digest run` handed over (it waits for each); return a summary."""
        done = []
        while (request := self.store.take_request(self.clock())) is not None:
            started = time.perf_counter()
            log_event("request", id=request.id, kind=request.kind, options=request.options)
            result = run_request(self.settings, self.store, request, self.clock())
            self.store.finish_request(request.id, result, self.clock())
            log_event(
                "request-done", id=request.id, seconds=round(time.perf_counter() - started, 3)
            )
            done.append(str(request.id))
        return f"requests {', '.join(done)} done" if done else "no requests"

    def retry_messages(self) -> str:
        """Send the ledger's due messages again; return a summary."""
        outcomes = self.stages.retry(self.store, self.settings, self.clock())
        if outcomes:
            statuses = [o.status for o in outcomes]
            log_event(
                "retry", messages=len(outcomes), **{s: statuses.count(s) for s in set(statuses)}
            )
        self._publish_undelivered()
        return f"{len(outcomes)} messages retried"

    def tick(self) -> str:
        """Run the stages' periodic check (the job queue's dead workers); return a summary."""
        assert self.stages.tick is not None
        summary = str(self.stages.tick(self.clock()))
        stats = job_queue.stats(self.store)
        if stats is not None:
            self.state.set_gauge("digest_queue_depth", stats.depth)
            for state, n in stats.by_state:
                self.state.set_gauge("digest_queue_jobs", n, state=state)
            self.state.set_gauge("digest_workers", stats.workers)
        return summary

    def _publish_undelivered(self) -> None:
        self.state.set_gauge("digest_deliveries_undelivered", ledger.undelivered(self.store))

    def _fetch(self, digests: Sequence[DigestSettings], now: datetime, scope: str) -> IngestReport:
        started = time.perf_counter()
        report = self.stages.fetch(self.settings, self.store, digests, now)
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
            seconds=round(time.perf_counter() - started, 3),
        )
        return report

    def _digest(self, name: str) -> DigestSettings | None:
        return next((d for d in self.settings.digests if d.name == name), None)


def stale_after(settings: Settings) -> timedelta:
    """Return how long without a completed fetch pass before /healthz reports unhealthy."""
    return 3 * settings.fetch_every + timedelta(minutes=5)
