"""What `digest run`, `build` and `fetch` print, and the one exit-code rule they share.

stdout gets the summary (nothing with --quiet); stderr gets this run's problems, one named
line each, with or without --quiet, so a cron job mails its owner only when something went
wrong. Summaries that fell back from the language model to the extractive ones are one
warning line on stderr (`digest: DIGEST: llm: 4 of 12 events used the extractive summary:
timeout 3, guard 1`); the digest was still delivered, so the exit code stays 0. With --quiet
the line is printed only when a reason other than the fact guard is among them: the guard
refusing a reply is the guard at work, an endpoint that times out needs its owner. Exit codes: 0 nothing failed in this run, 1 something failed in this run (named on
stderr), 2 usage or configuration. Feeds waiting out a backoff after earlier errors are no
failure of this run: the summary names them apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from digest.cli.common import EXIT_FAILED, EXIT_OK, console, err_console
from digest.models import Delivery, FeedHealth, IngestReport, RunReport


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
    waiting = report.waiting_feeds
    console.print(
        f"fetched {plural(len(report.health), 'feed')} ({len(report.failed_feeds)} failed, "
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
            meaning = "" if step.meaning is None else f" (meaning {step.meaning:.2f})"
            line = f"    merged at {step.similarity:.3f}{meaning}: {step.left} + {step.right}"
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


_LLM_KEPT = ("llm_generated", "llm_retried_then_kept", "llm_cached")
_LLM_FALLBACK = "llm_fallback_"


def llm_fallbacks(counts: Mapping[str, int]) -> dict[str, int]:
    """Return why events fell back to the extractive summary: {reason: events}, most first."""
    reasons = {
        k.removeprefix(_LLM_FALLBACK): n
        for k, n in counts.items()
        if k.startswith(_LLM_FALLBACK) and n
    }
    return dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))


def llm_events(counts: Mapping[str, int]) -> int:
    """Return how many events the language model was asked about (or answered from cache)."""
    return sum(counts.get(k, 0) for k in _LLM_KEPT) + sum(llm_fallbacks(counts).values())


def llm_fallback_line(counts: Mapping[str, int]) -> str | None:
    """Return 'llm: 4 of 12 events used the extractive summary: timeout 3, guard 1', or None."""
    reasons = llm_fallbacks(counts)
    if not reasons:
        return None
    why = ", ".join(f"{reason} {n}" for reason, n in reasons.items())
    total = llm_events(counts)
    return f"llm: {sum(reasons.values())} of {total} events used the extractive summary: {why}"


def print_llm_fallbacks(reports: Sequence[RunReport], quiet: bool) -> None:
    """Print one warning line per digest whose summaries fell back (see the module's doc)."""
    for r in reports:
        counts = dict(r.counts.summarizer)
        line = llm_fallback_line(counts)
        if line is None or (quiet and set(llm_fallbacks(counts)) <= {"guard"}):
            continue
        err_console.print(f"digest: {r.digest}: {line}", markup=False)
