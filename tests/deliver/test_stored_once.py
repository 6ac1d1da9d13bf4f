"""The ledger keeps a period's message body once, each recipient's head and token apart.

On SQLite and PostgreSQL: what a real SMTP server receives is each recipient's own message
(their token in the HTML, the text and List-Unsubscribe), byte for byte what the ledger
joins again for a retry, and the database grows by the body once plus under 2 KB a
recipient. Databases of the old layout (whole messages in the rows) are migrated, the
stored bytes unchanged: one made by the old code, and one put back into the old layout.
"""

from __future__ import annotations

import email
import email.policy
import shutil
import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import sqlalchemy as sa
from smtpserver import NOW, SmtpServer, linked_rendered, make_settings, recipients

from digest.config.settings import Recipient
from digest.deliver.message import assemble
from digest.deliver.send import deliver_digest, retry_pending
from digest.deliver.unsubscribe import make_token
from digest.models import MessageParts, Rendered
from digest.store import ledger
from digest.store.database import open_store

DATA = Path(__file__).parent.parent / "data" / "ledger-v5"
SECRET = "s3cret"
LINK = "https://example.org/u/{token}"


def _parts_of(data: bytes) -> dict[str, object]:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    out: dict[str, object] = {"List-Unsubscribe": str(msg["List-Unsubscribe"])}
    for part in msg.walk():
        if not part.is_multipart():
            out[part.get_content_type()] = part.get_content()  # type: ignore[attr-defined]
    return out


def test_one_body_per_period_and_each_recipient_gets_their_own_token(
    tmp_path: Path, database_url: str
) -> None:
    r = linked_rendered(LINK)
    people = (
        *recipients(30),
        Recipient(address="a.rather.long.address.of.someone@subdomain.example.org", name="Ann"),
    )
    srv = SmtpServer(tmp_path).start()
    store = open_store(database_url)
    try:
        settings, d = make_settings(tmp_path, people, smtp=srv.settings())
        d = replace(d, unsubscribe=LINK)
        settings = replace(settings, digests=(d,), unsubscribe_secret=SECRET)
        run = store.claim_run("morning", "2026-11-25", NOW)

        def render_for(recipient: Recipient) -> tuple[Rendered, Sequence[str]]:
            return r, recipient.formats

        out = deliver_digest(store, settings, d, run.id, render_for, NOW)
        assert [x.status for x in out] == ["sent"] * len(people)
        by_rcpt = {m.rcpt_tos[0]: m.content for m in srv.handler.messages}
        assert sorted(by_rcpt) == sorted(p.address for p in people)
        for row in ledger.for_run(store, run.id):
            data = by_rcpt[row.recipient]
            parts = ledger.message(store, row.id)
            assert parts is not None and assemble(parts) == data  # the exact bytes, again
            link = LINK.replace(
                "{token}", make_token(SECRET, store.recipient_token("morning", row.recipient, NOW))
            )
            got = _parts_of(data)
            assert got["List-Unsubscribe"] == f"<{link}>"
            assert f"<a href='{link}'>Unsubscribe</a> ({link})" in str(got["text/html"])
            assert str(got["text/plain"]).endswith(f"Unsubscribe: {link}\r\n")
            assert got["application/pdf"] == r.pdf
            assert "{token}" not in str(got["text/html"]) + str(got["text/plain"])
            body = data.partition(b"\r\n\r\n")[2]  # List-Unsubscribe is one line on purpose
            assert max(len(line) for line in body.split(b"\r\n")) <= 78
        kept = ledger.stored_bytes(store)
        assert kept["rows"] == len(people)
        one_copy = len(by_rcpt[people[0].address])
        assert one_copy * 0.8 < kept["bodies"] < one_copy  # the body once, not once each
        assert kept["rows_own"] / kept["rows"] < 2048
    finally:
        store.close()
        srv.stop()


def test_a_database_made_by_the_old_code_keeps_its_messages_byte_for_byte(
    tmp_path: Path,
) -> None:
    # tests/data/ledger-v5: a run delivered to the outbox by the code before messages were
    # split (schema version 5); its .eml files are the bytes it stored.
    for f in DATA.iterdir():
        shutil.copy(f, tmp_path / f.name)
    with sqlite3.connect(tmp_path / "digest.db") as conn:
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone() == (5,)
    store = open_store(f"sqlite:///{tmp_path / 'digest.db'}")
    try:
        rows = ledger.for_run(store, 1)
        assert len(rows) == 3
        for row in rows:
            parts = ledger.message(store, row.id)
            assert parts is not None and parts.token is None
            eml = tmp_path / f"morning-2026-11-25-{row.recipient}.eml"
            assert assemble(parts) == eml.read_bytes()
        cols = {c["name"] for c in sa.inspect(store.engine).get_columns("deliveries")}
        assert "message" not in cols and {"head", "body_id", "token"} <= cols
    finally:
        store.close()


def test_old_layout_rows_are_split_on_both_databases_and_sent_unchanged(
    tmp_path: Path, database_url: str
) -> None:
    srv = SmtpServer(tmp_path).start()
    store = open_store(database_url)
    run = store.claim_run("morning", "p1", NOW)
    messages = {
        "r000@example.org": b"From: a@x\r\nTo: r000@example.org\r\n\r\nbody one\r\n",
        "r001@example.org": b"From: a@x\r\nTo: r001@example.org\r\n\r\nbody one\r\n",
        "r002@example.org": b"Subject: no body at all\r\n",
    }
    with store.begin() as conn:  # put the table back as the old code made it
        conn.execute(sa.text("DROP TABLE deliveries"))
        conn.execute(sa.text("DROP TABLE delivery_bodies"))
        conn.execute(sa.text("DELETE FROM schema_version WHERE version >= 8"))
        old = _old_deliveries()
        old.create(conn)
        conn.execute(
            old.insert(),
            [
                {"run_id": run.id, "recipient": to, "status": "pending", "message_id": "<m@x>",
                 "message": data, "attempts": 0, "created_at": NOW.replace(tzinfo=None),
                 "updated_at": NOW.replace(tzinfo=None), "next_attempt_at": None}
                for to, data in messages.items()
            ],
        )  # fmt: skip
    store.close()
    store = open_store(database_url)
    try:
        for row in ledger.for_run(store, run.id):
            parts = ledger.message(store, row.id)
            assert parts is not None and assemble(parts) == messages[row.recipient]
        assert ledger.stored_bytes(store)["bodies"] == len(b"\r\nbody one\r\n")  # kept once
        settings, _ = make_settings(tmp_path, (), smtp=srv.settings())
        sent = retry_pending(store, settings, NOW)
        assert sorted(x.status for x in sent) == ["sent"] * 3
        got = {m.rcpt_tos[0]: m.content for m in srv.handler.messages}
        assert got == messages
    finally:
        store.close()
        srv.stop()


def _old_deliveries() -> sa.Table:
    """The deliveries table as schema version 5 made it: the whole message in the row."""
    meta = sa.MetaData()
    sa.Table("runs", meta, sa.Column("id", sa.Integer, primary_key=True))
    return sa.Table(
        "deliveries",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("recipient", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message_id", sa.Text, nullable=False, default=""),
        sa.Column("message", sa.LargeBinary),
        sa.Column("attempts", sa.Integer, nullable=False, default=0),
        sa.Column("error", sa.Text),
        sa.Column("path", sa.Text),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime),
        sa.UniqueConstraint("run_id", "recipient", name="uq_deliveries_run_recipient"),
    )


def test_fill_tokens_keeps_lines_short_for_any_token_length() -> None:
    body = b"\r\nA line=\r\n=?digest-token?==\r\nmore\r\n"
    for n in (0, 1, 74, 75, 76, 150, 400):
        data = assemble(MessageParts(head=b"H: x\r\n", body=body, token="t" * n))
        assert max(len(line) for line in data.split(b"\r\n")) <= 76
        assert data.replace(b"=\r\n", b"") == b"H: x\r\n\r\nA line" + b"t" * n + b"more\r\n"
