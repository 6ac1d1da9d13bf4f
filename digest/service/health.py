"""The service's health: what its jobs last did, served as /healthz (JSON) and /metrics.

/healthz answers 200 while the scheduler runs and a fetch pass has completed recently (within
`stale_after`, three fetch intervals by default), 503 otherwise: that is what a container
health check or a monitoring probe should watch. "Runs" means its loop ticked within
`STALL_AFTER` and no job has waited for the worker longer than `queue_stall` (a hand-over
request nobody takes is a sick service). Ages are measured on the monotonic clock, so a
step of the wall clock neither hides a stall nor fakes one. A feed that fails is not a sick service (it
shows in `digest status` and in the digest); a job that raises (say the database is gone) is.
/metrics is the Prometheus exposition (text, or OpenMetrics when the scraper asks for it) from
prometheus_client, so every family carries its # HELP and # TYPE lines and values are escaped
by the library that defines the format.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder

from digest.service import unsubscribe
from digest.service.background import BackgroundServer, GuardedHandler
from digest.service.unsubscribe import Unsubscriber

# HELP text of the gauges the jobs set; another name gets its own name as help.
GAUGE_HELP = {
    "digest_feeds": "Configured and added feeds by state (ok, failing) after the last fetch.",
    "digest_deliveries_undelivered": "Messages still due in the delivery ledger.",
    "digest_queue_depth": "Jobs waiting for a `digest worker` (PostgreSQL job queue).",
    "digest_queue_jobs": "Jobs in the job queue by state (todo, doing, failed, ...).",
    "digest_workers": "`digest worker` processes with a heartbeat in the last minute.",
}


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """How one job (fetch, retry, a digest) ended the last time it ran."""

    job: str
    ok: bool
    finished_at: datetime
    seconds: float
    detail: str = ""


Gauge = tuple[str, tuple[tuple[str, str], ...]]
# The scheduler's loop ticks every few seconds whatever the jobs do: this long without a tick
# means it is stuck or dead.
STALL_AFTER = 60.0


class ServiceState:
    """What the running service did, shared (under a lock) by its jobs and the health server."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        stale_after: timedelta,
        monotonic: Callable[[], float] = time.monotonic,
        queue_stall: timedelta = timedelta(minutes=10),
    ) -> None:
        self._clock = clock
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self.started_at = clock()
        self._started = monotonic()
        self.stale_after = stale_after
        self.queue_stall = queue_stall
        self._running = False
        self._ticked: float | None = None  # None: no loop reports (a state used alone)
        self._queue: tuple[tuple[str, float], ...] = ()
        self._current: tuple[str, float] | None = None
        self._last: dict[str, JobOutcome] = {}
        self._last_ok: dict[str, datetime] = {}
        self._last_ok_at: dict[str, float] = {}  # monotonic
        self._counts: dict[tuple[str, bool], int] = {}
        self._gauges: dict[Gauge, float] = {}
        self._next: tuple[tuple[str, datetime | None], ...] = ()
        # A registry of its own: the process-wide default one would also export Python's
        # and the process's metrics, and two states in one process (tests) would clash.
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    def set_running(self, running: bool) -> None:
        """Record whether the scheduler is running."""
        with self._lock:
            self._running = running

    def tick(self) -> None:
        """Record that the scheduler's loop went round (it does every few seconds)."""
        with self._lock:
            self._ticked = self._monotonic()

    def set_queue(
        self, waiting: Sequence[tuple[str, float]], current: tuple[str, float] | None
    ) -> None:
        """Record the jobs waiting for the worker and the one it runs, each with since when."""
        with self._lock:
            self._queue, self._current = tuple(waiting), current

    def set_next_runs(self, runs: Sequence[tuple[str, datetime | None]]) -> None:
        """Record each job's next fire time."""
        with self._lock:
            self._next = tuple(runs)

    def job_finished(self, outcome: JobOutcome) -> None:
        """Record the end of one job run."""
        with self._lock:
            self._last[outcome.job] = outcome
            key = (outcome.job, outcome.ok)
            self._counts[key] = self._counts.get(key, 0) + 1
            if outcome.ok:
                self._last_ok[outcome.job] = outcome.finished_at
                self._last_ok_at[outcome.job] = self._monotonic()

    def set_gauge(self, name: str, value: float, **labels: str) -> None:
        """Set a gauge exported on /metrics, e.g. digest_feeds_failing."""
        with self._lock:
            self._gauges[(name, tuple(sorted(labels.items())))] = value

    def health(self) -> tuple[int, str]:
        """Return the /healthz HTTP status (200 or 503) and its JSON body."""
        mono = self._monotonic()
        with self._lock:
            last_fetch = self._last_ok.get("fetch")
            since = last_fetch or self.started_at
            age = mono - self._last_ok_at.get("fetch", self._started)
            fresh = age <= self.stale_after.total_seconds()
            tick_age = None if self._ticked is None else mono - self._ticked
            waiting = {job: round(mono - at, 1) for job, at in self._queue}
            stalled = self._stalled(tick_age, waiting)
            reason: str | None
            if not self._running:
                scheduler, reason = "stopped", "the scheduler is not running"
            elif stalled:
                scheduler, reason = "stalled", f"the scheduler is stalled: {stalled}"
            else:
                scheduler = "running"
                reason = None if fresh else f"no completed fetch pass since {_iso(since)}"
            healthy = reason is None
            body: dict[str, Any] = {
                "status": "ok" if healthy else "unhealthy",
                "scheduler": scheduler,
                "started_at": _iso(self.started_at),
                "last_fetch_ok_at": _iso(last_fetch),
                "stale_after_seconds": int(self.stale_after.total_seconds()),
                "loop_seconds_ago": None if tick_age is None else round(tick_age, 1),
                "running_job": None
                if self._current is None
                else {"job": self._current[0], "seconds": round(mono - self._current[1], 1)},
                "waiting_jobs": waiting,
                "jobs": {
                    o.job: {
                        "ok": o.ok,
                        "finished_at": _iso(o.finished_at),
                        "seconds": o.seconds,
                        "detail": o.detail,
                    }
                    for o in self._last.values()
                },
                "next_runs": {job: _iso(at) for job, at in self._next},
            }
        if reason is not None:
            body["reason"] = reason
        return (200 if healthy else 503), json.dumps(body, indent=2) + "\n"

    def _stalled(self, tick_age: float | None, waiting: dict[str, float]) -> str | None:
        """Return why the scheduler counts as stalled, or None (called under the lock)."""
        if tick_age is not None and tick_age > STALL_AFTER:
            return f"its loop last ran {tick_age:.0f}s ago"
        stuck = [job for job, age in waiting.items() if age > self.queue_stall.total_seconds()]
        if not stuck:
            return None
        busy = self._current[0] if self._current else "nothing"
        return f"{stuck[0]} has waited {waiting[stuck[0]]:.0f}s for the worker, busy with {busy}"

    def metrics(self) -> str:
        """Return the Prometheus text exposition of the service's counters and gauges."""
        return generate_latest(self.registry).decode("utf-8")

    def collect(self) -> Iterator[Metric]:
        """Yield every metric family (the prometheus_client collector protocol)."""
        with self._lock:
            yield _gauge("digest_up", "1 while the scheduler runs.", [((), int(self._running))])
            yield _gauge(
                "digest_start_time_seconds",
                "When the service started, in Unix seconds.",
                [((), self.started_at.timestamp())],
            )
            runs = CounterMetricFamily(
                "digest_job_runs", "Job runs by job and result.", labels=["job", "result"]
            )
            for (job, ok), n in sorted(self._counts.items()):
                runs.add_metric([job, "ok" if ok else "error"], n)
            yield runs
            yield _gauge(
                "digest_job_last_success_timestamp_seconds",
                "When each job last succeeded, in Unix seconds.",
                [((("job", job),), at.timestamp()) for job, at in sorted(self._last_ok.items())],
            )
            yield _gauge(
                "digest_job_last_duration_seconds",
                "How long each job's last run took.",
                [((("job", job),), o.seconds) for job, o in sorted(self._last.items())],
            )
            yield _gauge(
                "digest_next_run_timestamp_seconds",
                "When each job runs next, in Unix seconds.",
                [((("job", job),), at.timestamp()) for job, at in self._next if at is not None],
            )
            by_name: dict[str, list[tuple[tuple[tuple[str, str], ...], float]]] = {}
            for (name, labels), value in sorted(self._gauges.items()):
                by_name.setdefault(name, []).append((labels, value))
            for name, samples in by_name.items():
                yield _gauge(name, GAUGE_HELP.get(name, name), samples)


def _gauge(
    name: str, help_text: str, samples: Sequence[tuple[tuple[tuple[str, str], ...], float]]
) -> GaugeMetricFamily:
    """Return a gauge family; every sample of one name carries the same label names."""
    keys = [k for k, _ in samples[0][0]] if samples else []
    family = GaugeMetricFamily(name, help_text, labels=keys)
    for labels, value in samples:
        family.add_metric([v for _, v in labels], value)
    return family


class HealthServer(BackgroundServer):
    """A small HTTP server for /healthz, /metrics and /unsubscribe on its own daemon thread."""

    def __init__(
        self, state: ServiceState, host: str, port: int, unsubscriber: Unsubscriber | None = None
    ) -> None:
        handler = type("_Handler", (_Handler,), {"state": state, "unsubscriber": unsubscriber})
        super().__init__(handler, host, port, "--health-port")


def start_health_server(
    state: ServiceState, host: str, port: int, unsubscriber: Unsubscriber | None = None
) -> HealthServer:
    """Return a running health server on host:port (port 0 picks a free one)."""
    server = HealthServer(state, host, port, unsubscriber)
    server.start()
    return server


class _Handler(GuardedHandler):
    state: ServiceState
    unsubscriber: Unsubscriber | None = None
    server_version = "digest-health"

    def do_POST(self) -> None:
        if not unsubscribe.answer(self, self.unsubscriber):
            self._send(404, "not found\n", "text/plain")

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if unsubscribe.answer(self, self.unsubscriber):
            return
        if path in ("/healthz", "/health"):
            status, body = self.state.health()
            self._send(status, body, "application/json")
        elif path == "/metrics":
            # Text format, or OpenMetrics when the scraper's Accept header asks for it.
            encoder, content_type = choose_encoder(self.headers.get("Accept") or "")
            self._send(200, encoder(self.state.registry).decode("utf-8"), content_type)
        else:
            self._send(404, "not found: try /healthz or /metrics\n", "text/plain")

    def _send(self, status: int, body: str, content_type: str) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat(timespec="seconds")
