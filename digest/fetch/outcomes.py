"""What one feed's ingest pass produced, and the IngestReport a pass adds up to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from digest.models import Failure, FeedHealth, FeedSource, FeedState, IngestReport


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    """What one feed's pass produced (internal to ingest, kept typed)."""

    source: FeedSource
    state: FeedState
    entries: int = 0
    new_articles: int = 0
    duplicates: int = 0
    not_modified: bool = False
    failure: Failure | None = None


def describe_outcome(o: FeedOutcome) -> str:
    """Return the one-line progress message for a feed's outcome."""
    if o.failure is not None:
        return str(o.failure)
    if o.not_modified:
        return f"{o.source.label}: not modified"
    return f"{o.source.label}: {o.entries} entries, {o.new_articles} new"


def report_outcomes(
    sources: Sequence[FeedSource], states: dict[str, FeedState], outcomes: dict[str, FeedOutcome]
) -> IngestReport:
    """Return the pass's IngestReport: every source's health (skipped ones from their state)."""
    health: list[FeedHealth] = []
    for s in sources:
        o = outcomes.get(s.url)
        state = o.state if o else states[s.url]
        health.append(
            FeedHealth(
                url=s.url,
                name=s.name or state.title or s.url,
                ok=o.failure is None if o else state.error_count == 0 and not state.disabled,
                error=o.failure.message if o and o.failure else state.last_error,
                last_success_at=state.last_success_at,
                error_count=state.error_count,
                next_check_at=state.next_check_at,
                disabled=state.disabled,
            )
        )
    done = list(outcomes.values())
    return IngestReport(
        health=tuple(health),
        entries=sum(o.entries for o in done),
        new_articles=sum(o.new_articles for o in done),
        duplicates=sum(o.duplicates for o in done),
        not_modified=sum(1 for o in done if o.not_modified),
        failures=tuple(o.failure for o in done if o.failure is not None),
    )


def report_states(sources: Sequence[FeedSource], states: dict[str, FeedState]) -> IngestReport:
    """Return an IngestReport of the sources' health from their stored states (no pass run).

    The scheduler reports this after `digest worker` jobs fetched the feeds.
    """
    return report_outcomes(sources, states, {})
