"""`digest serve` end to end (a subprocess under a controlled clock) and the service's logic.

The subprocess runs the real command, `python -m digest serve --config ...`; a
sitecustomize.py on PYTHONPATH starts time-machine at DIGEST_TEST_NOW (ticking), so the
07:00 digest is due a few seconds after start and "the next morning" is one restart away.
"""

from __future__ import annotations

import email
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import time_machine
from httpserver import LOOPBACK_FETCH
from serveproc import SITECUSTOMIZE, ServeProcess

from digest.config import load_settings
from digest.config.periods import schedule_slots, slot_key
from digest.config.settings import DigestSettings, Settings
from digest.errors import ConfigError
from digest.models import FeedSource, IngestReport, RunRecord, RunReport
from digest.service.jobs import Stages
from digest.service.schedule import due_slots, is_settled
from digest.service.scheduler import DIGEST_PREFIX, FETCH_JOB, Service, stale_after
from digest.store.database import Store, open_store
from digest.store.lock import lock_holder

ITEM = """<item><title>{title}</title><link>http://example.org/{guid}</link><guid>{guid}</guid>
<pubDate>{date}</pubDate><description>{text}</description></item>"""


def _write_feed(path: Path, items: list[tuple[str, str, str]]) -> None:
    body = "".join(
        ITEM.format(guid=g, date=d, title=t, text=f"{t}. The council said so on Monday. " * 3)
        for g, d, t in items
    )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Local</title>'
        f"<link>http://example.org/</link><description>t</description>{body}</channel></rss>",
        encoding="utf-8",
    )


@dataclass
class _Env:
    root: Path
    config: Path
    feed: Path
    outbox: Path
    env: dict[str, str]


@pytest.fixture
def env(tmp_path: Path) -> _Env:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    feed = tmp_path / "feed.xml"
    _write_feed(feed, [("a1", "Mon, 23 Nov 2026 05:00:00 +0000", "Bridge approved")])
    (tmp_path / "feeds.toml").write_text('[[feed]]\nurl = "feed.xml"\nname = "Local"\n')
    config = tmp_path / "digest.toml"
    config.write_text(
        'data_dir = "data"\nfetch_every = "30m"\n\n[[digest]]\nname = "morning"\n'
        'title = "Morning"\nfeeds = ["feeds.toml"]\nschedule = "0 7 * * *"\n'
        'timezone = "Europe/Berlin"\nrecipients = ["reader@example.org"]\n',
        encoding="utf-8",
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    clean["PYTHONPATH"] = str(tmp_path / "site")
    return _Env(tmp_path, config, feed, tmp_path / "data" / "outbox", clean)


def _proc(e: _Env, now: str, *args: str, name: str = "serve") -> ServeProcess:
    """`digest serve ARGS` under the test's clock, started at now (ticking)."""
    env = {"PYTHONPATH": e.env["PYTHONPATH"], "DIGEST_TEST_NOW": now}
    return ServeProcess(e.config, *args, env=env, name=name)


def _emls(e: _Env) -> list[Path]:
    return sorted(e.outbox.glob("*.eml")) if e.outbox.exists() else []


def _wait_for_emls(e: _Env, count: int, proc: ServeProcess, timeout: float = 25) -> list[Path]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(_emls(e)) < count:
        time.sleep(0.1)
    assert len(_emls(e)) == count, proc.text()
    return _emls(e)


def _cli(e: _Env, now: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**e.env, "DIGEST_TEST_NOW": now}
    cmd = [sys.executable, "-m", "digest", *args, "--config", str(e.config)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=30, check=False)


def test_serve_delivers_on_time_then_catches_up_exactly_once(env: _Env) -> None:
    # Day 1: started eight seconds before 07:00 Berlin (start-up takes one or two of them);
    # the cron job delivers to the outbox.
    first = _proc(env, "2026-11-23T06:59:52+01:00", "--health-port", "0")
    try:
        port = int(first.wait_for(r"event=health host=\S+ port=(\d+)").group(1))
        first.wait_for(r"event=start ")
        second = _cli(env, "2026-11-23T06:59:58+01:00", "serve")
        assert second.returncode == 1
        assert f"held by digest serve, pid {first.p.pid} on " in second.stderr
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            assert answer.status == 200
            assert json.load(answer)["scheduler"] == "running"
        (eml,) = _wait_for_emls(env, 1, first)
        first.wait_for(r"event=run digest=morning period=2026-11-23T07:00\+0100 status=done")
        assert "event=catch-up" not in first.text()  # built by the cron job, not catch-up
        assert email.message_from_bytes(eml.read_bytes())["To"].endswith("reader@example.org")
    finally:
        assert first.stop() == 0
    assert "event=stop abandoned=False" in first.text()

    # Down over the next 07:00; restarted at 09:00 it builds that period once.
    _write_feed(
        env.feed,
        [
            ("a1", "Mon, 23 Nov 2026 05:00:00 +0000", "Bridge approved"),
            ("a2", "Tue, 24 Nov 2026 05:00:00 +0000", "Storm warning for the coast"),
        ],
    )
    again = _proc(env, "2026-11-24T09:00:00+01:00", name="again")
    try:
        again.wait_for(r"event=catch-up digest=morning periods=2026-11-24T07:00\+0100 count=1")
        _wait_for_emls(env, 2, again)
        again.wait_for(r"event=run digest=morning period=2026-11-24T07:00\+0100 status=done")
    finally:
        assert again.stop() == 0

    # Restarted once more within the grace window: nothing to catch up, nothing sent.
    third = _proc(env, "2026-11-24T09:30:00+01:00", name="third")
    try:
        third.wait_for(r"event=stage stage=fetch digest=all ")
        # `digest run` while the service runs: handed over, and the period was sent already.
        handed = _cli(env, "2026-11-24T09:30:05+01:00", "run")
        assert handed.returncode == 0, handed.stdout + handed.stderr
        assert "handing this run to it" in handed.stderr
        assert "already written at " in handed.stdout
        # SIGHUP: the new schedule is read and the job rescheduled.
        env.config.write_text(env.config.read_text().replace("0 7 * * *", "15 8 * * *"))
        third.p.send_signal(signal.SIGHUP)
        third.wait_for(r"event=schedule digest=morning schedule=\"15 8 \* \* \*\"")
        third.wait_for(r"event=reload ok=True")
    finally:
        assert third.stop() == 0
    assert "event=catch-up" not in third.text()
    # The only run is the one handed over, and it sent nothing new.
    (ran,) = [line for line in third.text().splitlines() if "event=run " in line]
    assert "delivered=0 already_delivered=1" in ran
    assert len(_emls(env)) == 2
    store = open_store(f"sqlite:///{env.root / 'data' / 'digest.sqlite3'}")
    runs = store.recent_runs("morning")
    store.close()
    assert sorted((r.period_key, r.status) for r in runs) == [
        ("2026-11-23T07:00+0100", "done"),
        ("2026-11-24T07:00+0100", "done"),
    ]


class _SlowFeed(BaseHTTPRequestHandler):
    """Answers only when released (or after 20 s): a fetch the service is stuck in."""

    asked = threading.Event()
    release = threading.Event()

    def do_GET(self) -> None:
        type(self).asked.set()
        type(self).release.wait(20)
        self.send_response(503)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_sigterm_abandons_a_stuck_job_cleanly_and_exits_0(env: _Env) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowFeed)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    (env.root / "feeds.toml").write_text(f'[[feed]]\nurl = "{url}"\n')
    env.config.write_text(env.config.read_text(encoding="utf-8") + LOOPBACK_FETCH)
    proc = _proc(env, "2026-11-23T06:00:00+01:00", "--stop-timeout", "1")
    try:
        assert _SlowFeed.asked.wait(20), proc.text()
        started = time.monotonic()
        assert proc.stop() == 0
        assert time.monotonic() - started < 5
        proc.wait_for(r"event=stop abandoned=True job=fetch ")
        assert lock_holder(load_settings(env.config)) is None  # released with the process
    finally:
        _SlowFeed.release.set()
        server.shutdown()
        server.server_close()


def test_status_shows_next_run_last_run_feeds_and_undelivered(env: _Env) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on: SMTP refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = f'\n[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
    env.config.write_text(env.config.read_text() + smtp)
    _cli(env, "2026-11-23T09:00:00+01:00", "run")
    shown = _cli(env, "2026-11-23T09:00:05+01:00", "status")
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "service: not running" in out
    assert "next run: 2026-11-24 07:00 CET (in 21h59m)" in out
    assert "last run: 2026-11-23T07:00+0100 " in out
    assert "feeds: 1 ok, 0 failing, 0 disabled, 0 never fetched" in out
    assert "undelivered messages: 1" in out
    assert re.search(
        r"#1 morning 2026-11-23T07:00\+0100 -> reader@example.org: retry after 1 ", out
    )


# -- the service's logic, in process ----------------------------------------------------------


def _settings(tmp_path: Path, **digest: object) -> Settings:
    d = DigestSettings(
        name="morning",
        title="Morning",
        feeds=(FeedSource(url=str(tmp_path / "none.xml")),),
        timezone="Europe/Berlin",
        **digest,  # type: ignore[arg-type]
    )
    return Settings(
        config_path=None,
        data_dir=tmp_path,
        storage_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        outbox_dir=tmp_path / "outbox",
        digests=(d,),
    )


class _Fake:
    """Fake stages: builds settle their period in the real store, like the pipeline."""

    def __init__(self, store: Store, delay: float = 0.0) -> None:
        self.store, self.delay = store, delay
        self.built: list[tuple[str, datetime]] = []

    def stages(self) -> Stages:
        return Stages(fetch=lambda *_: IngestReport(), build=self.build, retry=lambda *_: ())

    def build(
        self, _s: Settings, d: DigestSettings, store: Store, now: datetime, _i: IngestReport
    ) -> RunReport:
        time.sleep(self.delay)
        key = slot_key(schedule_slots(d, now - timedelta(days=40), now)[-1])
        run = store.claim_run(d.name, key, now)
        report = RunReport(digest=d.name, period_key=key, delivery="complete")
        store.finish_run(run.id, report, now)
        self.built.append((key, now))
        return report


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    yield opened
    opened.close()


NINE = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # 09:00 in Berlin


def _clock(at: datetime) -> Callable[[], datetime]:
    return lambda: at


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("latest", ["2026-11-24T07:00+0100"]),
        ("all", ["2026-11-24T03:00+0100", "2026-11-24T07:00+0100"]),
        ("none", []),
    ],
)
def test_catch_up_policies_pick_missed_periods_within_the_grace(
    tmp_path: Path, store: Store, policy: str, expected: list[str]
) -> None:
    s = _settings(tmp_path, schedule="0 3,7,23 * * *", catch_up=policy)
    # 23:00 the day before is 10 h ago, outside a 9 h grace; 03:00 and 07:00 are missed.
    d = DigestSettings(**{**_fields(s.digests[0]), "catch_up_grace": timedelta(hours=9)})
    keys = [slot_key(x) for x in due_slots(d, NINE, lambda _k: False, d.catch_up, d.catch_up_grace)]
    assert keys == expected


def _fields(d: DigestSettings) -> dict[str, object]:
    return {f: getattr(d, f) for f in DigestSettings.__dataclass_fields__}


def test_catch_up_is_built_once_and_never_again(tmp_path: Path, store: Store) -> None:
    fake = _Fake(store)
    s = _settings(tmp_path)
    service = Service(s, store, stages=fake.stages(), clock=_clock(NINE))
    ((name, slots),) = service.plan_catch_up(NINE)
    service.build_slots(name, slots)
    assert [k for k, _ in fake.built] == ["2026-11-24T07:00+0100"]
    assert fake.built[0][1] == NINE  # still that period: built "as of now", fresher news
    later = Service(s, store, stages=fake.stages(), clock=_clock(NINE + timedelta(hours=1)))
    assert later.plan_catch_up(NINE + timedelta(hours=1)) == ()


def test_an_older_missed_period_is_built_as_of_its_own_time(tmp_path: Path, store: Store) -> None:
    fake = _Fake(store)
    s = _settings(tmp_path, schedule="0 3,7 * * *", catch_up="all")
    service = Service(s, store, stages=fake.stages(), clock=_clock(NINE))
    ((name, slots),) = service.plan_catch_up(NINE)
    service.build_slots(name, slots)
    assert fake.built == [
        ("2026-11-24T03:00+0100", datetime(2026, 11, 24, 2, 0, tzinfo=UTC)),
        ("2026-11-24T07:00+0100", NINE),
    ]


def _record(status: str, finished: bool = True, failures: tuple[str, ...] = ()) -> RunRecord:
    at = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    return RunRecord(
        id=1,
        digest="morning",
        period_key="2026-11-24T07:00+0100",
        status=status,
        started_at=at,
        finished_at=at if finished else None,
        # The untyped report of the code before 0.2.0 (old databases keep them).
        report=RunReport.from_json(json.dumps({"digest": "morning", "failures": list(failures)}))
        if finished
        else None,
    )


def test_settled_means_finished_and_handed_to_the_ledger() -> None:
    assert not is_settled(None)
    assert not is_settled(_record("started", finished=False))  # the process died mid-run
    assert is_settled(_record("done"))
    # A failed feed or recipient: the ledger retries the recipient, the period stays built.
    assert is_settled(_record("failed", failures=("fetch: http://x/feed: HTTP 500",)))
    assert is_settled(_record("failed", failures=("deliver: a@example.org: 550 no such user",)))
    # The delivery step failed as a whole: nobody may be in the ledger yet, so build again.
    assert not is_settled(_record("failed", failures=("deliver: morning: SMTP settings",)))
    # Nothing was written or sent (a full disk): build again once there is room.
    assert not is_settled(_record("failed", failures=("render: morning: [Errno 28] No space",)))


def test_settled_reads_the_typed_delivery_outcome() -> None:
    at = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    for outcome, settled in (("complete", True), ("incomplete", True), ("broken", False)):
        report = RunReport("morning", "2026-11-24T07:00+0100", delivery=outcome)  # type: ignore[arg-type]
        record = RunRecord(1, "morning", report.period_key, "failed", at, at, report)
        assert is_settled(record) is settled, outcome


def test_interval_jobs_count_real_time_and_a_job_is_queued_once(
    tmp_path: Path, store: Store
) -> None:
    s = _settings(tmp_path, catch_up_grace=timedelta(hours=6))
    service = Service(s, store, stages=_Fake(store).stages(), clock=_clock(NINE))
    service.start()
    try:
        every = {job: i.every for job, i in service._intervals.items()}
        assert every == {FETCH_JOB: 1800.0, "retry": 60.0, "requests": 2.0}
        runs = dict(json.loads(service.state.health()[1])["next_runs"])
        assert runs[DIGEST_PREFIX + "morning"] == "2026-11-25T06:00:00+00:00"  # 07:00 Berlin
    finally:
        assert service.stop(5)
    # Coalesced: a job waiting or running is not queued a second time.
    again = Service(s, store, stages=_Fake(store).stages(), clock=_clock(NINE))
    again._enqueue("x", lambda: "")
    again._enqueue("x", lambda: "")
    assert [job for job, *_ in again._queue] == ["x"]


def test_reload_reschedules_and_keeps_the_old_config_when_the_new_one_is_bad(
    tmp_path: Path, store: Store
) -> None:
    s = _settings(tmp_path)
    answers: list[Settings | Exception] = [
        _settings(tmp_path, schedule="30 6 * * 1-5"),
        ConfigError("digest.toml", "digest[0].schedule: bad"),
    ]

    def load() -> Settings:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    service = Service(s, store, load=load, stages=_Fake(store).stages(), clock=_clock(NINE))
    service.start()
    try:
        assert service.reload()
        runs = dict(json.loads(service.state.health()[1])["next_runs"])
        assert runs[DIGEST_PREFIX + "morning"] == "2026-11-25T05:30:00+00:00"  # 06:30 Berlin
        assert not service.reload()
        assert service.settings.digests[0].schedule == "30 6 * * 1-5"
    finally:
        assert service.stop(5)


def test_reload_keeps_the_running_config_on_any_error(tmp_path: Path, store: Store) -> None:
    # Issue 14: only DigestError was caught, so a loader bug or settings the scheduler
    # refuses (fetch_every of 0 s: misfire grace 0) ended `digest serve` on SIGHUP.
    s = _settings(tmp_path)
    zero = replace(_settings(tmp_path, schedule="30 6 * * *"), fetch_every=timedelta(0))
    answers: list[Settings | Exception] = [ValueError("cannot convert float NaN to integer"), zero]

    def load() -> Settings:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    service = Service(s, store, load=load, stages=_Fake(store).stages(), clock=_clock(NINE))
    service.start()
    try:
        assert not service.reload()
        assert not service.reload()
        assert service.settings is s
        runs = dict(json.loads(service.state.health()[1])["next_runs"])
        assert runs[DIGEST_PREFIX + "morning"] == "2026-11-25T06:00:00+00:00"  # 07:00 Berlin
        assert service._intervals[FETCH_JOB].every == s.fetch_every.total_seconds()
        assert service.state.stale_after == stale_after(s)
    finally:
        assert service.stop(5)


def test_a_failing_job_is_recorded_and_the_scheduler_goes_on(tmp_path: Path, store: Store) -> None:
    def broken(*_args: object) -> IngestReport:
        raise RuntimeError("database on fire")

    service = Service(_settings(tmp_path), store, stages=Stages(fetch=broken), clock=_clock(NINE))
    service.state.set_running(True)
    service._guarded(FETCH_JOB, service.fetch_feeds)
    status, body = service.state.health()
    assert status == 200  # one failed pass is not yet a sick service (see test_health)
    assert json.loads(body)["jobs"]["fetch"] == {
        "ok": False,
        "finished_at": NINE.isoformat(),
        "seconds": json.loads(body)["jobs"]["fetch"]["seconds"],
        "detail": "RuntimeError: database on fire",
    }


def test_stop_waits_for_the_running_job_or_abandons_it(tmp_path: Path, store: Store) -> None:
    fake = _Fake(store, delay=0.6)
    service = Service(_settings(tmp_path), store, stages=fake.stages(), clock=_clock(NINE))
    slots = schedule_slots(service.settings.digests[0], NINE - timedelta(hours=3), NINE)
    worker = threading.Thread(
        target=service._guarded, args=("x", service.build_slots, "morning", slots)
    )
    worker.start()
    time.sleep(0.2)
    assert not service.stop(0.1)  # still building: the caller would exit at once
    assert service.stop(5)  # or it waits, and the build completes
    worker.join()
    assert len(fake.built) == 1
    service._guarded("y", service.build_slots, "morning", slots)  # stopping: not run
    assert len(fake.built) == 1


@pytest.mark.parametrize(("late", "runs"), [(10, True), (20, False)])
def test_a_late_job_runs_within_its_misfire_grace_only(
    tmp_path: Path, store: Store, late: int, runs: bool, caplog: pytest.LogCaptureFixture
) -> None:
    fake = _Fake(store)
    s = _settings(tmp_path, catch_up="none")  # grace: 15 minutes
    before = datetime(2026, 11, 24, 5, 59, 58, tzinfo=UTC)  # 06:59:58 in Berlin
    with time_machine.travel(before, tick=True) as clock, caplog.at_level(logging.INFO):
        service = Service(s, store, stages=fake.stages())
        service.start()
        try:
            # The machine "sleeps" through 07:00 and wakes up `late` minutes after it.
            clock.move_to(before + timedelta(minutes=late))
            service.wakeup()
            deadline = time.monotonic() + 5
            while (
                time.monotonic() < deadline and not fake.built and "event=missed" not in caplog.text
            ):
                time.sleep(0.05)
        finally:
            assert service.stop(5)
    assert [k for k, _ in fake.built] == (["2026-11-24T07:00+0100"] if runs else [])
    assert ("event=missed job=digest:morning" in caplog.text) is not runs


def test_undelivered_messages_are_on_metrics_from_the_start(tmp_path: Path, store: Store) -> None:
    from digest.models import MessageParts
    from digest.store import ledger

    run = store.claim_run("morning", "2026-11-23T07:00+0100", NINE)
    parts = MessageParts(b"To: a@example.org\r\n", b"\r\nx\r\n")
    ledger.create(store, run.id, "a@example.org", message=parts, message_id="<a>", now=NINE)
    service = Service(_settings(tmp_path), store, stages=_Fake(store).stages(), clock=_clock(NINE))
    service.start()
    try:
        text = service.state.metrics()  # before the retry job first runs (a minute on)
    finally:
        assert service.stop(5)
    assert "digest_deliveries_undelivered 1.0" in text, text


def _wait(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_wall_clock_steps_stall_nothing_and_build_each_period_once(
    tmp_path: Path, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    # One hour back: hand-over requests were not taken for 90 s+ and the interval jobs' next
    # runs moved an hour ahead (APScheduler waits by the wall clock); later forward jumps
    # produced no 07:00 run.
    fake = _Fake(store)
    s = _settings(tmp_path)  # 07:00 in Berlin, catch_up = "latest"
    start = datetime(2026, 11, 24, 5, 30, tzinfo=UTC)  # 06:30 in Berlin
    with time_machine.travel(start, tick=True) as clock, caplog.at_level(logging.INFO):
        service = Service(s, store, stages=fake.stages())
        service.start()
        try:
            time.sleep(0.5)
            clock.move_to(start - timedelta(hours=1))
            asked = store.add_request("fetch", "{}", start)
            taken = _wait(lambda: store.get_request(asked).status == "done", 15)  # type: ignore[union-attr]
            assert taken, "a hand-over was not run after the clock went back an hour"
            clock.move_to(start + timedelta(minutes=35))  # 07:05: past the digest's time
            assert _wait(lambda: len(fake.built) == 1, 15), caplog.text
            clock.move_to(start + timedelta(minutes=15))  # back before 07:00, and on again
            time.sleep(6)
            clock.move_to(start + timedelta(minutes=50))
            time.sleep(6)
        finally:
            assert service.stop(5)
    assert [k for k, _ in fake.built] == ["2026-11-24T07:00+0100"]
    assert re.search(r"event=clock-step seconds=-36\d\d ", caplog.text)
