"""Turn a fetch result into the feed's next FeedState: validators, errors, backoff, disabling."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from digest.config import FetchSettings
from digest.models import FeedSource, FeedState, FetchResult

BACKOFF_BASE = timedelta(minutes=15)
BACKOFF_CAP = timedelta(hours=24)
RETRY_AFTER_CAP = 7 * 86400.0


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Return a Retry-After header's delay in seconds (number or HTTP date), None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), RETRY_AFTER_CAP)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    reference = now or datetime.now(when.tzinfo)
    return min(max((when - reference).total_seconds(), 0.0), RETRY_AFTER_CAP)


def settings_key(settings: FetchSettings, source: FeedSource) -> str:
    """Return a short hash of what fetching a feed depends on: [fetch] and its own entry."""
    return hashlib.sha256(repr((settings, source)).encode("utf-8")).hexdigest()[:16]


def is_due(state: FeedState, now: datetime, key: str) -> bool:
    """Return True when a feed is enabled and its backoff has passed, or its settings (key)
    changed since it failed: the change may be the fix (allow_private, a timeout, its URL)."""
    if state.disabled:
        return False
    if state.next_check_at is None or state.next_check_at <= now:
        return True
    return state.error_count > 0 and state.settings_key != key


def next_feed_state(
    state: FeedState, result: FetchResult, now: datetime, settings: FetchSettings, key: str = ""
) -> FeedState:
    """Return the feed's state after this fetch: validators, error count, backoff, disabling,
    and the key of the settings it was fetched with (see settings_key)."""
    state = replace(state, settings_key=key)
    if result.ok:
        return replace(
            state,
            etag=result.etag or (state.etag if result.not_modified else None),
            last_modified=result.last_modified
            or (state.last_modified if result.not_modified else None),
            error_count=0,
            last_error=None,
            last_success_at=now,
            next_check_at=None,
        )
    errors = state.error_count + 1
    backoff = min(BACKOFF_BASE * 2 ** min(errors - 1, 16), BACKOFF_CAP)
    if result.retry_after is not None:
        backoff = max(backoff, timedelta(seconds=result.retry_after))
    gone = result.status == 410
    return replace(
        state,
        error_count=errors,
        last_error=result.error or f"HTTP {result.status}",
        next_check_at=now + backoff,
        disabled=state.disabled or gone or errors >= settings.max_errors,
    )
