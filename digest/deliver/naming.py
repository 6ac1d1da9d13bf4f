"""The name of an issue, shared by its files and its PDF attachment: 'morning-2026-11-29'."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from digest.config import DigestSettings, several_a_day

PERIOD_KEY_FORMAT = "%Y-%m-%dT%H:%M%z"  # as digest.config.slot_key writes it


def period_time(key: str) -> datetime:
    """Return the scheduled time a period key names (aware), e.g. of '2026-11-29T07:00+0100'."""
    return datetime.strptime(key, PERIOD_KEY_FORMAT)


def issue_stem(d: DigestSettings, key: str) -> str:
    """Return the file stem of a period's issue: name and local date, plus time if needed.

    The date is the period's own (a run at 04:44 before a 07:00 schedule builds yesterday's
    period, so it is yesterday's date); a digest sent more than once a day adds the time.
    """
    try:
        local = period_time(key).astimezone(ZoneInfo(d.timezone))
    except ValueError:  # not a scheduled period's key (a hand-made run row): use it as is
        return f"{d.name}-{key}"
    when = f"{local:%Y-%m-%d-%H%M}" if several_a_day(d, local) else f"{local:%Y-%m-%d}"
    return f"{d.name}-{when}"
