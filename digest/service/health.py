"""The service's health: what its jobs last did, served as /healthz (JSON) and /metrics.

/healthz answers 200 while the scheduler runs and a fetch pass has completed recently (within
`stale_after`, three fetch intervals by default), 503 otherwise: that is what a container
health check or a monitoring probe should watch. A feed that fails is not a sick service (it
shows in `digest status` and in the digest); a job that raises (say the database is gone) is.
/metrics is the Prometheus text format, written by hand: a dozen lines need no client library.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from digest.service import unsubscribe
from digest.service.unsubscribe import Unsubscriber


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """How one job (fetch, retry, a digest) ended the last time it ran."""

    job: str
    ok: bool
    finished_at: datetime
    seconds: float
    detail: str = ""


Gauge = tuple[str, tuple[tuple[str, str], ...]]


class ServiceState:
    """What the running service did, shared (under a lock) by its jobs and the health server."""

    def __init__(self, clock: Callable[[], datetime], stale_after: timedelta) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.started_at = clock()
        self.stale_after = stale_after
        self._running = False
        self._last: dict[str, JobOutcome] = {}
        self._last_ok: dict[str, datetime] = {}
        self._counts: dict[tuple[str, bool], int] = {}
        self._gauges: dict[Gauge, float] = {}
        self._next: tuple[tuple[str, datetime | None], ...] = ()

    def set_running(self, running: bool) -> None:
        """Record whether the scheduler is running."""
        with self._lock:
            self._running = running

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

    def set_gauge(self, name: str, value: float, **labels: str) -> None:
        """Set a gauge exported on /metrics, e.g. digest_feeds_failing."""
        with self._lock:
            self._gauges[(name, tuple(sorted(labels.items())))] = value

    def health(self) -> tuple[int, str]:
        """Return the /healthz HTTP status (200 or 503) and its JSON body."""
        now = self._clock()
        with self._lock:
            last_fetch = self._last_ok.get("fetch")
            since = last_fetch or self.started_at
            fresh = now - since <= self.stale_after
            healthy = self._running and fresh
            body: dict[str, Any] = {
                "status": "ok" if healthy else "unhealthy",
                "scheduler": "running" if self._running else "stopped",
                "started_at": _iso(self.started_at),
                "last_fetch_ok_at": _iso(last_fetch),
                "stale_after_seconds": int(self.stale_after.total_seconds()),
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
        if not fresh:
            body["reason"] = f"no completed fetch pass since {_iso(since)}"
        elif not healthy:
            body["reason"] = "the scheduler is not running"
        return (200 if healthy else 503), json.dumps(body, indent=2) + "\n"

    def metrics(self) -> str:
        """Return the Prometheus text exposition of the service's counters and gauges."""
        with self._lock:
            lines = [
                "# HELP digest_up 1 while the scheduler runs.",
                "# TYPE digest_up gauge",
                f"digest_up {int(self._running)}",
                "# TYPE digest_start_time_seconds gauge",
                f"digest_start_time_seconds {self.started_at.timestamp():.0f}",
                "# HELP digest_job_runs_total Job runs by job and result.",
                "# TYPE digest_job_runs_total counter",
            ]
            for (job, ok), n in sorted(self._counts.items()):
                result = "ok" if ok else "error"
                lines.append(f'digest_job_runs_total{{job="{_esc(job)}",result="{result}"}} {n}')
            lines.append("# TYPE digest_job_last_success_timestamp_seconds gauge")
            for job, at in sorted(self._last_ok.items()):
                lines.append(
                    f'digest_job_last_success_timestamp_seconds{{job="{_esc(job)}"}} '
                    f"{at.timestamp():.0f}"
                )
            lines.append("# TYPE digest_job_last_duration_seconds gauge")
            for job, o in sorted(self._last.items()):
                lines.append(f'digest_job_last_duration_seconds{{job="{_esc(job)}"}} {o.seconds}')
            lines.append("# TYPE digest_next_run_timestamp_seconds gauge")
            for job, next_at in self._next:
                if next_at is not None:
                    lines.append(
                        f'digest_next_run_timestamp_seconds{{job="{_esc(job)}"}} '
                        f"{next_at.timestamp():.0f}"
                    )
            for (name, labels), value in sorted(self._gauges.items()):
                text = ",".join(f'{k}="{_esc(v)}"' for k, v in labels)
                lines.append(f"{name}{{{text}}} {value:g}" if text else f"{name} {value:g}")
        return "\n".join(lines) + "\n"


class HealthServer:
    """A small HTTP server for /healthz and /metrics on its own daemon thread."""

    def __init__(
        self, state: ServiceState, host: str, port: int, unsubscriber: Unsubscriber | None = None
    ) -> None:
        handler = type("_Handler", (_Handler,), {"state": state, "unsubscriber": unsubscriber})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="digest-health", daemon=True
        )

    @property
    def port(self) -> int:
        """Return the port actually bound (useful when asked for port 0)."""
        return int(self._server.server_address[1])

    def close(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()


def start_health_server(
    state: ServiceState, host: str, port: int, unsubscriber: Unsubscriber | None = None
) -> HealthServer:
    """Return a running health server on host:port (port 0 picks a free one)."""
    server = HealthServer(state, host, port, unsubscriber)
    server._thread.start()
    return server


class _Handler(BaseHTTPRequestHandler):
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
            self._send(200, self.state.metrics(), "text/plain; version=0.0.4; charset=utf-8")
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

    def log_message(self, format: str, *args: Any) -> None:
        pass  # probes every few seconds would drown the service's own log lines


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat(timespec="seconds")


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
