"""The delivery step of a run: send a period, judge what became of it, tell the operator.

`send_period` claims a period's run row and hands it to `deliver_period`, which gives the
rendered period to the ledger (`deliver_digest`) and decides the
period's delivery outcome and this run's failures; `retry_deliveries` sends what earlier
periods left due; `report_failures` mails a run's failures to `report_to`; `not_sent` names
the recipients left out; `record_unrendered` keeps a period that could not be rendered.
Whatever the mail setup raises becomes a Failure here, so a broken SMTP server never stops a
run: the ledger keeps each message until it goes out.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from digest.config import DigestSettings, Settings
from digest.deliver.report import send_report
from digest.deliver.send import (
    Dispatch,
    RenderFor,
    active_recipients,
    address_key,
    deliver_digest,
    retry_pending,
)
from digest.deliver.smtp import Connect
from digest.errors import DigestError, StoreError
from digest.models import (
    Clock,
    Delivery,
    DeliveryOutcome,
    Failure,
    PastEvent,
    RunReport,
    wall_clock,
)
from digest.report import StageTimer
from digest.store import Bounces, Store

NO_MAIL_EMPTY = "no mail: no new stories in this period (send_empty = false)"


@dataclass(frozen=True)
class MailIO:
    """How a run's mail goes out, injected: the SMTP connection, the wall clock, the workers."""

    connect: Connect | None = None
    clock: Clock = wall_clock  # the wall clock (mail Date, ledger times), not the period's
    dispatch: Dispatch | None = None  # hands due rows to `digest worker` jobs; None sends here


def send_period(
    settings: Settings,
    d: DigestSettings,
    store: Store,
    report: RunReport,
    render_for: RenderFor,
    now: datetime,
    shown: Sequence[PastEvent],
    io: MailIO,
    timer: StageTimer,
) -> RunReport:
    """Return the report once the period is claimed, its events kept, its mail delivered.

    The events shown are remembered for later digests (a developing story); a period with
    none and send_empty = false is done without mail.
    """
    claimed = store.claim_run(d.name, report.period_key, now)
    store.record_events(claimed.id, d.name, now, shown)
    if report.counts.events == 0 and not d.send_empty:
        skipped = replace(report, delivery="empty", notes=(NO_MAIL_EMPTY,))
        store.finish_run(claimed.id, skipped, now)
        return skipped
    with timer.stage("deliver"):
        deliveries, outcome, failed = deliver_period(
            settings, d, store, claimed.id, render_for, now, io
        )
    final = replace(
        report,
        failures=(*report.failures, *failed),
        timings=tuple(timer.timings),
        deliveries=deliveries,
        delivery=outcome,
        notes=not_sent(store, d),
    )
    store.finish_run(claimed.id, final, now)
    return final


def deliver_period(
    settings: Settings,
    d: DigestSettings,
    store: Store,
    run_id: int,
    render_for: RenderFor,
    now: datetime,
    io: MailIO,
) -> tuple[tuple[Delivery, ...], DeliveryOutcome, list[Failure]]:
    """Return each recipient's delivery, the digest's delivery outcome and this run's failures."""
    try:
        deliveries = deliver_digest(
            store,
            settings,
            d,
            run_id,
            render_for,
            now,
            connect=io.connect,
            clock=io.clock,
            dispatch=io.dispatch,
        )
    except StoreError:
        raise
    except Exception as exc:  # a broken mail setup is reported, never a crash mid-run
        return (), "broken", [Failure.unexpected("deliver", d.name, exc)]
    outcome: DeliveryOutcome = "complete" if all(x.done for x in deliveries) else "incomplete"
    return deliveries, outcome, _with_suspensions(store, delivery_failures(settings, deliveries))


def _with_suspensions(store: Store, failures: list[Failure]) -> list[Failure]:
    """Return the failures, each recipient that this run's failure suspended saying so.

    Recipients were not suspended when this delivery began (they would have been left out):
    one suspended now was suspended by this run's failure.
    """
    suspended = {b.address: b for b in store.suspensions()}
    out = []
    for f in failures:
        held = suspended.get(f.subject.strip().casefold())
        if held is not None:
            f = replace(
                f,
                message=f"{f.message}; suspended after {held.failures} permanent failures in a "
                f"row: `digest subscribers resume {held.address}` sends to it again",
            )
        out.append(f)
    return out


def delivery_failures(settings: Settings, deliveries: Sequence[Delivery]) -> list[Failure]:
    """Return the failures of this run among a period's deliveries.

    A message an earlier run of the period settled, or left waiting for a retry that is not
    due yet, is no failure of this run: it was not tried (its report line says "already").
    """
    tried = [x for x in deliveries if x.earlier_at is None]
    failures = [
        Failure("deliver", x.recipient, x.error or x.status) for x in tried if x.status == "failed"
    ]
    waiting = [x for x in tried if x.status in ("retry", "pending")]
    if waiting and not any(x.done for x in deliveries) and len(waiting) == len(tried):
        failures.append(_all_waiting(settings, waiting))
    return failures


def _all_waiting(settings: Settings, waiting: Sequence[Delivery]) -> Failure:
    """Return the Failure saying that every message tried waits in retry and none went out."""
    # Typically a setup problem (TLS, port, login) that retrying will not fix: the run must
    # not report success. The period is built (its delivery outcome is "incomplete", not
    # "broken"), so the ledger retries the messages and the period is not built again.
    where = f"{settings.smtp.host}:{settings.smtp.port}" if settings.smtp else "outbox"
    return Failure(
        "deliver",
        where,
        f"all {len(waiting)} messages wait in retry, none delivered: {waiting[0].error} "
        "(check the settings with `digest doctor`)",
    )


def retry_deliveries(
    settings: Settings,
    store: Store,
    now: datetime,
    connect: Connect | None,
    skip: Collection[tuple[str, str]] = (),
) -> tuple[tuple[Delivery, ...], tuple[Failure, ...]]:
    """Return the outcomes of sending every due pending/retry delivery of earlier runs.

    now is the wall clock. Periods in skip, as (digest, period key), are left to the run
    that builds them now.
    """
    try:
        done = retry_pending(store, settings, now, connect=connect, skip=skip)
    except StoreError:
        raise
    except Exception as exc:  # a broken mail setup must not stop today's digest
        return (), (Failure.unexpected("deliver", "retries", exc),)
    failed = tuple(
        Failure("deliver", x.recipient, x.error or x.status) for x in done if x.status == "failed"
    )
    return done, failed


def report_failures(
    settings: Settings, d: DigestSettings, report: RunReport, now: datetime, connect: Connect | None
) -> RunReport:
    """Mail the run's failures, named, to d.report_to; return the report (plus a failure)."""
    if not d.report_to or not report.failures:
        return report
    lines = [str(f) for f in report.failures]
    try:
        where = send_report(settings, d, report.period_key, lines, now, connect=connect)
    except (DigestError, OSError) as exc:
        failure = Failure("report", d.report_to, str(exc))
        return replace(report, failures=(*report.failures, failure))
    return replace(report, notes=(*report.notes, f"failures reported to {where}"))


def record_unrendered(store: Store, report: RunReport, now: datetime) -> RunReport:
    """Record a period that could not be rendered (a full disk) as a failed run; return it.

    It was left without a run row, so `digest status` showed nothing. A period finished
    before keeps its row; a new one is failed with the error and stays unsettled, so the
    next run (or the service's next start) builds it again.
    """
    run = store.claim_run(report.digest, report.period_key, now)
    if run.finished_at is None:
        store.finish_run(run.id, report, now)
    return report


def not_sent(store: Store, d: DigestSettings) -> tuple[str, ...]:
    """Return a note per recipient left out: unsubscribed, or suspended after bounces."""
    kept = {address_key(r.address) for r in active_recipients(store, d)}
    suspended = {b.address: b for b in store.suspensions()}
    notes = []
    for r in d.recipients:
        if address_key(r.address) in kept:
            continue
        held = suspended.get(r.address.strip().casefold())
        notes.append(f"not sent to {r.address}: " + (_suspended(held) if held else "unsubscribed"))
    return tuple(dict.fromkeys(notes))


def _suspended(b: Bounces) -> str:
    """Return why an address gets no mail: suspended after its permanent failures."""
    since = f"{b.suspended_at:%Y-%m-%d %H:%M} UTC" if b.suspended_at else "?"
    return (
        f"suspended since {since} after {b.failures} permanent failures in a row "
        f"(last: {b.last_error}); `digest subscribers resume {b.address}` sends to it again"
    )
