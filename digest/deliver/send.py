"""The delivery stage: one ledger row per recipient, then send (or write) the due rows.

Exactly once per (digest, period, recipient), across crashes:

1. For each recipient without a row, the message is rendered, built and stored in its row in
   one INSERT (a transactional outbox). Re-runs reuse the stored bytes and Message-ID.
2. Each due row is claimed (attempts+1 and a short lease, so two processes never send the
   same row), then sent over one reused SMTP connection. The row is marked 'sending' in a
   commit made after the whole body is transferred but *before* the final "." that makes
   the server accept it; after the 250 reply it becomes 'sent'.

A crash before 'sending' is committed leaves the row due again (the server discarded the
unfinished transaction), so the next run sends it. A connection that breaks before the dot
is written whole (at connect, EHLO, AUTH, MAIL, RCPT, DATA, mid-body, or on the dot's own
write) puts a 'sending' row back to 'retry': the server cannot have the message. Only a
reply lost after the dot was written is uncertain. A crash after the final dot but before
'sent' is committed is the one window SMTP cannot close: the message may have been
accepted. We choose at-most-once there (the ledger's promise: "sent at most once, even across
crashes", docs/reliability.md): the row stays 'sending', is reported as failed with "outcome unknown", and is
not resent unless someone runs `digest resend`. The window is one round trip long; the
stable Message-ID lets receiving systems drop a duplicate if a resend was unnecessary.

A recipient whose message cannot be built (rendering raised, the address is malformed) gets
a 'failed' row with the error and no bytes, so it shows in `digest deliveries` and the other
recipients still get theirs. It is not retried by `retry_pending` (there is nothing to
send, and a render bug does not heal with backoff); the next delivery pass of the same run
(a re-run of the period) renders it again.

Two times are involved. `now` is the period's time: a catch-up run or `digest run --as-of`
passes a time hours or days ago. Nothing that says *when something happened* uses it: the
Date header, the ledger's timestamps, the claim lease and the retry deadline all come from
`clock()`, the wall clock. What names the period (the run's period key, hence file names
and Message-IDs) comes from the run row, so it is stable across re-runs.

Without SMTP, messages are written as .eml files (or into a Maildir) under stable names,
so writing again after a crash replaces the same file instead of adding a second one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from digest.config import DigestSettings, Recipient, Settings, SmtpSettings
from digest.deliver import message as mail
from digest.deliver.naming import issue_stem
from digest.deliver.smtp import Connect, SmtpSession, UncertainDeliveryError
from digest.deliver.unsubscribe import PLACEHOLDER, make_token, personalise
from digest.errors import DeliveryError, DigestError, PermanentDeliveryError
from digest.models import Clock, Delivery, Failure, MessageParts, Rendered, wall_clock
from digest.store import LedgerRow, Store, ledger

RenderFor = Callable[[Recipient], tuple[Rendered, Sequence[str]]]
# Hands a run's due ledger rows (by id) to `digest worker` jobs instead of sending them here.
Dispatch = Callable[[int, Sequence[int]], None]
DEFAULT_SENDER = "digest@localhost"
ROWS_PER_INSERT = 500  # ledger rows written per transaction while a period is prepared
CLAIM_CHUNK = 10  # due rows claimed per transaction while sending
FILE_RETRY_DEADLINE = timedelta(hours=6)
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)


def deliver_digest(
    store: Store,
    settings: Settings,
    digest_settings: DigestSettings,
    run_id: int,
    render_for: RenderFor,
    now: datetime,
    *,
    connect: Connect | None = None,
    out_dir: Path | None = None,
    clock: Clock | None = None,
    dispatch: Dispatch | None = None,
) -> tuple[Delivery, ...]:
    """Record each recipient's message in the ledger, send the due ones; return each outcome.

    `now` is the period's time and is not used as a timestamp (see the module docstring);
    `clock` (default: the wall clock in UTC) times the Date header, ledger rows and retries.
    With `dispatch` (`digest worker` jobs), the due rows' ids are handed to it instead of
    being sent here: the outcomes returned are then mostly 'pending'.
    """
    clock = clock or wall_clock
    before = prepare_deliveries(store, settings, digest_settings, run_id, render_for, clock)
    recipients = active_recipients(store, digest_settings)
    if dispatch is not None:
        dispatch(run_id, ledger.due_ids(store, clock(), run_id))
    else:
        _send_rows(store, settings, ledger.due(store, clock(), run_id), clock, connect, out_dir)
    rows = {address_key(row.recipient): row for row in ledger.for_run(store, run_id)}
    return tuple(
        _outcome(rows[k], before.get(k))
        for k in (address_key(r.address) for r in recipients)
        if k in rows
    )


def _outcome(row: LedgerRow, before: LedgerRow | None) -> Delivery:
    """Return a row's delivery, marked as an earlier run's when this pass left it untouched."""
    delivery = row.to_delivery()
    untouched = before is not None and (before.status, before.attempts, before.updated_at) == (
        row.status,
        row.attempts,
        row.updated_at,
    )
    return replace(delivery, earlier_at=row.updated_at) if untouched else delivery


def prepare_deliveries(
    store: Store,
    settings: Settings,
    digest_settings: DigestSettings,
    run_id: int,
    render_for: RenderFor,
    clock: Clock,
) -> dict[str, LedgerRow]:
    """Give each active recipient without a built message its ledger row, message included.

    Return the rows as they were before, by address_key of their recipient.
    """
    key = ledger.run_key(store, run_id)
    # Matched by address_key: a row made for Bob@Example.org is Bob@example.org's too.
    existing = {address_key(row.recipient): row for row in ledger.for_run(store, run_id)}
    template = mail.MessageTemplate()
    todo = [
        (recipient, row)
        for recipient in active_recipients(store, digest_settings)
        if (row := existing.get(address_key(recipient.address))) is None
        or (row.status == "failed" and not row.built)
    ]
    tokens = bool(settings.unsubscribe_secret) and PLACEHOLDER in (
        digest_settings.unsubscribe or ""
    )
    for start in range(0, len(todo), ROWS_PER_INSERT):
        chunk = todo[start : start + ROWS_PER_INSERT]
        ids = (
            store.recipient_tokens(digest_settings.name, [r.address for r, _ in chunk], clock())
            if tokens
            else {}
        )
        new: list[ledger.NewRow] = []
        for recipient, row in chunk:
            made = _new_row(
                settings, digest_settings, key, recipient, render_for, clock, template,
                ids.get(recipient.address),
            )  # fmt: skip
            if row is None:
                new.append(made)
            else:  # a row that could not be built before: built again in place
                ledger.rebuild(
                    store, row.id, message=made.message, message_id=made.message_id,
                    now=clock(), error=made.error,
                )  # fmt: skip
        ledger.create_many(store, run_id, new, clock())
    return existing


def send_batch(
    store: Store,
    settings: Settings,
    row_ids: Sequence[int],
    *,
    by: str | None = None,
    connect: Connect | None = None,
    clock: Clock | None = None,
) -> tuple[Delivery, ...]:
    """Send the due rows among row_ids (a `digest worker` job); return their outcomes.

    `by` names the job in each claim, so that the rows of a worker found dead are released
    at once. Rows another process holds, or that are not due, are left alone.
    """
    clock = clock or wall_clock
    now = clock()
    due = [r for r in ledger.rows(store, row_ids) if r.status in ledger.DUE]
    due = [r for r in due if r.next_attempt_at is None or r.next_attempt_at <= now]
    _send_rows(store, settings, due, clock, connect, None, by=by)
    return tuple(r.to_delivery() for r in ledger.rows(store, [r.id for r in due]))


def address_key(address: str) -> str:
    """Return what tells two addresses apart: the local part as written, the domain in any case.

    Domains are case-insensitive (RFC 5321, 2.4); a local part may in theory be
    case-sensitive, so it is kept as written. Bob@Example.org and Bob@example.org are one
    recipient and get one message.
    """
    local, at, domain = address.strip().rpartition("@")
    return f"{local}{at}{domain.casefold()}" if at else address.strip()


def active_recipients(store: Store, d: DigestSettings) -> list[Recipient]:
    """Return a digest's recipients, once each (by address_key), without those who
    unsubscribed or whose address is suspended after repeated permanent failures."""
    gone = store.opted_out(d.name) | {b.address for b in store.suspensions()}
    unique: dict[str, Recipient] = {}
    for r in d.recipients:
        unique.setdefault(address_key(r.address), r)  # the first one listed wins
    return [r for r in unique.values() if r.address.strip().casefold() not in gone]


def _new_row(
    settings: Settings,
    d: DigestSettings,
    key: tuple[str, str],
    recipient: Recipient,
    render_for: RenderFor,
    clock: Clock,
    template: mail.MessageTemplate,
    token_id: str | None,
) -> ledger.NewRow:
    """Build a recipient's message for their row (or say why it cannot be built); token_id
    is their unsubscribe-link id when the digest's links carry one."""
    sender = settings.smtp.from_addr if settings.smtp else DEFAULT_SENDER
    message_id = mail.message_id_for(f"{key[0]}|{key[1]}|{recipient.address}", sender)
    data: MessageParts | None = None
    error: str | None = None
    try:
        secret = settings.unsubscribe_secret
        token = make_token(secret, token_id) if secret and token_id is not None else None
        data = _build(
            settings, d, key, recipient, render_for, sender, message_id, clock(), template, token
        )
    except DigestError as exc:  # a render failure, or a malformed address (never sendable)
        error = exc.message if exc.subject == recipient.address else str(exc)
    except Exception as exc:  # one recipient's broken copy must not cost the others theirs
        failure = Failure.unexpected("render", recipient.address, exc)
        error = f"{failure.stage}: {failure.message}"  # the row names the recipient
    return ledger.NewRow(recipient.address, data, message_id, error)


def _build(
    settings: Settings,
    d: DigestSettings,
    key: tuple[str, str],
    recipient: Recipient,
    render_for: RenderFor,
    sender: str,
    message_id: str,
    when: datetime,
    template: mail.MessageTemplate,
    token: str | None,
) -> MessageParts:
    """Return a recipient's message as the ledger keeps it, dated when, with its unsubscribe
    token (the same render for everyone: the body is shared, its link places filled per
    recipient)."""
    rendered, formats = render_for(recipient)
    to = mail.Addressing(
        recipient=recipient,
        sender=sender,
        reply_to=settings.smtp.reply_to if settings.smtp else None,
        list_id=f"{mail.one_line(d.title)} <{d.name}.{mail.sender_domain(sender)}>",
        unsubscribe=personalise(d.unsubscribe or "", token) or None,
        now=when,
        message_id=message_id,
        attachment_name=mail.safe_name(issue_stem(d, key[1])) + ".pdf",
    )
    return template.parts(rendered, to, formats, token)


def _send_rows(
    store: Store,
    settings: Settings,
    rows: Sequence[LedgerRow],
    clock: Clock,
    connect: Connect | None,
    out_dir: Path | None,
    *,
    by: str | None = None,
) -> None:
    """Send (or write) each row, recording the outcome in the ledger as it happens.

    Rows are claimed CLAIM_CHUNK at a time (one transaction), the lease covering the chunk's
    attempts; each message's 'sending' and outcome are still committed one by one.
    """
    if not rows:
        return
    lease = _lease(settings.smtp)
    session = SmtpSession(settings.smtp, connect) if settings.smtp is not None else None
    try:
        # Only an address with failures counted has a count for a delivery to clear.
        bouncing = store.bouncing([r.recipient for r in rows]) if session is not None else set()
        for start in range(0, len(rows), CLAIM_CHUNK):
            chunk = rows[start : start + CLAIM_CHUNK]
            claimed = ledger.claim_many(
                store, [r.id for r in chunk], clock(), lease * len(chunk), by
            )
            for row in chunk:
                parts = claimed.get(row.id)
                if parts is None:
                    continue  # another process took it, or there is nothing to send
                if session is None:
                    _write_row(store, settings, row, parts, clock, out_dir)
                else:
                    _send_row(store, session, row, parts, clock, row.recipient in bouncing)
    finally:
        if session is not None:
            session.close()


def _lease(smtp: SmtpSettings | None) -> timedelta:
    """Return how long a claimed row is left alone by others (longer than one attempt)."""
    return max(timedelta(minutes=2), timedelta(seconds=4 * smtp.timeout if smtp else 0))


def _send_row(
    store: Store,
    session: SmtpSession,
    row: LedgerRow,
    parts: MessageParts,
    clock: Clock,
    bouncing: bool,
) -> None:
    smtp = session.smtp
    try:
        session.send(
            mail.assemble(parts),
            sender=smtp.from_addr,
            recipients=[row.recipient],
            before_dot=lambda: ledger.mark_sending(store, row.id, clock()),
        )
    except UncertainDeliveryError as exc:
        note = ledger.UNKNOWN_NOTE.format(id=row.id)
        ledger.mark_unknown(store, row.id, f"{error_text(exc, row.recipient)}; {note}", clock())
    except DeliveryError as exc:
        _record_failure(store, row, exc, clock(), smtp.retry_deadline)
        if isinstance(exc, PermanentDeliveryError):  # a hard bounce: counted per address
            key = f"{row.digest}|{row.period_key}"
            error = error_text(exc, row.recipient)
            store.record_bounce(row.recipient, key, error, clock(), smtp.suspend_after)
    else:
        ledger.mark_done(store, row.id, "sent", clock())
        if bouncing:
            store.clear_bounces(row.recipient)


def _write_row(
    store: Store,
    settings: Settings,
    row: LedgerRow,
    parts: MessageParts,
    clock: Clock,
    out_dir: Path | None,
) -> None:
    data = mail.assemble(parts)
    try:
        if settings.maildir is not None:
            tag = hashlib.sha256(row.message_id.encode()).hexdigest()[:10]
            stamp = int(row.created_at.timestamp())
            path = mail.write_maildir(data, settings.maildir, f"{stamp}.digest{row.id}_{tag}")
        else:
            name = f"{row.digest}-{row.period_key}-{row.recipient}"
            path = mail.write_eml(data, out_dir or settings.outbox_dir, name)
    except DeliveryError as exc:
        _record_failure(store, row, exc, clock(), FILE_RETRY_DEADLINE)
    else:
        ledger.mark_done(store, row.id, "written", clock(), str(path))


def _record_failure(
    store: Store, row: LedgerRow, exc: DeliveryError, now: datetime, deadline: timedelta
) -> None:
    """Record a permanent failure, or schedule a retry with exponential backoff until deadline."""
    attempts = row.attempts + 1  # claim() counted this attempt
    give_up_at = row.created_at + deadline
    error = error_text(exc, row.recipient)
    if isinstance(exc, PermanentDeliveryError):
        ledger.mark_failed(store, row.id, error, now)
    elif now >= give_up_at:
        ledger.mark_failed(store, row.id, f"{error} (gave up after {attempts} attempts)", now)
    else:
        delay = min(BACKOFF_FIRST * 2 ** min(attempts - 1, 12), BACKOFF_MAX)
        ledger.mark_retry(store, row.id, error, now, min(now + delay, give_up_at))


def error_text(exc: DigestError, recipient: str) -> str:
    """Return what a ledger row keeps of an error: its message, and its subject unless that
    is the row's own recipient (a report names the recipient and the stage already)."""
    if exc.subject in ("", recipient):
        return exc.message
    return f"{exc.subject}: {exc.message}"


def retry_pending(
    store: Store,
    settings: Settings,
    now: datetime,
    connect: Connect | None = None,
    *,
    skip: Collection[tuple[str, str]] = (),
) -> tuple[Delivery, ...]:
    """Send every due 'pending' or 'retry' row of any run; return their outcomes.

    Here `now` is the wall clock (no period is involved): pass the current time, never a
    period's time, or retries are timed from the past. Rows of the (digest, period key)
    pairs in skip are left alone: the run building that period sends them itself.
    """
    rows = tuple(r for r in ledger.due(store, now) if (r.digest, r.period_key) not in skip)
    _send_rows(store, settings, rows, lambda: now, connect, None)
    after = (ledger.get(store, row.id) for row in rows)
    return tuple(row.to_delivery() for row in after if row is not None)


def resend_delivery(
    store: Store,
    settings: Settings,
    row_id: int,
    now: datetime,
    *,
    connect: Connect | None = None,
    clock: Clock | None = None,
) -> Delivery:
    """Send one stored message again on purpose, under a new Message-ID; return the outcome.

    Only this row is sent, whatever else is due. `now` keys the new Message-ID; `clock`
    (default: the wall clock) times the ledger updates.
    """
    clock = clock or wall_clock
    row = ledger.get(store, row_id)
    parts = ledger.message(store, row_id) if row else None
    if row is None or parts is None:
        why = "no such delivery" if row is None else "no stored message (it could not be built)"
        raise DeliveryError(f"delivery {row_id}", why)
    sender = settings.smtp.from_addr if settings.smtp else DEFAULT_SENDER
    new_id = mail.message_id_for(f"{row.digest}|{row.period_key}|{row.recipient}|{now}", sender)
    head = re.sub(
        rb"(?im)^Message-ID:[^\r\n]*", b"Message-ID: " + new_id.encode(), parts.head, count=1
    )
    ledger.requeue(store, row_id, replace(parts, head=head), new_id, clock())
    requeued = ledger.get(store, row_id)
    if requeued is None:
        raise DeliveryError(f"delivery {row_id}", "left the ledger while it was being resent")
    _send_rows(store, settings, (requeued,), clock, connect, None)
    after = ledger.get(store, row_id)
    if after is None:
        raise DeliveryError(f"delivery {row_id}", "left the ledger while it was being resent")
    return after.to_delivery()
