"""The Subject header as sent: folded after its first words, never from an empty first line."""

from __future__ import annotations

import email
import email.policy

import pytest
from smtpserver import NOW, rendered

from digest.config.settings import Recipient
from digest.deliver.message import Addressing, build_message, message_bytes

SUBJECTS = [
    # 76 characters: fits on a continuation line but not after "Subject: ", which is where
    # the stdlib folder used to leave the first line empty.
    "Morning Briefing, 27 Oct 2018: Monetary International Monetary Fund Athens",
    "Morning Briefing, 27 Oct 2018: George Papandreou, Athens, International Monetary Fund",
    "Утренняя сводка, 19 нояб. 2019 г.: Николай Полозов, Украина, Совет Федерации",
    "Short subject",
]


@pytest.mark.parametrize("subject", SUBJECTS)
def test_subject_starts_on_the_header_line_and_reads_back(subject: str) -> None:
    to = Addressing(
        recipient=Recipient(address="bob@example.org"),
        sender="digest@example.org",
        reply_to=None,
        list_id="morning.example.org",
        unsubscribe=None,
        now=NOW,
    )
    msg = build_message(rendered(subject, pdf=None), to, ("html",))
    data = message_bytes(msg)
    head = data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    at = next(i for i, line in enumerate(head) if line.startswith(b"Subject:"))
    assert head[at].startswith(b"Subject: ") and head[at][len(b"Subject: ") :].strip()
    folded = [head[at]] + [line for line in head[at + 1 :] if line[:1] in (b" ", b"\t")]
    assert all(len(line) <= 78 for line in folded)
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert parsed["Subject"] == subject
