"""The "Coming up" calendar: parses, right dates across DST, stable UIDs across builds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import icalendar
import pytest
from factories import make_digest

from digest.config.settings import DigestSettings
from digest.models import DatedItem, Digest
from digest.render.calendar import clock_time, render_calendar
from digest.render.outputs import render_digest

BERLIN_DST_START = date(2026, 3, 29)  # clocks go from 02:00 CET to 03:00 CEST


def berlin_digest(generated: datetime, items: tuple[DatedItem, ...]) -> Digest:
    base = make_digest("en")
    return replace(
        base,
        timezone="Europe/Berlin",
        generated_at=generated,
        period_end=generated,
        coming_up=items,
    )


def vevents(data: bytes) -> list[icalendar.Event]:
    cal = icalendar.Calendar.from_ical(data)
    return list(cal.walk("VEVENT"))


ITEMS = (
    DatedItem(
        date(2026, 3, 28),
        "The council votes at 10:00 on Saturday.",
        "Saturday",
        "Wire",
        "https://w.example/1",
    ),
    DatedItem(
        date(2026, 3, 29),
        "The summit opens at 10:00 on Sunday.",
        "Sunday",
        "Wire",
        "https://w.example/2",
    ),
    DatedItem(
        date(2026, 3, 30), "Strike planned for Monday.", "Monday", "Post", "https://p.example/3"
    ),
)


def test_timed_items_keep_local_time_across_the_dst_change_and_others_are_all_day() -> None:
    data = render_calendar(berlin_digest(datetime(2026, 3, 27, 6, tzinfo=UTC), ITEMS))
    events = vevents(data)
    assert len(events) == 3
    before, after, all_day = (e.decoded("dtstart") for e in events)
    # 10:00 local is 09:00 UTC in winter time and 08:00 UTC the day the clocks change.
    assert before.astimezone(UTC) == datetime(2026, 3, 28, 9, 0, tzinfo=UTC)
    assert after.astimezone(UTC) == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    assert str(events[1]["dtstart"].params["TZID"]) == "Europe/Berlin"
    assert events[1].decoded("dtend") - after == timedelta(hours=1)
    assert all_day == date(2026, 3, 30) and not isinstance(all_day, datetime)
    assert events[2].decoded("dtend") == date(2026, 3, 31)
    cal = icalendar.Calendar.from_ical(data)
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]


def test_summary_is_the_event_headline_with_the_source_link() -> None:
    digest = make_digest("en")
    events = vevents(render_calendar(digest))
    assert len(events) == len(digest.coming_up) > 0
    headlines = {e.headline for e in digest.events}
    for event, item in zip(events, digest.coming_up, strict=True):
        assert str(event["summary"]) in headlines
        assert str(event["url"]) == item.url
        assert item.url in str(event["description"]) and item.label in str(event["description"])
        assert event.decoded("dtstart") == item.when


def test_a_second_build_and_the_next_days_digest_keep_the_uids() -> None:
    first = render_calendar(berlin_digest(datetime(2026, 3, 27, 6, tzinfo=UTC), ITEMS))
    again = render_calendar(berlin_digest(datetime(2026, 3, 27, 6, tzinfo=UTC), ITEMS))
    assert first == again  # a re-run of the period writes the same bytes
    next_day = render_calendar(berlin_digest(datetime(2026, 3, 28, 6, tzinfo=UTC), ITEMS[1:]))
    uids = [str(e["uid"]) for e in vevents(first)]
    assert len(set(uids)) == 3
    assert [str(e["uid"]) for e in vevents(next_day)] == uids[1:]


def test_render_digest_always_makes_the_calendar() -> None:
    digest = make_digest("ru")
    settings = DigestSettings(
        name=digest.name, title=digest.title, feeds=(), language="ru", timezone=digest.timezone
    )
    rendered = render_digest(digest, settings, formats=("html",))
    assert rendered.ics is not None and rendered.epub is None
    cal = icalendar.Calendar.from_ical(rendered.ics)
    assert "Что впереди" in str(cal["x-wr-calname"])
    assert len(list(cal.walk("VEVENT"))) == len(digest.coming_up)


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("The vote is at 10:30 on Monday.", time(10, 30)),
        ("Doors open at 7.30pm on Friday.", time(19, 30)),
        ("The launch is set for 11 a.m. on 3 May.", time(11, 0)),
        ("Заседание начнётся в 15:00 в среду.", time(15, 0)),
        ("Shares rose 3.50 percent on Tuesday.", None),
        ("The match ended 2:1 on Sunday.", None),
    ],
)
def test_clock_time_only_where_the_sentence_names_one(sentence: str, expected: time | None) -> None:
    assert clock_time(sentence) == expected
