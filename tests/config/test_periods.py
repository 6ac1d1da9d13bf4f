from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from digest.config.periods import period_key, scheduled_slot
from digest.config.settings import DigestSettings
from digest.models import FeedSource

BERLIN = DigestSettings(
    name="m", title="M", feeds=(FeedSource("f"),), schedule="0 7 * * *", timezone="Europe/Berlin"
)


def test_period_is_latest_slot_in_digest_zone() -> None:
    assert period_key(BERLIN, datetime(2026, 11, 25, 6, 30, tzinfo=UTC)) == "2026-11-25T07:00+0100"
    assert period_key(BERLIN, datetime(2026, 11, 25, 5, 59, tzinfo=UTC)) == "2026-11-24T07:00+0100"


def test_summer_time_offset_is_part_of_the_key() -> None:
    assert period_key(BERLIN, datetime(2026, 7, 1, 12, 0, tzinfo=UTC)) == "2026-07-01T07:00+0200"


def test_weekday_and_yearly_schedules() -> None:
    weekdays = replace(BERLIN, schedule="0 7 * * 1-5")
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert period_key(weekdays, saturday) == "2026-11-27T07:00+0100"
    yearly = replace(BERLIN, schedule="0 7 1 1 *")
    slot = scheduled_slot(yearly, saturday)
    assert slot is not None and slot.date().isoformat() == "2026-01-01"


def test_crontab_weekday_numbers_start_on_sunday() -> None:
    from digest.config.cron import cron_trigger

    for expr, expected in [
        ("0 7 * * 0", "sun"),
        ("0 7 * * 7", "sun"),
        ("0 7 * * 1-5", "mon,tue,wed,thu,fri"),
        ("0 7 * * */2", "sun,tue,thu,sat"),
        ("0 7 * * mon-fri", "mon-fri"),
    ]:
        trigger = cron_trigger(expr, "UTC")
        assert str(trigger.fields[4]) == expected


def test_a_digest_at_midnight_is_once_a_day_not_twice() -> None:
    from digest.config.periods import several_a_day
    from digest.deliver.naming import issue_stem

    midnight = replace(BERLIN, schedule="0 0 * * *", timezone="UTC")
    day = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert not several_a_day(midnight, day)  # the next midnight is the next day's
    assert issue_stem(midnight, "2026-12-07T00:00+0000") == "m-2026-12-07"
    assert several_a_day(replace(midnight, schedule="0 0,12 * * *"), day)
