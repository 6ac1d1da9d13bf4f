"""The delivery stage: one ledger row per recipient, then send (or write) the due rows.

Exactly once per (digest, period, recipient), across crashes:

1. For each recipient without a row, the message is rendered, built and stored in its row in
   one INSERT (a transactional outbox). Re-runs reuse the stored bytes and Message-ID.
2. Each due row is claimed (attempts+1 and a short lease, so two processes never send the
   same row), then sent over one reused SMTP connection. The row is marked 'sending' in a
   commit made after the whole body is transferred but *before* the final "." that makes
   the server accept it; after the 250 reply it becomes 'sent'.

A crash before 'sending' is committed leaves the row due again (the server discarded the
unfinished transaction), so the next run sends it. A crash after the final dot but before
'sent' is committed is the one window SMTP cannot close: the message may have been
accepted. We choose at-most-once there (DESIGN.md: "sent at most once, even across
crashes"): the row stays 'sending', is reported as failed with "outcome unknown", and is
not resent unless someone runs `digest resend`. The window is one round trip long; the
stable Message-ID lets receiving systems drop a duplicate if a resend was unnecessary.

Without SMTP, messages are written as .eml files (or into a Maildir) under stable names,
so writing again after a crash replaces the same file instead of adding a second one.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from digest import ledger, mail
from digest.config import DigestSettings, Recipient, Settings, SmtpSettings
from digest.errors import DeliveryError, DigestError, PermanentDeliveryError
from digest.ledger import LedgerRow
from digest.models import Delivery, Rendered
from digest.smtp import Connect, SmtpSession, UncertainDeliveryError
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
    connect: Callable[..., smtplib.SMTP] | None = None,
    out_dir: Path | None = None,
) -> tuple[Delivery, ...]:
    """Record each recipient's message in the ledger, send the due ones; return each outcome."""
    key = ledger.run_key(store, run_id)
    recipients = list({r.address: r for r in digest_settings.recipients}.values())
    render_failures: dict[str, Delivery] = {}
    for recipient in recipients:
        if ledger.find(store, run_id, recipient.address) is None:
            failure = _add_row(
                store, settings, digest_settings, run_id, key, recipient, render_for, now
            )
            if failure is not None:
                render_failures[recipient.address] = failure
    _send_rows(store, settings, ledger.due(store, now, run_id), now, connect, out_dir)
    rows = {row.recipient: row for row in ledger.for_run(store, run_id)}
    return tuple(
        render_failures.get(r.address) or rows[r.address].to_delivery()
        for r in recipients
        if r.address in render_failures or r.address in rows
    )


def _add_row(
    store: Store,
    settings: Settings,
    d: DigestSettings,
    run_id: int,
    key: tuple[str, str],
    recipient: Recipient,
    render_for: RenderFor,
    now: datetime,
) -> Delivery | None:
    """Build a recipient's message and store it in a new row; return a Delivery on failure."""
    try:
        rendered, formats = render_for(recipient)
    except DigestError as exc:  # no row: the next run renders and tries again
        return Delivery(recipient=recipient.address, status="failed", error=str(exc))
    sender = settings.smtp.from_addr if settings.smtp else DEFAULT_SENDER
    message_id = mail.message_id_for(f"{key[0]}|{key[1]}|{recipient.address}", sender)
    domain = sender.rpartition("@")[2].strip("> ") or "localhost"
    try:
        msg = mail.build_message(
            rendered,
            recipient=recipient,
            sender=sender,
            reply_to=settings.smtp.reply_to if settings.smtp else None,
            list_id=f"{mail.one_line(d.title)} <{d.name}.{domain}>",
            unsubscribe=d.unsubscribe,
            now=now,
            formats=formats,
            message_id=message_id,
            attachment_name=_safe(f"{d.name}-{key[1]}") + ".pdf",
        )
    except DeliveryError as exc:  # a malformed address: recorded, never retried
        ledger.create(
            store, run_id, recipient.address, message=None, message_id=message_id,
            now=now, status="failed", error=str(exc),
        )  # fmt: skip
        return None
    ledger.create(
        store, run_id, recipient.address, message=mail.message_bytes(msg),
        message_id=message_id, now=now,
    )  # fmt: skip
    return None


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9@._+-]+", "_", text).strip("._")


def _send_rows(
    store: Store,
    settings: Settings,
    rows: Sequence[LedgerRow],
    now: datetime,
    connect: Connect | None,
    out_dir: Path | None,
) -> None:
    """Send (or write) each row, recording the outcome in the ledger as it happens."""
    if not rows:
        return
    if settings.smtp is None:
        for row in rows:
            _write_row(store, settings, row, now, out_dir)
        return
    session = SmtpSession(settings.smtp, connect)
    try:
        for row in rows:
            _send_row(store, settings.smtp, session, row, now)
    finally:
        session.close()


def _lease(smtp: SmtpSettings | None) -> timedelta:
    """Return how long a claimed row is left alone by others (longer than one attempt)."""
    return max(timedelta(minutes=2), timedelta(seconds=4 * smtp.timeout if smtp else 0))


def _send_row(
    store: Store, smtp: SmtpSettings, session: SmtpSession, row: LedgerRow, now: datetime
) -> None:
    data = ledger.claim(store, row.id, now, _lease(smtp))
    if data is None:
        return  # another process took it, or there is nothing to send
    try:
        session.send(
            data,
            sender=smtp.from_addr,
            recipients=[row.recipient],
            before_dot=lambda: ledger.mark_sending(store, row.id, now),
        )
    except UncertainDeliveryError as exc:
        note = ledger.UNKNOWN_NOTE.format(id=row.id)
        ledger.mark_unknown(store, row.id, f"{exc}; {note}", now)
    except DeliveryError as exc:
        _record_failure(store, row, exc, now, smtp.retry_deadline)
    else:
        ledger.mark_done(store, row.id, "sent", now)


def _write_row(
    store: Store, settings: Settings, row: LedgerRow, now: datetime, out_dir: Path | None
) -> None:
    data = ledger.claim(store, row.id, now, _lease(None))
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
        _record_failure(store, row, exc, now, FILE_RETRY_DEADLINE)
    else:
        ledger.mark_done(store, row.id, "written", now, str(path))


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
    connect: Callable[..., smtplib.SMTP] | None = None,
) -> tuple[Delivery, ...]:
    """Send every due 'pending' or 'retry' row of any run; return their outcomes."""
    rows = ledger.due(store, now)
    _send_rows(store, settings, rows, now, connect, None)
    after = (ledger.get(store, row.id) for row in rows)
    return tuple(row.to_delivery() for row in after if row is not None)


def resend_delivery(
    store: Store,
    settings: Settings,
    row_id: int,
    now: datetime,
    *,
    connect: Callable[..., smtplib.SMTP] | None = None,
) -> Delivery:
    """Send a stored message again on purpose, under a new Message-ID; return the outcome."""
    row = ledger.get(store, row_id)
    data = ledger.message(store, row_id) if row else None
    if row is None or data is None:
        why = "no such delivery" if row is None else "no stored message (it could not be built)"
        raise DeliveryError(f"delivery {row_id}", why)
    sender = settings.smtp.from_addr if settings.smtp else DEFAULT_SENDER
    new_id = mail.message_id_for(f"{row.digest}|{row.period_key}|{row.recipient}|{now}", sender)
    head, sep, body = data.partition(b"\r\n\r\n")
    head = re.sub(rb"(?im)^Message-ID:[^\r\n]*", b"Message-ID: " + new_id.encode(), head, count=1)
    ledger.requeue(store, row_id, head + sep + body, new_id, now)
    _send_rows(store, settings, ledger.due(store, now, row.run_id), now, connect, None)
    after = ledger.get(store, row_id)
    assert after is not None
    return after.to_delivery()
