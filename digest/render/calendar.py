"""A digest's "Coming up" as an iCalendar file (.ics), one VEVENT per dated item.

Items are all-day events on their date (a vague one, "mid-February", spans that part of its
month, marked tentative), or one-hour timed events in the digest's time zone
when the sentence names a clock time ("at 10:30", "at 3 pm", "в 15:00"); the zone goes in as
a VTIMEZONE so DST is the calendar's business, not ours. The UID is a hash of the digest,
the date and the sentence, so the same item in tomorrow's digest (or a re-run) updates the
calendar entry instead of adding a second one; DTSTAMP is the digest's build time, so a
re-run writes the same bytes.
"""

from __future__ import annotations

import calendar
import hashlib
import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar

from digest.models import DatedItem, Digest, EventSummary

PRODID = "-//digest//Coming up//EN"
UID_DOMAIN = "digest.invalid"  # a UID needs no resolvable domain, only global uniqueness
# A clock time after a preposition ("at 10:30", "from 9.00", "в 15:00", "к 18.30"): a bare
# "3.50" is more often a price or a score than a time.
_TIME_24 = re.compile(r"(?<!\w)(?:at|from|by|в|с|к|до)\s+([01]?\d|2[0-3])[:.]([0-5]\d)(?!\d)", re.I)
_TIME_12 = re.compile(
    r"(?<![\w:.])(1[0-2]|0?[1-9])(?:[:.]([0-5]\d))?\s*([ap])\.?\s?m\.?(?!\w)", re.I
)


def clock_time(sentence: str) -> time | None:
    """Return the time of day a sentence names ("at 10:30", "3 pm", "в 15:00"), if any."""
    # am/pm first: "at 7.30pm" also looks like a 24-hour "at 7.30".
    m = _TIME_12.search(sentence)
    if m:
        hour = int(m.group(1)) % 12 + (12 if m.group(3).lower() == "p" else 0)
        return time(hour, int(m.group(2) or 0))
    m = _TIME_24.search(sentence)
    if m:
        return time(int(m.group(1)), int(m.group(2)))
    return None


def item_uid(digest_name: str, item: DatedItem) -> str:
    """Return the stable UID of a "Coming up" item: same digest, date and sentence, same UID."""
    words = " ".join(re.findall(r"\w+", item.label.casefold()))
    key = f"{digest_name}|{item.when.isoformat()}|{words}"
    return f"{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}@{UID_DOMAIN}"


def _headline_of(digest: Digest) -> dict[tuple[date, str], EventSummary]:
    """Return the event each (date, sentence) of the digest's dated items came from."""
    found: dict[tuple[date, str], EventSummary] = {}
    for summary in digest.events:
        for item in summary.dates:
            found.setdefault((item.when, item.label), summary)
    return found


# The days of a month a vague date covers: "early" 1-10, "mid" 11-20, "late" 21 to the end.
_PART_SPANS = {"early": (1, 10), "mid": (11, 20), "late": (21, 31), "month": (1, 31)}


def part_days(item: DatedItem) -> tuple[date, date]:
    """Return the first and last day an item's date may be: one day, or a part of a month."""
    if not item.part:
        return item.when, item.when
    first, last = _PART_SPANS[item.part]
    month_end = calendar.monthrange(item.when.year, item.when.month)[1]
    return item.when.replace(day=first), item.when.replace(day=min(last, month_end))


def _vevent(digest: Digest, item: DatedItem, summary: EventSummary | None) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", item_uid(digest.name, item))
    event.add("dtstamp", digest.generated_at)
    at = clock_time(item.label) if not item.part else None
    if at is None:
        first, last = part_days(item)
        event.add("dtstart", first)
        event.add("dtend", last + timedelta(days=1))
        event.add("transp", "TRANSPARENT")  # a day-long reminder should not block the day
    else:
        start = datetime.combine(item.when, at, tzinfo=ZoneInfo(digest.timezone))
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(hours=1))
    headline = summary.headline if summary else item.label
    event.add("summary", " ".join(headline.split()))
    lines = [item.label]
    if item.source:
        lines.append(f"— {item.source}")
    if item.url.startswith(("http://", "https://")):
        event.add("url", item.url)
        lines.append(item.url)
    event.add("description", "\n".join(lines))
    if item.approximate:
        event.add("status", "TENTATIVE")  # "mid-December", "next year": the day is a guess
    return event


def render_calendar(digest: Digest, *, title: str = "Coming up") -> bytes:
    """Return the digest's "Coming up" items as an iCalendar file (UTF-8, CRLF lines).

    title is the localised "Coming up", shown after the digest's title as the calendar name.
    """
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{digest.title}: {title}")
    cal.add("x-wr-timezone", digest.timezone)
    headlines = _headline_of(digest)
    for item in digest.coming_up:
        cal.add_component(_vevent(digest, item, headlines.get((item.when, item.label))))
    cal.add_missing_timezones()
    data: bytes = cal.to_ical()
    return data


def merge_calendars(calendars: Sequence[bytes], *, title: str, since: date) -> bytes:
    """Return one calendar of the items of several (newest first), each UID once, from since on.

    This is the archive's subscribable calendar: an item named by several digests appears
    once, as the newest digest tells it, and items in the past drop out.
    """
    merged = icalendar.Calendar()
    for key, value in (("prodid", PRODID), ("version", "2.0"), ("calscale", "GREGORIAN")):
        merged.add(key, value)
    merged.add("x-wr-calname", title)
    seen: set[str] = set()
    for raw in calendars:
        try:
            cal = icalendar.Calendar.from_ical(raw)
        except ValueError:
            continue  # a damaged file costs its own items, not the others'
        for event in cal.walk("VEVENT"):
            uid, start = str(event.get("uid", "")), event.decoded("dtstart")
            day = start.date() if isinstance(start, datetime) else start
            if uid and uid not in seen and day >= since:
                seen.add(uid)
                merged.add_component(event)
    merged.add_missing_timezones()
    data: bytes = merged.to_ical()
    return data
