"""Deliver: MIME messages, SMTP sessions, the outbox or Maildir, through the delivery ledger.

`deliver_digest` sends (or writes) one rendered digest to each recipient through the
store's `ledger`, which keeps a period to one message per recipient across crashes and
restarts; `send_batch` sends some of a run's rows (a `digest worker` job);
`retry_pending` retries what is due; `resend_delivery` sends one ledger row again;
`doctor` checks the SMTP settings; `unsubscribe_link` builds a recipient's link, signed per
recipient by `make_token` (`read_token` checks one); `issue_stem` names an issue's files and
attachment by its period; `send_report` mails a run's failures to the operator (`report_to`).
`send_period`, `deliver_period`, `retry_deliveries`, `report_failures` and `not_sent` are a run's delivery
step as the pipeline calls it (`run.py`): what the mail setup raises becomes a Failure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from digest import lazy_exports

if TYPE_CHECKING:
    from digest.deliver.message import unsubscribe_link
    from digest.deliver.naming import issue_stem, period_time
    from digest.deliver.report import send_report
    from digest.deliver.run import (
        NO_MAIL_EMPTY,
        MailIO,
        deliver_period,
        not_sent,
        record_unrendered,
        report_failures,
        retry_deliveries,
        send_period,
    )
    from digest.deliver.send import (
        active_recipients,
        address_key,
        deliver_digest,
        resend_delivery,
        retry_pending,
        send_batch,
    )
    from digest.deliver.smtp import Connect, doctor
    from digest.deliver.unsubscribe import make_token, read_token

# Loaded on first use (digest.lazy_exports): where each public name lives.
_HOMES = {
    "unsubscribe_link": "digest.deliver.message",
    "issue_stem": "digest.deliver.naming",
    "period_time": "digest.deliver.naming",
    "send_report": "digest.deliver.report",
    "NO_MAIL_EMPTY": "digest.deliver.run",
    "MailIO": "digest.deliver.run",
    "send_period": "digest.deliver.run",
    "deliver_period": "digest.deliver.run",
    "not_sent": "digest.deliver.run",
    "record_unrendered": "digest.deliver.run",
    "report_failures": "digest.deliver.run",
    "retry_deliveries": "digest.deliver.run",
    "active_recipients": "digest.deliver.send",
    "address_key": "digest.deliver.send",
    "deliver_digest": "digest.deliver.send",
    "resend_delivery": "digest.deliver.send",
    "retry_pending": "digest.deliver.send",
    "send_batch": "digest.deliver.send",
    "Connect": "digest.deliver.smtp",
    "doctor": "digest.deliver.smtp",
    "make_token": "digest.deliver.unsubscribe",
    "read_token": "digest.deliver.unsubscribe",
}

__all__ = [
    "NO_MAIL_EMPTY",
    "Connect",
    "MailIO",
    "active_recipients",
    "address_key",
    "deliver_digest",
    "deliver_period",
    "doctor",
    "issue_stem",
    "make_token",
    "not_sent",
    "period_time",
    "read_token",
    "record_unrendered",
    "report_failures",
    "resend_delivery",
    "retry_deliveries",
    "retry_pending",
    "send_batch",
    "send_period",
    "send_report",
    "unsubscribe_link",
]

__getattr__ = lazy_exports(__name__, _HOMES)
