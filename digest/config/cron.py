"""Crontab lines as APScheduler triggers, always in a named time zone.

Kept apart from periods.py so that settings can validate a schedule at load time without
importing the module that works on loaded settings (they imported each other before).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def cron_trigger(expression: str, timezone: str) -> CronTrigger:
    """Return the APScheduler trigger for a standard 5-field crontab line in a named zone.

    APScheduler 3 numbers weekdays from Monday = 0 and its from_crontab passes the field as
    is, so "1-5" would mean Tuesday to Saturday; crontab(5) numbers from Sunday = 0 (or 7).
    Numeric weekday fields are therefore rewritten as day names first. The zone is always
    explicit: a trigger built without one silently uses the host's.
    """
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields, got {len(fields)}")
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=_weekday_names(weekday),
        timezone=ZoneInfo(timezone),
    )


def _weekday_names(field: str) -> str:
    parts = []
    for token in field.split(","):
        body, _, step_text = token.partition("/")
        step = int(step_text) if step_text.isdigit() else 1
        if body == "*" and step_text:
            body = "0-6"
        if not any(ch.isdigit() for ch in body):
            parts.append(token)  # '*', names and name ranges mean the same to both
            continue
        first, _, last = body.partition("-")
        if not (first.isdigit() and (not last or last.isdigit())):
            raise ValueError(f"bad day-of-week {token!r}")
        start, end = int(first), int(last or (first if not step_text else 6))
        if not (0 <= start <= 7 and 0 <= end <= 7 and start <= end):
            raise ValueError(f"day-of-week {token!r} is outside 0-7")
        parts.extend(_DAY_NAMES[n] for n in range(start, end + 1, step))
    return ",".join(dict.fromkeys(parts))
