"""The background service: a fetch job, one job per digest, a retry job, hand-overs, catch-up.

Jobs run one at a time on a single worker thread, so a digest never races the fetch pass for
the same feeds or the same SQLite file. Each digest job builds the periods that are due (see
digest/service/schedule.py), so a job that starts late (a busy worker, a suspended machine)
still builds the right period, and one for a period already built does nothing. Missed
periods are planned once, at start, from the runs table.

The loop that decides what is due runs on the monotonic clock and reads the wall clock
afresh each time round. APScheduler's own scheduler (whose cron triggers still compute every
fire time) waits for the next fire time by the wall clock: a step back of an hour stalled
every job for that hour, hand-overs included, and steps forward made cron jobs misfire. Here
the interval jobs (fetch, retry, hand-overs) count real elapsed time, and each round asks
which of a digest's fire times in the last grace window (wall clock) were neither tried by
this service nor settled in the runs table, so a period is built once whichever way the
clock moves, and a step back never repeats one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from digest.config import CatchUp, DigestSettings, Settings, schedule_slots, slot_key
from digest.errors import ConfigError, DigestError
from digest.models import Clock, IngestReport, wall_clock
from digest.service.health import JobOutcome, ServiceState
from digest.service.jobs import Stages, log_crash, log_event, log_fetch, log_report
from digest.service.requests import serve_requests
from digest.service.schedule import due_slots, in_period, is_settled, job_grace, next_slot
from digest.store import SERVICE_ROLE, Store, holder_name, ledger
from digest.store import queue as job_queue

# The ledger's first retry comes after a minute; checking each minute keeps it on time.
RETRY_EVERY = timedelta(minutes=1)
# A `digest run` waiting for the service to take its request (cli/handover.py) waits this long.
REQUESTS_EVERY = timedelta(seconds=2)
# The loop goes round at least this often: a wall-clock step is seen within it, and the
# health endpoint calls a loop silent for much longer stalled.
TICK = 5.0
# A wall clock that moved this much more (or less) than the monotonic one was stepped.
CLOCK_STEP = 30.0
FETCH_JOB, RETRY_JOB, DIGEST_PREFIX, CATCH_UP_PREFIX = "fetch", "retry", "digest:", "catch-up:"
REQUESTS_JOB = "requests"
# With `digest worker`: how often the scheduler looks for jobs of dead workers.
TICK_EVERY, TICK_JOB = timedelta(seconds=5), "queue"

Body = Callable[..., str]


@dataclass
class _Interval:
    """A job run every `every` seconds of real (monotonic) time."""

    job: str
    every: float
    body: Body
    due: float  # monotonic


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
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings, self.store = settings, store
        self.stages = stages or Stages()
        self.clock = clock
        self.monotonic = monotonic
        self.state = state or ServiceState(
            clock, stale_after(settings), monotonic, queue_stall(settings)
        )
        self.holder = holder_name(SERVICE_ROLE)
        self._load = load
        self._cv = threading.Condition()
        self._queue: deque[tuple[str, Body, tuple[object, ...], float]] = deque()
        self._queued: set[str] = set()  # waiting or running: a job is never queued twice
        self._intervals: dict[str, _Interval] = {}
        # Per digest, the fire times (keys) this service tried or let go, so that each one is
        # considered once whatever the wall clock does; pruned past the grace window.
        self._seen: dict[str, dict[str, datetime]] = {}
        self._last_wall: datetime | None = None
        self._last_mono = 0.0
        self._wake = threading.Event()
        self._loop: threading.Thread | None = None
        self._worker: threading.Thread | None = None
        self._guard_lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        self._stopping = False
        self._running = False
        self.current_job: str | None = None
        self._current_since = 0.0

    # lifecycle

    def start(self) -> None:
        """Schedule the jobs, plan the catch-up runs from the runs table and start."""
        now, mono = self.clock(), self.monotonic()
        for request in self.store.fail_orphaned_requests(self.holder, now):
            log_event("request-orphaned", logging.WARNING, id=request.id, taken_by=request.taken_by)
        self._schedule(now, first_fetch=True)
        for name, slots in self.plan_catch_up(now):
            keys = [slot_key(s) for s in slots]
            log_event("catch-up", digest=name, periods=",".join(keys), count=len(keys))
            self._enqueue(CATCH_UP_PREFIX + name, self.build_slots, name, slots)
        self._last_wall, self._last_mono = now, mono
        self._running = True
        self.state.set_running(True)
        self._publish_next_runs()
        self._publish_undelivered()  # from the start, not only once the retry job ran
        self._worker = threading.Thread(target=self._work, name="digest-worker")
        self._loop = threading.Thread(target=self._run_loop, name="digest-scheduler", daemon=True)
        self._worker.start()
        self._loop.start()

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
        if settings.fetch_every.total_seconds() <= 0:
            raise ConfigError(str(settings.config_path or "settings"), "fetch_every must be > 0")
        old = self.settings
        self.settings = settings
        try:
            self.state.stale_after = stale_after(settings)
            self.state.queue_stall = queue_stall(settings)
            self._schedule(self.clock(), first_fetch=False, previous=old)
        except Exception:
            self.settings = old
            raise
        self._publish_next_runs()
        self._wake.set()

    def stop(self, timeout: float, force: Callable[[], bool] = lambda: False) -> bool:
        """Stop scheduling; wait for the running job; return False if it had to be abandoned."""
        with self._guard_lock:
            self._stopping = True  # queued jobs become no-ops from here on
        self._running = False
        with self._cv:
            self._queue.clear()
            self._cv.notify_all()
        self._wake.set()
        self.state.set_running(False)
        deadline = time.monotonic() + timeout
        while not self._idle.wait(0.1):
            if force() or time.monotonic() >= deadline:
                return False
        return True

    def wakeup(self) -> None:
        """Make the loop look at the clocks now (after a reload, or in tests)."""
        self._wake.set()

    # scheduling

    def _schedule(
        self, now: datetime, *, first_fetch: bool, previous: Settings | None = None
    ) -> None:
        """(Re)make the interval jobs and note each digest's schedule."""
        s, mono = self.settings, self.monotonic()
        every = {
            FETCH_JOB: (s.fetch_every.total_seconds(), self.fetch_feeds),
            RETRY_JOB: (RETRY_EVERY.total_seconds(), self.retry_messages),
            REQUESTS_JOB: (REQUESTS_EVERY.total_seconds(), self.serve_requests),
        }
        if self.stages.tick is not None:
            every[TICK_JOB] = (TICK_EVERY.total_seconds(), self.tick)
        with self._cv:
            for job, (seconds, body) in every.items():
                known = self._intervals.get(job)
                if known is not None and known.every == seconds:
                    continue
                first = 0.0 if job == FETCH_JOB and first_fetch else seconds
                self._intervals[job] = _Interval(job, seconds, body, mono + first)
        before = {d.name: d for d in previous.digests} if previous else {}
        self._seen = {d.name: self._seen.get(d.name, {}) for d in s.digests}
        for d in s.digests:
            grace = job_grace(d)
            if before.get(d.name) != d:
                # A new or changed schedule starts with its next fire time: what fell due
                # before (within the grace) is the start-up catch-up's, or nobody's.
                for slot in schedule_slots(d, now - grace, now):
                    self._seen[d.name].setdefault(slot_key(slot), slot)
            log_event(
                "schedule",
                digest=d.name,
                schedule=d.schedule,
                timezone=d.timezone,
                next_run=next_slot(d, now),
                catch_up=d.catch_up,
                misfire_grace=int(grace.total_seconds()),
            )

    def _run_loop(self) -> None:
        """Go round until stopped: queue what is due, then sleep until the next thing is."""
        while self._running:
            try:
                wait = self._round()
            # Broad: whatever one round hits (a database hiccup, a bug), the loop must go on
            # deciding what is due, or every job would stop unseen.
            except Exception as exc:
                log_crash("error", exc, job="scheduler", error=f"{type(exc).__name__}: {exc}")
                wait = TICK
            self._wake.wait(wait)
            self._wake.clear()

    def _round(self) -> float:
        """Queue the due jobs once; return how long to sleep (seconds) before the next round."""
        wall, mono = self.clock(), self.monotonic()
        previous = self._note_clock_step(wall, mono)
        for interval in list(self._intervals.values()):
            if mono >= interval.due:
                interval.due = mono + interval.every
                self._enqueue(interval.job, interval.body)
        soonest = TICK
        for d in self.settings.digests:
            self._queue_digest(d, wall, previous)
            upcoming = next_slot(d, wall)
            if upcoming is not None:
                soonest = min(soonest, (upcoming - wall).total_seconds() + 0.05)
        self.state.tick()
        self._publish_next_runs()
        with self._cv:
            nearest = min((i.due for i in self._intervals.values()), default=mono + TICK)
        return max(0.05, min(soonest, nearest - mono))

    def _note_clock_step(self, wall: datetime, mono: float) -> datetime:
        """Log a step of the wall clock since the last round; return that round's wall time."""
        previous = self._last_wall or wall
        step = (wall - previous).total_seconds() - (mono - self._last_mono)
        if self._last_wall is not None and abs(step) >= CLOCK_STEP:
            log_event("clock-step", logging.WARNING, seconds=round(step), now=wall)
        self._last_wall, self._last_mono = wall, mono
        return previous

    def _queue_digest(self, d: DigestSettings, wall: datetime, previous: datetime) -> None:
        """Queue a digest's build for its fire times due now and not yet considered.

        Fire times between the previous round and the grace window's start were jumped over
        (a step forward, a suspended machine) and are logged as missed; a step back finds
        the fire times it repeats considered already.
        """
        grace = job_grace(d)
        seen = self._seen.setdefault(d.name, {})
        for key in [k for k, slot in seen.items() if slot < wall - 2 * grace - timedelta(days=1)]:
            del seen[key]  # long past: no step of the clock brings it back into the window
        fresh = [s for s in schedule_slots(d, wall - grace, wall) if slot_key(s) not in seen]
        skipped = schedule_slots(d, min(previous, wall - grace), wall - grace)
        missed = [s for s in skipped if slot_key(s) not in seen]
        for slot in missed:
            seen[slot_key(slot)] = slot
            log_event("missed", logging.WARNING, job=DIGEST_PREFIX + d.name, scheduled=slot)
        if not fresh:
            return
        for slot in fresh:
            seen[slot_key(slot)] = slot
        policy: CatchUp = "latest" if d.catch_up == "none" else d.catch_up
        chosen = fresh if policy == "all" else fresh[-1:]
        self._enqueue(DIGEST_PREFIX + d.name, self.build_slots, d.name, tuple(chosen))

    def _enqueue(self, job: str, body: Body, *args: object) -> None:
        with self._cv:
            if job in self._queued or self._stopping:
                return
            self._queued.add(job)
            self._queue.append((job, body, args, self.monotonic()))
            self._cv.notify()
        self._publish_queue()

    def _work(self) -> None:
        """The single worker: run queued jobs one after another until stopped."""
        while True:
            with self._cv:
                while not self._queue and not self._stopping:
                    self._cv.wait()
                if self._stopping:
                    return
                job, body, args, _since = self._queue.popleft()
            self._current_since = self.monotonic()
            try:
                self._guarded(job, body, *args)
            finally:
                with self._cv:
                    self._queued.discard(job)
                self._publish_queue()

    def _publish_queue(self) -> None:
        with self._cv:
            waiting = [(job, since) for job, _b, _a, since in self._queue]
        current = (self.current_job, self._current_since) if self.current_job else None
        self.state.set_queue(waiting, current)

    def _publish_next_runs(self) -> None:
        if not self._running:
            self.state.set_next_runs([])
            return
        wall, mono = self.clock(), self.monotonic()
        runs: list[tuple[str, datetime | None]] = [
            (i.job, wall + timedelta(seconds=max(0.0, i.due - mono)))
            for i in self._intervals.values()
        ]
        runs += [(DIGEST_PREFIX + d.name, next_slot(d, wall)) for d in self.settings.digests]
        self.state.set_next_runs(runs)

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

    def _guarded(self, job: str, body: Body, *args: object) -> None:
        """Run one job body: skipped once stopping, timed, recorded, never raising."""
        with self._busy() as go:
            if not go:
                return
            started = time.perf_counter()
            ok, detail = True, ""
            self.current_job = job
            self._publish_queue()
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
            # missed period (or one whose time the wall clock has not reached again after a
            # step back) is built as of its own fire time, so it keeps its own key.
            at = now if in_period(d, slot, now) else slot.astimezone(UTC)
            started = time.perf_counter()
            report = self.stages.build(self.settings, d, self.store, at, ingest)
            log_report(report, time.perf_counter() - started)
            built.append(f"{key} {'ok' if report.ok else 'with failures'}")
        self._publish_undelivered()  # a period's failed or waiting messages count at once
        return "; ".join(built)

    def serve_requests(self) -> str:
        """Run the runs `digest run` handed over (it waits for each); return a summary."""
        return serve_requests(self.settings, self.store, self.holder, self.clock)

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
        if self.stages.tick is None:
            return "no job queue"
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
        log_fetch(report, scope, time.perf_counter() - started)
        return report

    def _digest(self, name: str) -> DigestSettings | None:
        return next((d for d in self.settings.digests if d.name == name), None)


def stale_after(settings: Settings) -> timedelta:
    """Return how long without a completed fetch pass before /healthz reports unhealthy."""
    return 3 * settings.fetch_every + timedelta(minutes=5)


def queue_stall(settings: Settings) -> timedelta:
    """Return how long a job may wait for the busy worker before /healthz calls it stalled."""
    return max(timedelta(minutes=10), settings.fetch_every)
