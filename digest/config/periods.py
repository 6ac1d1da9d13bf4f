"""Digest periods: which scheduled slot a moment belongs to, named by a stable key.

A period is identified by the latest scheduled fire time at or before a moment, in the
digest's own time zone. `digest run` by hand, system cron and `digest serve` all name the
same period the same way, so the delivery ledger keeps each period to one send per recipient.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from digest.config.cron import cron_trigger
from digest.config.settings import DigestSettings

# Look back over growing spans so a minutely schedule costs a few steps and a yearly one
# still resolves.
_LOOKBACK = (timedelta(hours=2), timedelta(days=2), timedelta(days=35), timedelta(days=400))


def trigger_for(settings: DigestSettings) -> CronTrigger:
    """Return the cron trigger of a digest, always in its own time zone."""
    return cron_trigger(settings.schedule, settings.timezone)


def is_repeated_wall_time(moment: datetime, zone: ZoneInfo) -> bool:
    """Return True for the second occurrence of a wall-clock time repeated by a fall-back."""
    # Through UTC: astimezone() to the very same zone object would keep fold as it was.
    local = moment.astimezone(UTC).astimezone(zone)
    return local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()


def slot_key(slot: datetime) -> str:
    """Return the period key of a fire time, as periods.period_key names it."""
    return slot.strftime("%Y-%m-%dT%H:%M%z")


def fire_after(trigger: CronTrigger, fire: datetime) -> datetime | None:
    # In UTC on purpose: wall-clock arithmetic drops `fold`, and comparing two datetimes of
    # the same zone ignores it, so inside the hour a fall-back repeats, stepping and
    # comparing locally goes back an hour, forever.
    later = fire.astimezone(UTC) + timedelta(seconds=1)
    found: datetime | None = trigger.get_next_fire_time(fire, later)
    return found


def schedule_slots(d: DigestSettings, start: datetime, end: datetime) -> tuple[datetime, ...]:
    """Return the digest's fire times in (start, end], oldest first, fall-back repeats left out."""
    trigger, zone = trigger_for(d), ZoneInfo(d.timezone)
    end_utc = end.astimezone(UTC)
    found: list[datetime] = []
    fire: datetime | None = trigger.get_next_fire_time(
        None, start.astimezone(UTC) + timedelta(seconds=1)
    )
    while fire is not None and fire.astimezone(UTC) <= end_utc:
        if not is_repeated_wall_time(fire, zone):
            found.append(fire)
        fire = fire_after(trigger, fire)
    return tuple(found)


def several_a_day(d: DigestSettings, when: datetime) -> bool:
    """Return True when the digest is scheduled more than once on when's day (in its zone):
    its issues of that day are then told apart by their time (file names, subject)."""
    local = when.astimezone(ZoneInfo(d.timezone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    # Slots in (midnight - 1 s, next midnight - 1 s]: the day's own, next midnight not.
    day = schedule_slots(
        d, midnight - timedelta(seconds=1), midnight + timedelta(days=1, seconds=-1)
    )
    return len(day) > 1


def scheduled_slot(settings: DigestSettings, now: datetime) -> datetime | None:
    """Return the latest scheduled fire time at or before now (aware, digest zone), if any."""
    for span in _LOOKBACK:
        slots = schedule_slots(settings, now - span, now)
        if slots:
            return slots[-1]
    return None


def period_key(settings: DigestSettings, now: datetime) -> str:
    """Return the key of the period now falls in, e.g. '2026-11-25T07:00+0100'."""
    slot = scheduled_slot(settings, now) or now.astimezone(ZoneInfo(settings.timezone))
    return slot_key(slot)
