"""What `digest run`, `build` and `fetch` print, and the one exit-code rule they share.

stdout gets the summary (nothing with --quiet); stderr gets this run's problems, one named
line each, with or without --quiet, so a cron job mails its owner only when something went
wrong. Exit codes: 0 nothing failed in this run, 1 something failed in this run (named on
stderr), 2 usage or configuration. Feeds waiting out a backoff after earlier errors are no
failure of this run: the summary names them apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from digest.cli.common import EXIT_FAILED, EXIT_OK, console, err_console
from digest.models import Delivery, FeedHealth, IngestReport, RunReport
from digest.pipeline import failed_feeds, waiting_feeds


def exit_code(ingest: IngestReport | None, reports: Sequence[RunReport]) -> int:
    """Return 1 when anything failed in this run (fetch, build or delivery), else 0."""
    failed = bool(ingest and ingest.failures) or any(not r.ok for r in reports)
    return EXIT_FAILED if failed else EXIT_OK


def print_problems(ingest: IngestReport | None, reports: Sequence[RunReport]) -> None:
    """Print each of this run's failures once to stderr: 'digest: [DIGEST: ]stage: subject: …'."""
    seen = set(ingest.failures) if ingest else set()
    for failure in ingest.failures if ingest else ():
        err_console.print(f"digest: {failure}", markup=False)
    for r in reports:
        for failure in r.failures:
            if failure not in seen:  # a feed's failure is in each of its digests' reports
                seen.add(failure)
                where = f"{r.digest}: " if r.digest else ""
                err_console.print(f"digest: {where}{failure}", markup=False)


def print_ingest(report: IngestReport) -> None:
    """Print the fetch pass's summary line and the feeds waiting out a backoff."""
    waiting = waiting_feeds(report)
    console.print(
        f"fetched {plural(len(report.health), 'feed')} ({len(failed_feeds(report))} failed, "
        f"{len(waiting)} waiting after earlier errors, {report.not_modified} not modified): "
        f"{plural(report.entries, 'entry', 'entries')}, "
        f"{plural(report.new_articles, 'new article')}, {plural(report.duplicates, 'duplicate')}",
        markup=False,
    )
    for health in waiting:
        console.print(f"  waiting: {_waiting(health)}", markup=False)


def _waiting(h: FeedHealth) -> str:
    errors = plural(h.error_count, "error")
    if h.disabled:
        return f"{h.url}: disabled after {errors} (last: {h.error or '?'})"
    until = f"{h.next_check_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if h.next_check_at else "?"
    return f"{h.url}: next try {until} after {errors} (last: {h.error or '?'})"


def plural(n: int, word: str, many: str | None = None) -> str:
    """Return "1 event", "2 events" (or the given plural form)."""
    return f"{n} {word if n == 1 else many or word + 's'}"


def print_report(report: RunReport) -> None:
    """Print one digest's summary: counts, files, each recipient's outcome and notes."""
    if not report.digest:  # deliveries of earlier periods, retried
        for delivery in report.deliveries:
            console.print(f"retried: {delivery.recipient}: {delivery.status}", markup=False)
        return
    c = report.counts
    line = f"{report.digest} [{report.period_key}]: {plural(c.events, 'event')} from "
    line += plural(c.articles, "article")
    if c.feeds:
        line += f" ({plural(c.feeds, 'feed')}, {c.feeds_failed} failed, {c.feeds_waiting} waiting)"
    console.print(line, markup=False)
    for rule, n in c.removed:  # keyword rules (docs/configuration.md, "Keyword rules")
        console.print(f"  removed by {rule}: {plural(n, 'article')}", markup=False)
    for path in report.outputs:
        console.print(f"  wrote {path}", markup=False)
    for why in report.explanations:  # digest build --explain
        console.print(f"  event {why.key}: {why.articles} articles: {why.headline}", markup=False)
        console.print(f"    shared terms: {', '.join(why.terms) or '-'}", markup=False)
        for step in why.merges:
            line = f"    merged at {step.similarity:.3f}: {step.left} + {step.right}"
            console.print(line, markup=False)
    for text in _delivery_lines(report.deliveries):
        console.print(f"  {text}", markup=False)
    for note in report.notes:
        console.print(f"  {note}", markup=False)


def _delivery_lines(deliveries: Sequence[Delivery]) -> list[str]:
    """Return a line per message this run tried, and one per kind of earlier outcome."""
    lines = []
    for x in deliveries:
        if x.earlier_at is None:
            lines.append(f"{x.status}: {x.recipient}{_detail(x)}")
    earlier = [x for x in deliveries if x.earlier_at is not None]
    for status in ("sent", "written", "failed", "retry", "pending"):
        group = [x for x in earlier if x.status == status]
        if len(group) == 1:
            x = group[0]
            lines.append(f"{_already(x.status)} at {_utc(x.earlier_at)}: {x.recipient}{_detail(x)}")
        elif group:
            first, last = _utc(min(_times(group))), _utc(max(_times(group)))
            when = first if first == last else f"{first} to {last}"
            names = ", ".join(x.recipient for x in group[:3])
            more = f" and {len(group) - 3} more" if len(group) > 3 else ""
            lines.append(
                f"{_already(status)} at {when}: {len(group)} messages ({names}{more})"
                + ("; `digest deliveries -s failed` lists them" if status == "failed" else "")
            )
    return lines


def _times(group: Sequence[Delivery]) -> list[datetime]:
    return [x.earlier_at for x in group if x.earlier_at is not None]


def _already(status: str) -> str:
    if status in ("retry", "pending"):
        return "waiting in retry since an earlier try"
    return f"already {status}"


def _detail(x: Delivery) -> str:
    if x.path:
        return f" -> {x.path}"
    if x.status == "retry" and x.next_attempt_at is not None:
        return f": next try {_utc(x.next_attempt_at)}: {x.error or '?'}"
    return f": {x.error}" if x.error and x.status != "sent" else ""


def _utc(when: datetime | None) -> str:
    return f"{when.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if when else "?"
