"""When a digest is due: its fire times across daylight saving, settled periods, catch-up.

Fire times come from the digest's cron trigger in its own zone (periods.trigger_for). A
wall-clock time skipped by spring-forward (02:30 in Europe/Berlin) fires once, an hour later
on the wall clock: 03:30 local, the UTC instant of 02:30 standard time. A wall-clock time
repeated by fall-back fires once, at its first occurrence; the repeat is left out, so a 02:30
digest is not built twice that night. Fixed times like 07:00 are never touched by either.

Which periods are due is read from the durable runs table. A period is *settled* once its
run finished: recipients whose delivery failed then belong to the delivery ledger (retried
by the service's retry job), so a finished period is never built again. A run left
'started' (the process died) or whose delivery step failed as a whole is not settled and is
built again, and so is one whose render failed as a whole (nothing was written or sent); the
ledger still keeps each recipient to one message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from digest.config import CatchUp, DigestSettings, fire_after, schedule_slots, slot_key, trigger_for
from digest.models import RunRecord

# With catch_up = "none" a job may still start this late (a long fetch pass ahead of it on
# the single worker): late is not missed. Other policies use their catch_up_grace instead.
LATE_GRACE = timedelta(minutes=15)


def in_period(d: DigestSettings, slot: datetime, now: datetime) -> bool:
    """Return True when now still falls in the period that begins at slot."""
    following = fire_after(trigger_for(d), slot)
    return slot.astimezone(UTC) <= now.astimezone(UTC) and (
        following is None or now.astimezone(UTC) < following.astimezone(UTC)
    )


def next_slot(d: DigestSettings, now: datetime) -> datetime | None:
    """Return the digest's next fire time after now (fall-back repeats left out)."""
    for span in (timedelta(days=2), timedelta(days=400)):
        slots = schedule_slots(d, now, now + span)
        if slots:
            return slots[0]
    return None


def is_settled(record: RunRecord | None) -> bool:
    """Return True when a period's run finished, so it must not be built again.

    A run whose delivery step failed as a whole ("broken", possibly before any recipient
    reached the ledger) or whose outputs could not be written is not settled.
    """
    if record is None or record.report is None:
        return False
    if record.report.delivery == "broken":
        return False
    # A render failure naming the digest itself means nothing was written or sent (a full
    # disk): build again. A recipient's own failure is the ledger's to retry.
    return not any(
        f.stage == "render" and f.subject == record.digest for f in record.report.failures
    )


def due_slots(
    d: DigestSettings,
    now: datetime,
    settled: Callable[[str], bool],
    policy: CatchUp,
    grace: timedelta,
) -> tuple[datetime, ...]:
    """Return the slots to build now under a catch-up policy, oldest first."""
    if policy == "none":
        return ()
    slots = schedule_slots(d, now - grace, now)
    if policy == "latest":
        slots = slots[-1:]  # an older missed period is moot once a newer one is due or done
    return tuple(s for s in slots if not settled(slot_key(s)))


def job_grace(d: DigestSettings) -> timedelta:
    """Return how late a digest's cron job may start and still run (its misfire grace)."""
    return LATE_GRACE if d.catch_up == "none" else max(d.catch_up_grace, LATE_GRACE)
