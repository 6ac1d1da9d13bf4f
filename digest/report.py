"""The run report: what one digest run did, typed, and the JSON it is kept in.

A report travels twice as JSON: into the `runs` table (one row per digest period, rewritten
by each run of the period) and back from a `digest serve` that ran a handed-over request.
`RunReport.to_json` and `RunReport.from_json` are the only code that reads or writes that
JSON; callers use the fields. `from_json` also reads the untyped reports written before
version 0.2.0 (no "version" key), so `digest status` still shows an old database's runs.

The fetch pass's own report (`IngestReport`, with each feed's `FeedHealth`) is here too: a
run's counts start from it (`IngestReport.counts`), and so does its feeds' failures.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any, Literal, cast, get_args

DeliveryStatus = Literal["pending", "sent", "written", "failed", "retry"]
DONE_STATUSES: tuple[DeliveryStatus, ...] = ("sent", "written")

# What became of a digest's mail in a run, decided once by the pipeline:
# - not_sent:   nothing was to be sent (`digest build`, `--no-send`, nothing rendered);
# - empty:      no stories and send_empty = false: the period is done without mail;
# - complete:   every recipient's message is sent or written (by this run or earlier ones);
# - incomplete: some messages failed or wait in retry (each one is among the deliveries);
# - broken:     the delivery step failed as a whole (e.g. the mail setup raised), possibly
#               before any recipient reached the ledger: the period is built again.
DeliveryOutcome = Literal["not_sent", "empty", "complete", "incomplete", "broken"]
REPORT_VERSION = 2


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message to one recipient and what became of it."""

    recipient: str
    status: DeliveryStatus
    message_id: str = ""
    attempts: int = 0
    error: str | None = None
    path: str | None = None
    # Set when this outcome is an earlier run's (sent, written, failed, or a retry not due
    # yet): this run did not try the message, so its outcome is no news of this run.
    earlier_at: datetime | None = None
    next_attempt_at: datetime | None = None  # when a 'retry' is tried again

    @property
    def done(self) -> bool:
        """Return True when the message was sent or written (now or earlier)."""
        return self.status in DONE_STATUSES


@dataclass(frozen=True, slots=True)
class Failure:
    """Something that failed in a run without stopping it."""

    stage: str
    subject: str
    message: str
    # The stack of an error nobody anticipated (a bug, a library's surprise), kept for the
    # operator's bug report; empty for the failures digest expects (HTTP 404, SMTP 550).
    trace: str = field(default="", compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.stage}: {self.subject}: {self.message}"

    @classmethod
    def unexpected(cls, stage: str, subject: str, exc: BaseException, prefix: str = "") -> Failure:
        """Return the Failure for an unexpected error, logged with its traceback.

        Every broad catch that turns an error into a Failure goes through here, so a bug
        never loses its stack: it is logged (the service's log, or stderr for a command)
        and kept in the run report.
        """
        message = f"{prefix}{type(exc).__name__}: {exc}"
        logging.getLogger(f"digest.{stage}").error(
            "%s: %s: %s", stage, subject, message, exc_info=exc
        )
        return cls(stage, subject, message, trace="".join(traceback.format_exception(exc)))


@dataclass(frozen=True, slots=True)
class MergeStep:
    """One merge inside an event: an article of each side and their mean similarity then.

    `meaning` is the mean cosine of the two sides' meaning vectors (what they are about,
    whatever words they use), None where their language has no word vectors.
    """

    left: str
    right: str
    similarity: float
    meaning: float | None = None


@dataclass(frozen=True, slots=True)
class EventExplanation:
    """Why an event's articles are one story: the terms they share and each merge."""

    key: str
    headline: str
    articles: int
    terms: tuple[str, ...]
    merges: tuple[MergeStep, ...] = ()


@dataclass(frozen=True, slots=True)
class RunCounts:
    """How many of each thing a run saw, stage by stage."""

    feeds: int = 0  # feeds of this digest in the fetch pass
    feeds_failed: int = 0  # failed in this pass
    feeds_waiting: int = 0  # backing off (or disabled) after earlier errors: not tried
    entries: int = 0
    new_articles: int = 0
    articles: int = 0  # in the period, after the keyword rules
    filtered: int = 0  # removed by the keyword rules, in all
    events_found: int = 0
    events: int = 0  # shown in the digest (at most max_events)
    # Articles removed per keyword rule ("exclude horoscope"), and the summarizer's own
    # counts (a language model's "llm_generated", "llm_cached", ...).
    removed: tuple[tuple[str, int], ...] = ()
    summarizer: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """A feed's state as reported in a digest and by `digest feeds list`."""

    url: str
    name: str
    ok: bool
    error: str | None = None
    last_success_at: datetime | None = None
    error_count: int = 0
    next_check_at: datetime | None = None
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What one fetch pass did: per-feed health, counts and failures."""

    health: tuple[FeedHealth, ...] = ()
    entries: int = 0
    new_articles: int = 0
    duplicates: int = 0
    not_modified: int = 0
    failures: tuple[Failure, ...] = ()

    @property
    def failed_feeds(self) -> tuple[FeedHealth, ...]:
        """Return the feeds whose fetch failed in this pass."""
        failed = {f.subject for f in self.failures}
        return tuple(h for h in self.health if not h.ok and h.url in failed)

    @property
    def waiting_feeds(self) -> tuple[FeedHealth, ...]:
        """Return the unhealthy feeds this pass did not try: backing off after earlier errors.

        They failed in an earlier pass (and were reported then), so they are no failure of
        this one; they are named apart from the failures, and subscribers count them as
        unreachable.
        """
        failed = {f.subject for f in self.failures}
        return tuple(h for h in self.health if not h.ok and h.url not in failed)

    def only(self, feed_urls: Collection[str]) -> IngestReport:
        """Return the part of a shared fetch report that concerns one digest's feeds."""
        return replace(
            self,
            health=tuple(h for h in self.health if h.url in feed_urls),
            failures=tuple(
                f for f in self.failures if f.subject in feed_urls or f.subject == "feeds"
            ),
        )

    def disabled(self) -> tuple[Failure, ...]:
        """Return a failure per feed that is disabled (and so was not tried).

        A feed backing off heals by itself and is no failure of a run that did not try it; a
        disabled one never does, while every issue tells its readers a source is missing. So
        each digest run names it until it is fixed and enabled (or removed).
        """
        return tuple(
            Failure(
                "fetch",
                h.url,
                f"disabled after {h.error_count} failed fetch{'es' if h.error_count != 1 else ''}"
                f" in a row (last: {h.error or '?'}); "
                f"`digest feeds enable {h.url}` fetches it again",
            )
            for h in self.waiting_feeds
            if h.disabled
        )

    def counts(self) -> RunCounts:
        """Return the fetch pass's part of a run's counts."""
        return RunCounts(
            feeds=len(self.health),
            feeds_failed=len(self.failed_feeds),
            feeds_waiting=len(self.waiting_feeds),
            entries=self.entries,
            new_articles=self.new_articles,
        )


class StageTimer:
    """Collects a run's (stage, seconds) pairs: the report's timings."""

    def __init__(self) -> None:
        self.timings: list[tuple[str, float]] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as the stage name (also when it raises)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings.append((name, round(time.perf_counter() - start, 3)))


_NAMED = tuple(f.name for f in fields(RunCounts) if f.name not in ("removed", "summarizer"))
_REMOVED_PREFIX = "removed by "  # how the untyped reports before 0.2.0 named rule counts


@dataclass(frozen=True, slots=True)
class RunReport:
    """What one run did: counts per stage, failures, timings, files and mail."""

    digest: str
    period_key: str
    counts: RunCounts = RunCounts()
    failures: tuple[Failure, ...] = ()
    timings: tuple[tuple[str, float], ...] = ()
    outputs: tuple[str, ...] = ()
    deliveries: tuple[Delivery, ...] = ()
    delivery: DeliveryOutcome = "not_sent"
    notes: tuple[str, ...] = ()  # what the operator should know that is no failure
    explanations: tuple[EventExplanation, ...] = ()  # `digest build --explain`

    @property
    def ok(self) -> bool:
        """Return True when nothing failed."""
        return not self.failures

    @property
    def delivered(self) -> int:
        """Return how many messages this run sent or wrote."""
        return sum(1 for x in self.deliveries if x.done and x.earlier_at is None)

    @property
    def already_delivered(self) -> int:
        """Return how many messages earlier runs of the period had sent or written."""
        return sum(1 for x in self.deliveries if x.done and x.earlier_at is not None)

    @property
    def delivery_failed(self) -> int:
        """Return how many messages are failed (in this run or an earlier one)."""
        return sum(1 for x in self.deliveries if x.status == "failed")

    @property
    def delivery_waiting(self) -> int:
        """Return how many messages wait to be sent (retry or pending)."""
        return sum(1 for x in self.deliveries if x.status in ("retry", "pending"))

    def count(self, name: str) -> int:
        """Return a count by name: a RunCounts field, a rule's, the summarizer's or a delivery
        count (delivered, already_delivered, delivery_failed, delivery_waiting); 0 if none."""
        if name in _NAMED:
            return int(getattr(self.counts, name))
        if name in ("delivered", "already_delivered", "delivery_failed", "delivery_waiting"):
            return int(getattr(self, name))
        other = dict(self.counts.summarizer)
        other.update((_REMOVED_PREFIX + rule, n) for rule, n in self.counts.removed)
        return other.get(name, 0)

    def to_json(self) -> str:
        """Return the report as the JSON kept in the runs table."""
        c = self.counts
        data: dict[str, Any] = {
            "version": REPORT_VERSION,
            "digest": self.digest,
            "period": self.period_key,
            "delivery": self.delivery,
            "counts": {name: getattr(c, name) for name in _NAMED},
            "removed": dict(c.removed),
            "summarizer": dict(c.summarizer),
            "failures": [_failure_json(f) for f in self.failures],
            "timings": dict(self.timings),
            "outputs": list(self.outputs),
            "deliveries": [_delivery_json(x) for x in self.deliveries],
            "notes": list(self.notes),
        }
        if self.explanations:
            data["explain"] = [_explanation_json(x) for x in self.explanations]
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> RunReport:
        """Return the report that to_json wrote (or an untyped one from before 0.2.0)."""
        data = json.loads(text or "{}")
        if not isinstance(data, dict):
            raise ValueError(f"a run report is a JSON object, not {type(data).__name__}")
        if data.get("version") is None:
            return _legacy(data)
        counts = data.get("counts", {})
        return cls(
            digest=str(data.get("digest", "")),
            period_key=str(data.get("period", "")),
            counts=RunCounts(
                **{k: int(v) for k, v in counts.items() if k in _NAMED},
                removed=_pairs(data.get("removed", {})),
                summarizer=_pairs(data.get("summarizer", {})),
            ),
            failures=tuple(_failure(x) for x in data.get("failures", [])),
            timings=tuple((str(k), float(v)) for k, v in data.get("timings", {}).items()),
            outputs=tuple(str(p) for p in data.get("outputs", [])),
            deliveries=tuple(_delivery(x) for x in data.get("deliveries", [])),
            delivery=_outcome(data.get("delivery")),
            notes=tuple(str(n) for n in data.get("notes", [])),
            explanations=tuple(_explanation(x) for x in data.get("explain", [])),
        )


def _failure_json(f: Failure) -> dict[str, str]:
    data = {"stage": f.stage, "subject": f.subject, "message": f.message}
    return {**data, "trace": f.trace} if f.trace else data


def _failure(x: dict[str, Any]) -> Failure:
    return Failure(str(x["stage"]), str(x["subject"]), str(x["message"]), str(x.get("trace", "")))


def _pairs(mapping: dict[str, Any]) -> tuple[tuple[str, int], ...]:
    return tuple((str(k), int(v)) for k, v in mapping.items())


def _outcome(value: Any) -> DeliveryOutcome:
    if value not in get_args(DeliveryOutcome):
        raise ValueError(f"run report: delivery: {value!r} is not a delivery outcome")
    return cast(DeliveryOutcome, value)


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _delivery_json(x: Delivery) -> dict[str, Any]:
    return {
        "recipient": x.recipient,
        "status": x.status,
        "message_id": x.message_id,
        "attempts": x.attempts,
        "error": x.error,
        "path": x.path,
        "earlier_at": x.earlier_at.isoformat() if x.earlier_at else None,
        "next_attempt_at": x.next_attempt_at.isoformat() if x.next_attempt_at else None,
    }


def _delivery(x: dict[str, Any]) -> Delivery:
    status = x["status"]
    if status not in get_args(DeliveryStatus):
        raise ValueError(f"run report: deliveries: {status!r} is not a delivery status")
    return Delivery(
        recipient=str(x["recipient"]),
        status=cast(DeliveryStatus, status),
        message_id=str(x.get("message_id") or ""),
        attempts=int(x.get("attempts") or 0),
        error=x.get("error"),
        path=x.get("path"),
        earlier_at=_time(x.get("earlier_at")),
        next_attempt_at=_time(x.get("next_attempt_at")),
    )


def _explanation_json(x: EventExplanation) -> dict[str, Any]:
    return {
        "key": x.key,
        "headline": x.headline,
        "articles": x.articles,
        "terms": list(x.terms),
        "merges": [
            {"left": m.left, "right": m.right, "similarity": m.similarity} for m in x.merges
        ],
    }


def _explanation(x: dict[str, Any]) -> EventExplanation:
    return EventExplanation(
        key=str(x["key"]),
        headline=str(x["headline"]),
        articles=int(x["articles"]),
        terms=tuple(str(t) for t in x.get("terms", [])),
        merges=tuple(
            MergeStep(
                str(m["left"]),
                str(m["right"]),
                float(m["similarity"]),
                None if m.get("meaning") is None else float(m["meaning"]),
            )
            for m in x.get("merges", [])
        ),
    )


def _legacy(data: dict[str, Any]) -> RunReport:
    """Return a report stored before 0.2.0: counts under free-form names, failures as text.

    Its strings are read here and nowhere else. A failure was written as "stage: subject:
    message"; "deliver: <digest>: ..." meant the delivery step failed as a whole.
    """
    digest = str(data.get("digest", ""))
    named: dict[str, int] = {}
    removed: list[tuple[str, int]] = []
    other: list[tuple[str, int]] = []
    delivery_counts = ("delivered", "already_delivered", "delivery_failed", "delivery_retry")
    for name, n in data.get("counts", {}).items():
        if name in _NAMED:
            named[name] = int(n)
        elif name.startswith(_REMOVED_PREFIX):
            removed.append((name.removeprefix(_REMOVED_PREFIX), int(n)))
        elif name not in delivery_counts:  # those are counted from the deliveries now
            other.append((name, int(n)))
    failures = []
    for line in data.get("failures", []):
        stage, subject, message = [*str(line).split(": ", 2), "", ""][:3]
        failures.append(Failure(stage, subject, message))
    deliveries = tuple(_delivery(x) for x in data.get("deliveries", []))
    outcome: DeliveryOutcome
    if any(f.stage == "deliver" and f.subject == digest for f in failures):
        outcome = "broken"
    elif data.get("skipped"):
        outcome = "empty"
    elif all(x.done for x in deliveries):
        outcome = "complete"  # a stored report came from a run that sent (or had no one to)
    else:
        outcome = "incomplete"
    report = RunReport(
        digest=digest,
        period_key=str(data.get("period", "")),
        counts=RunCounts(**named, removed=tuple(removed), summarizer=tuple(other)),
        failures=tuple(failures),
        timings=tuple((str(k), float(v)) for k, v in data.get("timings", {}).items()),
        outputs=tuple(str(p) for p in data.get("outputs", [])),
        deliveries=deliveries,
        delivery=outcome,
        notes=tuple(str(n) for n in data.get("notes", [])),
        explanations=tuple(_explanation(x) for x in data.get("explain", [])),
    )
    skipped = data.get("skipped")
    return replace(report, notes=(str(skipped), *report.notes)) if skipped else report
