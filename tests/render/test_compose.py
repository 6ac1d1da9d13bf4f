from __future__ import annotations

from datetime import UTC, date, datetime

from digest.config.settings import DigestSettings
from digest.models import Article, DatedItem, Event, EventSummary, FeedSource
from digest.render.compose import compose_digest

NOW = datetime(2018, 10, 27, 7, 0, tzinfo=UTC)


def summary(key: str, tags: tuple[str, ...], dates: tuple[DatedItem, ...] = ()) -> EventSummary:
    art = Article(
        feed_url="f",
        source=f"S{key}",
        guid=key,
        url=f"https://x/{key}",
        title=key,
        published=NOW,
        text="t",
        language="en",
        tags=tags,
    )
    return EventSummary(
        event=Event(key=key, articles=(art,)), headline=key, sentences=(), dates=dates
    )


def test_sections_follow_rank_and_limits() -> None:
    settings = DigestSettings(name="m", title="M", feeds=(FeedSource("f"),), max_events=4)
    items = [
        summary("a", ("world",)),
        summary("b", ("tech",)),
        summary("c", ("world",)),
        summary("d", ()),
        summary("e", ("tech",)),
    ]
    d = compose_digest(settings, items, period_start=NOW, period_end=NOW, now=NOW)
    assert [(s.title, [e.headline for e in s.events]) for s in d.sections] == [
        ("world", ["a", "c"]),
        ("tech", ["b"]),
        ("", ["d"]),
    ]
    assert len(d.events) == 4 and d.source_count == 4


def test_coming_up_keeps_future_items_once_in_order() -> None:
    nov6 = DatedItem(date(2018, 11, 6), "6 November", "Elections will be held on 6 November.")
    nov11 = DatedItem(date(2018, 11, 11), "November 11", "Meeting in Paris.")
    past = DatedItem(date(2018, 7, 16), "July", "Helsinki.")
    today = DatedItem(date(2018, 10, 27), "today", "now")
    settings = DigestSettings(name="m", title="M", feeds=(FeedSource("f"),))
    d = compose_digest(
        settings,
        [summary("a", (), (nov11, past, nov6)), summary("b", (), (nov6, today))],
        period_start=NOW,
        period_end=NOW,
        now=NOW,
    )
    assert [i.label for i in d.coming_up] == ["6 November", "November 11"]
