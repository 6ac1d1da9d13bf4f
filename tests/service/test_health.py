"""The health endpoint: /healthz turns 503 when fetching stalls or the scheduler stops;
/metrics speaks the Prometheus text format. Served for real on a loopback port."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from digest.service.health import HealthServer, JobOutcome, ServiceState, start_health_server

T0 = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


class _Clock:
    """The wall clock and a monotonic one; moving `now` moves both, `step` the wall alone."""

    def __init__(self) -> None:
        self.now = T0
        self.offset = timedelta(0)  # wall-clock steps: what the monotonic clock never sees

    def __call__(self) -> datetime:
        return self.now + self.offset

    def monotonic(self) -> float:
        return (self.now - T0).total_seconds()

    def step(self, delta: timedelta) -> None:
        self.offset += delta


@pytest.fixture
def clock() -> _Clock:
    return _Clock()


@pytest.fixture
def state(clock: _Clock) -> ServiceState:
    s = ServiceState(clock, stale_after=timedelta(minutes=95), monotonic=clock.monotonic)
    s.set_running(True)
    return s


@pytest.fixture
def server(state: ServiceState) -> Iterator[HealthServer]:
    running = start_health_server(state, "127.0.0.1", 0)
    yield running
    running.close()


def _get(server: HealthServer, path: str) -> tuple[int, str, str]:
    url = f"http://127.0.0.1:{server.port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers["Content-Type"], exc.read().decode()


def test_healthy_while_running_and_fetching(
    server: HealthServer, state: ServiceState, clock: _Clock
) -> None:
    clock.now = T0 + timedelta(minutes=30)
    state.job_finished(JobOutcome("fetch", True, clock.now, 1.5, "3 feeds, 0 failing, 4 new"))
    clock.now = T0 + timedelta(minutes=100)  # 70 min after the last pass: still fresh
    status, kind, body = _get(server, "/healthz")
    assert (status, kind) == (200, "application/json")
    data = json.loads(body)
    assert data["status"] == "ok"
    assert data["last_fetch_ok_at"] == "2026-11-25T06:30:00+00:00"
    assert data["jobs"]["fetch"]["detail"] == "3 feeds, 0 failing, 4 new"


def test_unhealthy_when_no_fetch_pass_completes(
    server: HealthServer, state: ServiceState, clock: _Clock
) -> None:
    clock.now = T0 + timedelta(minutes=30)
    state.job_finished(JobOutcome("fetch", True, clock.now, 1.0))
    clock.now = T0 + timedelta(minutes=90)
    state.job_finished(JobOutcome("fetch", False, clock.now, 0.1, "StoreError: disk full"))
    clock.now = T0 + timedelta(minutes=126)  # 96 min since the last good pass
    status, _, body = _get(server, "/healthz")
    assert status == 503
    assert json.loads(body)["reason"] == "no completed fetch pass since 2026-11-25T06:30:00+00:00"


def test_unhealthy_when_the_scheduler_stopped(server: HealthServer, state: ServiceState) -> None:
    state.set_running(False)
    status, _, body = _get(server, "/healthz")
    assert status == 503
    assert json.loads(body)["reason"] == "the scheduler is not running"


def test_metrics_in_prometheus_text_format(
    server: HealthServer, state: ServiceState, clock: _Clock
) -> None:
    state.job_finished(JobOutcome("fetch", True, T0, 2.0))
    state.job_finished(JobOutcome("fetch", True, T0, 1.0))
    state.job_finished(JobOutcome('digest:a"b', False, T0, 0.5))
    state.set_gauge("digest_feeds", 3, state="ok")
    state.set_gauge("digest_feeds", 1, state="failing")
    state.set_gauge("digest_deliveries_undelivered", 2)
    state.set_next_runs([("digest:morning", T0 + timedelta(hours=24)), ("retry", None)])
    status, kind, text = _get(server, "/metrics")
    assert status == 200 and kind.startswith("text/plain; version=")
    families = list(text_string_to_metric_families(text))
    # Every family declares its type (a family without "# TYPE" parses as "unknown").
    assert {f.name: f.type for f in families if f.type == "unknown"} == {}
    typed = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    assert {"digest_feeds", "digest_deliveries_undelivered", "digest_up"} <= typed
    values = {
        (s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples
    }
    assert values[("digest_up", ())] == 1
    assert values[("digest_job_runs_total", (("job", "fetch"), ("result", "ok")))] == 2
    assert values[("digest_job_runs_total", (("job", 'digest:a"b'), ("result", "error")))] == 1
    assert values[("digest_job_last_duration_seconds", (("job", "fetch"),))] == 1.0
    next_run = values[("digest_next_run_timestamp_seconds", (("job", "digest:morning"),))]
    assert next_run == T0.timestamp() + 86400
    assert values[("digest_feeds", (("state", "ok"),))] == 3
    assert values[("digest_feeds", (("state", "failing"),))] == 1
    assert values[("digest_deliveries_undelivered", ())] == 2
    assert not any("retry" in line for line in text.splitlines())


def test_metrics_speak_openmetrics_when_asked(server: HealthServer, state: ServiceState) -> None:
    state.set_gauge("digest_feeds", 3, state="ok")
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/metrics",
        headers={"Accept": "application/openmetrics-text; version=1.0.0"},
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        kind, text = answer.headers["Content-Type"], answer.read().decode()
    assert kind.startswith("application/openmetrics-text")
    assert "# TYPE digest_feeds gauge" in text and text.endswith("# EOF\n")


def test_unknown_paths_are_404(server: HealthServer) -> None:
    status, _, body = _get(server, "/")
    assert status == 404 and "/healthz" in body


def test_a_wall_clock_step_neither_hides_nor_fakes_a_stale_fetch(
    server: HealthServer, state: ServiceState, clock: _Clock
) -> None:
    # Ages were wall-clock differences: a step forward made a fresh pass look hours old.
    clock.now = T0 + timedelta(minutes=30)
    state.job_finished(JobOutcome("fetch", True, clock(), 1.0))
    clock.step(timedelta(hours=5))
    assert _get(server, "/healthz")[0] == 200
    clock.step(timedelta(hours=-10))  # and back, beyond where it was
    clock.now = T0 + timedelta(minutes=130)  # 100 real minutes since the pass
    status, _, body = _get(server, "/healthz")
    assert status == 503 and json.loads(body)["reason"].startswith("no completed fetch pass")


def test_a_silent_scheduler_loop_is_reported_stalled(
    server: HealthServer, state: ServiceState, clock: _Clock
) -> None:
    state.tick()
    clock.now = T0 + timedelta(seconds=50)
    assert _get(server, "/healthz")[0] == 200
    clock.now = T0 + timedelta(seconds=75)
    status, _, body = _get(server, "/healthz")
    data = json.loads(body)
    assert status == 503 and data["scheduler"] == "stalled"
    assert data["reason"] == "the scheduler is stalled: its loop last ran 75s ago"


def test_a_job_waiting_long_for_a_busy_worker_is_reported_stalled(
    server: HealthServer, state: ServiceState, clock: _Clock
) -> None:
    # A hand-over request nobody took for minutes while /healthz said "ok".
    state.set_queue([("requests", 0.0)], ("digest:morning", 0.0))
    clock.now = T0 + timedelta(minutes=9)
    state.tick()
    assert _get(server, "/healthz")[0] == 200
    clock.now = T0 + timedelta(minutes=11)
    state.tick()
    status, _, body = _get(server, "/healthz")
    data = json.loads(body)
    assert status == 503 and data["waiting_jobs"] == {"requests": 660.0}
    assert data["running_job"] == {"job": "digest:morning", "seconds": 660.0}
    assert data["reason"] == (
        "the scheduler is stalled: requests has waited 660s for the worker, busy with "
        "digest:morning"
    )
