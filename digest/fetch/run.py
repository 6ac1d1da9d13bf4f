"""The fetch step of a run: one pass over a run's feeds, whatever fails becoming a Failure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import httpx

from digest.config import Settings
from digest.errors import DigestError, StoreError
from digest.fetch.ingest import fetch_and_store
from digest.models import Failure, FeedSource, IngestReport, Progress
from digest.store import Store


def fetch_pass(
    settings: Settings,
    store: Store,
    sources: Sequence[FeedSource],
    now: datetime,
    *,
    client: httpx.AsyncClient | None,
    progress: Progress,
    force: bool = False,
) -> IngestReport:
    """Return the report of one fetch pass over the sources (nothing raised for a bad feed)."""
    progress(f"fetching {len(sources)} feeds")
    try:
        return fetch_and_store(
            settings, store, sources, now, client=client, on_progress=progress, force=force
        )
    except StoreError:
        raise  # the database, not a feed: nothing later in the run can work (exit 2)
    except DigestError as exc:
        return IngestReport(failures=(Failure("fetch", "feeds", str(exc)),))
