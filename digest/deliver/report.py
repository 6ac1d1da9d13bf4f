"""The operator's report: a run's failures, named, mailed to a digest's `report_to` address.

Subscribers only learn that "2 of 23 sources could not be reached"; the names and raw errors
go to whoever runs digest. The report is plain text, sent over the configured SMTP server
(or written to the outbox without one), outside the ledger: each run with failures sends its
own, and a report that cannot be sent is itself a failure of the run, never a crash.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from digest.config import DigestSettings, Settings
from digest.deliver import message as mail
from digest.deliver.send import DEFAULT_SENDER
from digest.deliver.smtp import Connect, SmtpSession
from digest.errors import DeliveryError


def build_report(
    d: DigestSettings, period: str, lines: Sequence[str], sender: str, now: datetime
) -> bytes:
    """Return the bytes of the operator's report on a digest period's failures."""
    msg = EmailMessage(policy=mail.POLICY)
    msg["From"] = mail.one_line(sender)
    msg["To"] = mail.one_line(d.report_to or "")
    count = len(lines)
    msg["Subject"] = mail.one_line(
        f"digest {d.name} {period}: {count} problem{'s' if count != 1 else ''}"
    )
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid("digest-report", domain=mail.sender_domain(sender))
    msg["Auto-Submitted"] = "auto-generated"
    body = "\n".join(f"- {line}" for line in lines)
    text = (
        f"The {d.name} digest for period {period} had these problems:\n\n{body}\n\n"
        "`digest status` shows the feeds and undelivered messages.\n"
    )
    msg.set_content(text, charset="utf-8", cte="quoted-printable")
    return mail.message_bytes(msg)


def send_report(
    settings: Settings,
    d: DigestSettings,
    period: str,
    lines: Sequence[str],
    now: datetime,
    *,
    connect: Connect | None = None,
) -> str:
    """Send (or write) the report to d.report_to; return where it went. Raises DeliveryError."""
    if not d.report_to:
        raise DeliveryError(d.name, "no report_to address")
    sender = settings.smtp.from_addr if settings.smtp else DEFAULT_SENDER
    data = build_report(d, period, lines, sender, now)
    if settings.smtp is None:
        name = f"report-{d.name}-{period}-{now:%Y%m%dT%H%M%S}"
        return str(mail.write_eml(data, settings.outbox_dir, name))
    session = SmtpSession(settings.smtp, connect)
    try:
        session.send(data, sender=settings.smtp.from_addr, recipients=[d.report_to])
    finally:
        session.close()
    return d.report_to
