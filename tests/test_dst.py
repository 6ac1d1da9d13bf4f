"""Daylight saving: a 07:00 Europe/Berlin digest runs exactly once on both change days; a
02:30 one runs once too (03:30 local on spring-forward, the first 02:30 on fall-back).

Fire times are computed through the real cron trigger, then checked with a real scheduler
under a controlled clock (time-machine).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from digest.config.periods import is_repeated_wall_time, period_key, schedule_slots, slot_key
from digest.config.settings import DigestSettings, Settings
from digest.models import FeedSource, IngestReport, RunReport
from digest.service.jobs import Stages
from digest.service.schedule import next_slot
from digest.service.scheduler import DIGEST_PREFIX, Service
from digest.store.database import Store, open_store

BERLIN = ZoneInfo("Europe/Berlin")
SPRING = datetime(2026, 3, 29, tzinfo=BERLIN)  # 02:00 CET -> 03:00 CEST
AUTUMN = datetime(2026, 10, 25, tzinfo=BERLIN)  # 03:00 CEST -> 02:00 CET


def _digest(schedule: str, catch_up: str = "latest") -> DigestSettings:
    return DigestSettings(
        name="d",
        title="D",
        feeds=(FeedSource(url="/nonexistent.xml"),),
        schedule=schedule,
        timezone="Europe/Berlin",
        catch_up=catch_up,  # type: ignore[arg-type]
    )


def _local(moment: datetime) -> datetime:
    return moment.astimezone(UTC).astimezone(BERLIN)


def _on_day(slots: Sequence[datetime], day: datetime) -> list[datetime]:
    return [s for s in slots if _local(s).date() == day.date()]


def _around(day: datetime) -> tuple[datetime, datetime]:
    return day - timedelta(days=1), day + timedelta(days=2)


@pytest.mark.parametrize("day", [SPRING, AUTUMN], ids=["spring-forward", "fall-back"])
def test_seven_oclock_fires_exactly_once_on_change_days(day: datetime) -> None:
    slots = schedule_slots(_digest("0 7 * * *"), *_around(day))
    assert len(slots) == 3  # the day before, the change day, the day after
    (only,) = _on_day(slots, day)
    assert _local(only).strftime("%H:%M") == "07:00"
    offset = 2 if day is SPRING else 1  # summer time begins / ends that night
    assert only.astimezone(UTC) == datetime(day.year, day.month, day.day, 7 - offset, tzinfo=UTC)


def test_half_past_two_on_spring_forward_runs_once_at_half_past_three() -> None:
    d = _digest("30 2 * * *")
    (only,) = _on_day(schedule_slots(d, *_around(SPRING)), SPRING)
    # 02:30 does not exist that night: the job fires at the instant 02:30 standard time
    # would have been, which the wall clock shows as 03:30 summer time.
    assert only.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert _local(only).strftime("%H:%M %Z") == "03:30 CEST"
    assert period_key(d, only) == "2026-03-29T02:30+0100"


def test_half_past_two_on_fall_back_runs_once_at_the_first_occurrence() -> None:
    d = _digest("30 2 * * *")
    (only,) = _on_day(schedule_slots(d, *_around(AUTUMN)), AUTUMN)
    assert only.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    repeat = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET, an hour later
    assert is_repeated_wall_time(repeat, BERLIN)
    assert not is_repeated_wall_time(only, BERLIN)
    # After the first 02:30 the next run is the next day's, not the repeat.
    assert next_slot(d, only) == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)


def test_every_half_hour_keeps_its_slots_outside_the_repeated_hour() -> None:
    d = _digest("*/30 * * * *")
    start = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)  # 00:00 CEST
    slots = schedule_slots(d, start, start + timedelta(hours=6))
    walls = [_local(s).strftime("%H:%M") for s in slots]
    assert len(walls) == len(set(walls))  # no wall-clock time twice
    assert walls[:6] == ["00:30", "01:00", "01:30", "02:00", "02:30", "03:00"]


class _Recorder:
    """Fake pipeline stages: record each build and settle its period in the store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.built: list[tuple[str, datetime]] = []
        self.event = threading.Event()

    def stages(self) -> Stages:
        return Stages(fetch=self.fetch, build=self.build, retry=lambda *_: ())

    def fetch(self, *_args: object) -> IngestReport:
        return IngestReport()

    def build(
        self, _s: Settings, d: DigestSettings, store: Store, now: datetime, _i: IngestReport
    ) -> RunReport:
        # periods.period_key would do, but it loops inside the repeated hour (see below).
        key = slot_key(schedule_slots(d, now - timedelta(days=2), now)[-1])
        run = store.claim_run(d.name, key, now)
        report = RunReport(digest=d.name, period_key=key, delivery="complete")
        store.finish_run(run.id, report, now)
        self.built.append((key, now))
        self.event.set()
        return report


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[_Recorder]:
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    yield _Recorder(store)
    store.close()


def _service(tmp_path: Path, recorder: _Recorder, schedule: str) -> Service:
    settings = Settings(
        config_path=None,
        data_dir=tmp_path,
        storage_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        outbox_dir=tmp_path / "outbox",
        digests=(_digest(schedule),),
    )
    return Service(settings, recorder.store, stages=recorder.stages())


def _next_run(service: Service, job_id: str) -> datetime | None:
    """Return the job's next run as the health endpoint reports it."""
    at = json.loads(service.state.health()[1])["next_runs"].get(job_id)
    return None if at is None else datetime.fromisoformat(at)


def _wait_for_job_run(service: Service, job_id: str, after: datetime) -> None:
    """Wait (real time, bounded) until the scheduler moved the job's next run past after."""
    for _ in range(200):
        at = _next_run(service, job_id)
        if at is not None and at > after and service._idle.is_set():
            return
        threading.Event().wait(0.05)
    raise AssertionError(f"{job_id} did not run")


def test_scheduler_runs_the_02_30_digest_once_across_fall_back(
    tmp_path: Path, recorder: _Recorder
) -> None:
    first = datetime(2026, 10, 25, 0, 29, 59, tzinfo=UTC)  # 02:29:59 CEST
    with time_machine.travel(first, tick=True) as clock:
        service = _service(tmp_path, recorder, "30 2 * * *")
        service.start()
        try:
            assert recorder.event.wait(5), "the 02:30 CEST run did not fire"
            _wait_for_job_run(service, DIGEST_PREFIX + "d", first + timedelta(minutes=1))
            # One hour later the wall clock shows 02:29:59 again (CET): the cron trigger
            # fires a second time, and the job leaves the repeat alone.
            clock.move_to(datetime(2026, 10, 25, 1, 29, 59, tzinfo=UTC))
            service.wakeup()
            repeat = datetime(2026, 10, 25, 1, 31, tzinfo=UTC)
            _wait_for_job_run(service, DIGEST_PREFIX + "d", repeat)
        finally:
            assert service.stop(5)
    assert [key for key, _ in recorder.built] == ["2026-10-25T02:30+0200"]


def test_scheduler_runs_the_07_00_digest_once_on_spring_forward(
    tmp_path: Path, recorder: _Recorder
) -> None:
    before = datetime(2026, 3, 29, 4, 59, 59, tzinfo=UTC)  # 06:59:59 CEST
    with time_machine.travel(before, tick=True):
        service = _service(tmp_path, recorder, "0 7 * * *")
        service.start()
        try:
            assert recorder.event.wait(5), "the 07:00 CEST run did not fire"
            _wait_for_job_run(service, DIGEST_PREFIX + "d", before + timedelta(minutes=1))
            assert _next_run(service, DIGEST_PREFIX + "d") == datetime(
                2026, 3, 30, 5, 0, tzinfo=UTC
            )
        finally:
            assert service.stop(5)
    assert [key for key, _ in recorder.built] == ["2026-03-29T07:00+0200"]


_PERIOD_KEY_IN_REPEATED_HOUR = """
from datetime import UTC, datetime
from digest.config.settings import DigestSettings
from digest.models import FeedSource
from digest.config.periods import period_key
d = DigestSettings(name="d", title="D", feeds=(FeedSource(url="x"),), schedule="30 2 * * *",
                   timezone="Europe/Berlin")
print(period_key(d, datetime(2026, 10, 25, 0, 45, tzinfo=UTC)))
"""


def test_period_key_returns_inside_the_repeated_hour() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PERIOD_KEY_IN_REPEATED_HOUR],
        capture_output=True,
        text=True,
        timeout=10,  # stepping in local time dropped `fold` and looped forever here
        check=False,
    )
    assert done.stdout.strip() == "2026-10-25T02:30+0200"
