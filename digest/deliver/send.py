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
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from digest.config import DigestSettings, Recipient, Settings, SmtpSettings
from digest.deliver import ledger
from digest.deliver import message as mail
from digest.deliver.ledger import LedgerRow
from digest.deliver.naming import issue_stem
from digest.deliver.smtp import Connect, SmtpSession, UncertainDeliveryError
from digest.deliver.unsubscribe import make_token, personalise
from digest.errors import DeliveryError, DigestError, PermanentDeliveryError
from digest.models import Clock, Delivery, Failure, Rendered, wall_clock
from digest.store import Store

RenderFor = Callable[[Recipient], tuple[Rendered, Sequence[str]]]
DEFAULT_SENDER = "digest@localhost"
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
) -> tuple[Delivery, ...]:
    """Record each recipient's message in the ledger, send the due ones; return each outcome.

    `now` is the period's time and is not used as a timestamp (see the module docstring);
    `clock` (default: the wall clock in UTC) times the Date header, ledger rows and retries.
    """
    clock = clock or wall_clock
    key = ledger.run_key(store, run_id)
    recipients = active_recipients(store, digest_settings)
    # Matched by address_key: a row made for Bob@Example.org is Bob@example.org's too.
    earlier = {
        address_key(row.recipient): row.updated_at
        for row in ledger.for_run(store, run_id)
        if row.status in ledger.DONE
    }
    made = {address_key(row.recipient): row for row in ledger.for_run(store, run_id)}
    for recipient in recipients:
        row = made.get(address_key(recipient.address))
        if row is None or (row.status == "failed" and not row.built):
            _build_row(
                store, settings, digest_settings, run_id, key, recipient, render_for, row, clock
            )
    _send_rows(store, settings, ledger.due(store, clock(), run_id), clock, connect, out_dir)
    rows = {address_key(row.recipient): row for row in ledger.for_run(store, run_id)}
    return tuple(
        replace(rows[k].to_delivery(), earlier_at=earlier.get(k))
        for k in (address_key(r.address) for r in recipients)
        if k in rows
    )


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
    unsubscribed."""
    gone = store.opted_out(d.name)
    unique: dict[str, Recipient] = {}
    for r in d.recipients:
        unique.setdefault(address_key(r.address), r)  # the first one listed wins
    return [r for r in unique.values() if r.address.strip().casefold() not in gone]


def _build_row(
    store: Store,
    settings: Settings,
    d: DigestSettings,
    run_id: int,
    key: tuple[str, str],
    recipient: Recipient,
    render_for: RenderFor,
    row: LedgerRow | None,
    clock: Clock,
) -> None:
    """Build a recipient's message and store it in its row (a 'failed' row if it cannot be)."""
    sender = settings.smtp.from_addr if settings.smtp else DEFAULT_SENDER
    message_id = mail.message_id_for(f"{key[0]}|{key[1]}|{recipient.address}", sender)
    data: bytes | None = None
    error: str | None = None
    try:
        data = _build(settings, d, key, recipient, render_for, sender, message_id, clock())
    except DigestError as exc:  # a render failure, or a malformed address (never sendable)
        error = str(exc)
    except Exception as exc:  # one recipient's broken copy must not cost the others theirs
        error = str(Failure.unexpected("render", recipient.address, exc))
    if row is None:
        ledger.create(
            store, run_id, recipient.address, message=data, message_id=message_id,
            now=clock(), status="pending" if data is not None else "failed", error=error,
        )  # fmt: skip
    else:
        ledger.rebuild(store, row.id, message=data, message_id=message_id, now=clock(), error=error)


def _build(
    settings: Settings,
    d: DigestSettings,
    key: tuple[str, str],
    recipient: Recipient,
    render_for: RenderFor,
    sender: str,
    message_id: str,
    when: datetime,
) -> bytes:
    """Return the bytes of a recipient's message, dated when."""
    rendered, formats = render_for(recipient)
    secret = settings.unsubscribe_secret
    token = make_token(secret, d.name, recipient.address) if secret else None
    if token is not None:  # the same render for everyone; the link is this recipient's own
        rendered = replace(
            rendered, html=personalise(rendered.html, token), text=personalise(rendered.text, token)
        )
    msg = mail.build_message(
        rendered,
        recipient=recipient,
        sender=sender,
        reply_to=settings.smtp.reply_to if settings.smtp else None,
        list_id=f"{mail.one_line(d.title)} <{d.name}.{mail.sender_domain(sender)}>",
        unsubscribe=personalise(d.unsubscribe or "", token) or None,
        now=when,
        formats=formats,
        message_id=message_id,
        attachment_name=mail.safe_name(issue_stem(d, key[1])) + ".pdf",
    )
    return mail.message_bytes(msg)


def _send_rows(
    store: Store,
    settings: Settings,
    rows: Sequence[LedgerRow],
    clock: Clock,
    connect: Connect | None,
    out_dir: Path | None,
) -> None:
    """Send (or write) each row, recording the outcome in the ledger as it happens."""
    if not rows:
        return
    if settings.smtp is None:
        for row in rows:
            _write_row(store, settings, row, clock, out_dir)
        return
    session = SmtpSession(settings.smtp, connect)
    try:
        for row in rows:
            _send_row(store, settings.smtp, session, row, clock)
    finally:
        session.close()


def _lease(smtp: SmtpSettings | None) -> timedelta:
    """Return how long a claimed row is left alone by others (longer than one attempt)."""
    return max(timedelta(minutes=2), timedelta(seconds=4 * smtp.timeout if smtp else 0))


def _send_row(
    store: Store, smtp: SmtpSettings, session: SmtpSession, row: LedgerRow, clock: Clock
) -> None:
    data = ledger.claim(store, row.id, clock(), _lease(smtp))
    if data is None:
        return  # another process took it, or there is nothing to send
    try:
        session.send(
            data,
            sender=smtp.from_addr,
            recipients=[row.recipient],
            before_dot=lambda: ledger.mark_sending(store, row.id, clock()),
        )
    except UncertainDeliveryError as exc:
        note = ledger.UNKNOWN_NOTE.format(id=row.id)
        ledger.mark_unknown(store, row.id, f"{exc}; {note}", clock())
    except DeliveryError as exc:
        _record_failure(store, row, exc, clock(), smtp.retry_deadline)
    else:
        ledger.mark_done(store, row.id, "sent", clock())


def _write_row(
    store: Store, settings: Settings, row: LedgerRow, clock: Clock, out_dir: Path | None
) -> None:
    data = ledger.claim(store, row.id, clock(), _lease(None))
    if data is None:
        return
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
    if isinstance(exc, PermanentDeliveryError):
        ledger.mark_failed(store, row.id, str(exc), now)
    elif now >= give_up_at:
        ledger.mark_failed(store, row.id, f"{exc} (gave up after {attempts} attempts)", now)
    else:
        delay = min(BACKOFF_FIRST * 2 ** min(attempts - 1, 12), BACKOFF_MAX)
        ledger.mark_retry(store, row.id, str(exc), now, min(now + delay, give_up_at))


def retry_pending(
    store: Store,
    settings: Settings,
    now: datetime,
    connect: Connect | None = None,
) -> tuple[Delivery, ...]:
    """Send every due 'pending' or 'retry' row of any run; return their outcomes.

    Here `now` is the wall clock (no period is involved): pass the current time, never a
    period's time, or retries are timed from the past.
    """
    rows = ledger.due(store, now)
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
    data = ledger.message(store, row_id) if row else None
    if row is None or data is None:
        why = "no such delivery" if row is None else "no stored message (it could not be built)"
        raise DeliveryError(f"delivery {row_id}", why)
    sender = settings.smtp.from_addr if settings.smtp else DEFAULT_SENDER
    new_id = mail.message_id_for(f"{row.digest}|{row.period_key}|{row.recipient}|{now}", sender)
    head, sep, body = data.partition(b"\r\n\r\n")
    head = re.sub(rb"(?im)^Message-ID:[^\r\n]*", b"Message-ID: " + new_id.encode(), head, count=1)
    ledger.requeue(store, row_id, head + sep + body, new_id, clock())
    requeued = ledger.get(store, row_id)
    if requeued is None:
        raise DeliveryError(f"delivery {row_id}", "left the ledger while it was being resent")
    _send_rows(store, settings, (requeued,), clock, connect, None)
    after = ledger.get(store, row_id)
    if after is None:
        raise DeliveryError(f"delivery {row_id}", "left the ledger while it was being resent")
    return after.to_delivery()
