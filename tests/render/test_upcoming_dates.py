"""'Coming up' dates: the year shows when it is not the digest's or is months away."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from factories import make_digest

from digest.config.settings import DigestSettings
from digest.models import DatedItem
from digest.render.i18n import format_upcoming
from digest.render.outputs import render_digest

ISSUE = date(2018, 10, 27)


def test_year_shows_when_it_differs_or_is_far() -> None:
    # was "Sun 8 Sept" in the 27 Oct 2018 issue, for a date ten months ahead
    assert format_upcoming(date(2019, 9, 8), ISSUE, "en") == "Sun 8 Sept 2019"
    assert format_upcoming(date(2018, 11, 6), ISSUE, "en") == "Tue 6 Nov"
    assert format_upcoming(date(2019, 9, 8), date(2019, 1, 5), "en") == "Sun 8 Sept 2019"
    assert format_upcoming(date(2019, 1, 5), ISSUE, "ru") == "сб 5 янв. 2019"


def test_email_shows_the_year_of_a_far_date() -> None:
    digest = make_digest("en", 2)
    generated = datetime(2018, 10, 27, 7, 0, tzinfo=ZoneInfo("UTC"))
    item = DatedItem(date(2019, 9, 8), "The final will be held in Bolton.", "8 September")
    digest = replace(digest, generated_at=generated, coming_up=(item,))
    settings = DigestSettings(
        name=digest.name, title=digest.title, feeds=(), language="en", timezone=digest.timezone
    )
    rendered = render_digest(digest, settings, formats=())
    assert "Sun 8 Sept 2019" in rendered.text
    assert "Sun 8 Sept 2019" in rendered.html
