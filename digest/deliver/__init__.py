"""Deliver: MIME messages, SMTP sessions, the outbox or Maildir, and the delivery ledger.

`deliver_digest` sends (or writes) one rendered digest to each recipient through the
`ledger`, which keeps a period to one message per recipient across crashes and restarts;
`retry_pending` retries what is due; `resend_delivery` sends one ledger row again;
`doctor` checks the SMTP settings; `unsubscribe_link` builds a recipient's link.
"""

from digest.deliver import ledger
from digest.deliver.ledger import LedgerRow
from digest.deliver.message import unsubscribe_link
from digest.deliver.send import deliver_digest, resend_delivery, retry_pending
from digest.deliver.smtp import doctor

__all__ = [
    "LedgerRow",
    "deliver_digest",
    "doctor",
    "ledger",
    "resend_delivery",
    "retry_pending",
    "unsubscribe_link",
]
