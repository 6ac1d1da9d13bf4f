"""Statements against the database per recipient, on SQLite and PostgreSQL.

A period's 20,000 recipients on a database server cost a round trip per statement (three
per transaction around one): preparing a period makes each recipient's unsubscribe id in
one statement for many, and sending a message commits only what the ledger's promise
needs, its 'sending' before the final dot and its outcome after, the claims being taken
ten rows at a time. The counts are of the statements the database is sent.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from smtpserver import NOW, SmtpServer, linked_rendered, make_settings, recipients

from digest.config.settings import Recipient
from digest.deliver.send import prepare_deliveries, send_batch
from digest.models import Rendered
from digest.store import Store, ledger
from digest.store.database import open_store

LINK = "https://example.org/u/{token}"
PEOPLE = 60


@contextmanager
def _counted(store: Store) -> Iterator[list[str]]:
    """Record every statement the store sends (BEGIN and COMMIT are not statements here)."""
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    sa.event.listen(store.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", count)


def test_a_period_is_prepared_and_sent_with_few_statements_per_recipient(
    tmp_path: Path, database_url: str
) -> None:
    r = linked_rendered(LINK)
    srv = SmtpServer(tmp_path).start()
    store = open_store(database_url)
    try:
        settings, d = make_settings(tmp_path, recipients(PEOPLE), smtp=srv.settings())
        d = replace(d, unsubscribe=LINK)
        settings = replace(settings, digests=(d,), unsubscribe_secret="s3cret")
        run = store.claim_run("morning", "2026-11-25", NOW)

        def render_for(recipient: Recipient) -> tuple[Rendered, Sequence[str]]:
            return r, recipient.formats

        with _counted(store) as prepared:
            prepare_deliveries(store, settings, d, run.id, render_for, lambda: NOW)
        # Reading the run and its rows, the ids made and read in one go, the rows inserted.
        assert len(prepared) <= 12, prepared
        ids = [row.id for row in ledger.for_run(store, run.id)]
        with _counted(store) as sent:
            out = send_batch(store, settings, ids, by="job:1")
        assert [x.status for x in out] == ["sent"] * PEOPLE
        assert len(srv.handler.messages) == PEOPLE
        # Per message: 'sending', then 'sent'; per ten: one claim; per batch: a few reads.
        assert sent.count("UPDATE") == 2 * PEOPLE + PEOPLE // 10, sent
        assert len(sent) <= 2 * PEOPLE + PEOPLE // 10 + 6, sent
    finally:
        store.close()
        srv.stop()


def test_a_delivery_clears_the_bounce_count_of_an_address_that_had_one(
    tmp_path: Path, database_url: str
) -> None:
    srv = SmtpServer(tmp_path).start()
    store = open_store(database_url)
    try:
        people = recipients(3)
        settings, d = make_settings(tmp_path, people, smtp=srv.settings())
        store.record_bounce("R001@example.org", "morning|2026-11-24", "550 no", NOW, 3)
        run = store.claim_run("morning", "2026-11-25", NOW)
        prepare_deliveries(
            store, settings, d, run.id, lambda p: (linked_rendered(), p.formats), lambda: NOW
        )
        out = send_batch(store, settings, [row.id for row in ledger.for_run(store, run.id)])
        assert [x.status for x in out] == ["sent"] * 3
        assert store.bounced() == ()
    finally:
        store.close()
        srv.stop()
