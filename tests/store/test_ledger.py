"""ledger: the deliveries table's rules, on a real SQLite file and a PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from smtpserver import NOW

from digest.models import MessageParts
from digest.store import ledger
from digest.store.database import Store, open_store

LEASE = timedelta(minutes=2)
MSG = MessageParts(head=b"Subject: x\r\n", body=b"\r\nbody\r\n")
NEW = MessageParts(head=b"Subject: new\r\n", body=b"\r\nbody\r\n", token="t0k")


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = open_store(database_url)
    yield s
    s.close()


def _row(store: Store, recipient: str = "a@example.org", period: str = "p1") -> ledger.LedgerRow:
    run = store.claim_run("morning", period, NOW)
    return ledger.create(
        store,
        run.id,
        recipient,
        message=MSG,
        message_id="<m1@x>",
        now=NOW,
    )


def test_create_keeps_the_first_row_and_its_bytes(store: Store) -> None:
    first = _row(store)
    again = ledger.create(
        store,
        first.run_id,
        first.recipient,
        message=MessageParts(b"Subject: y\r\n", b"\r\nother\r\n"),
        message_id="<m2@x>",
        now=NOW,
    )
    assert again == first and again.message_id == "<m1@x>"
    assert ledger.message(store, first.id) == MSG
    assert (first.digest, first.period_key, first.status) == ("morning", "p1", "pending")
    assert ledger.find_by(store, "morning", "p1", "a@example.org") == first
    assert ledger.run_key(store, first.run_id) == ("morning", "p1")


def test_claim_is_exclusive_until_the_lease_ends(store: Store) -> None:
    row = _row(store)
    assert ledger.claim(store, row.id, NOW, LEASE) == MSG
    assert ledger.claim(store, row.id, NOW, LEASE) is None  # a second process gets nothing
    assert ledger.due(store, NOW + timedelta(minutes=1)) == ()
    # The claimer died before the final dot: after the lease the row is due again.
    (due,) = ledger.due(store, NOW + LEASE)
    assert due.attempts == 1
    assert ledger.claim(store, row.id, NOW + LEASE, LEASE) is not None


def test_sent_written_failed_and_sending_rows_are_never_due(store: Store) -> None:
    rows = [_row(store, f"{s}@example.org") for s in ("sent", "written", "failed", "sending")]
    ledger.mark_done(store, rows[0].id, "sent", NOW)
    ledger.mark_done(store, rows[1].id, "written", NOW, "/out/x.eml")
    ledger.mark_failed(store, rows[2].id, "deliver: failed@example.org: 550 no", NOW)
    ledger.mark_sending(store, rows[3].id, NOW)
    later = NOW + timedelta(days=30)
    assert ledger.due(store, later) == ()
    assert all(ledger.claim(store, r.id, later, LEASE) is None for r in rows)
    assert ledger.undelivered(store) == 2
    unknown = ledger.get(store, rows[3].id)
    assert unknown is not None
    delivery = unknown.to_delivery()
    assert delivery.status == "failed" and delivery.error is not None
    assert f"digest resend {rows[3].id}" in delivery.error


def test_retry_is_due_at_its_time_and_requeue_makes_it_due_now(store: Store) -> None:
    row = _row(store)
    ledger.claim(store, row.id, NOW, LEASE)
    ledger.mark_retry(store, row.id, "deliver: x: 451 busy", NOW, NOW + timedelta(minutes=1))
    assert ledger.due(store, NOW + timedelta(seconds=59)) == ()
    (due,) = ledger.due(store, NOW + timedelta(minutes=1))
    assert (due.status, due.error, due.attempts) == ("retry", "deliver: x: 451 busy", 1)
    ledger.mark_done(store, row.id, "sent", NOW)
    ledger.requeue(store, row.id, NEW, "<m3@x>", NOW + timedelta(hours=1))
    (due,) = ledger.due(store, NOW + timedelta(hours=1))
    assert (due.status, due.message_id) == ("pending", "<m3@x>")
    assert ledger.message(store, row.id) == NEW


def test_listing_filters_by_digest_and_status(store: Store) -> None:
    a = _row(store, "a@example.org", "p1")
    b = _row(store, "b@example.org", "p2")
    ledger.mark_done(store, a.id, "sent", NOW)
    assert [r.recipient for r in ledger.listing(store)] == ["b@example.org", "a@example.org"]
    assert [r.id for r in ledger.listing(store, statuses=["sent"])] == [a.id]
    assert ledger.listing(store, digest="evening") == ()
    assert [r.id for r in ledger.for_run(store, b.run_id)] == [b.id]


def test_rebuild_fills_only_a_failed_row_without_bytes(store: Store) -> None:
    run = store.claim_run("morning", "p1", NOW)
    unbuilt = ledger.create(
        store, run.id, "b@example.org", message=None, message_id="<m1@x>", now=NOW,
        status="failed", error="render: pdf: font missing",
    )  # fmt: skip
    assert (unbuilt.built, ledger.due(store, NOW + timedelta(days=1))) == (False, ())
    later = NOW + timedelta(hours=1)
    ledger.rebuild(store, unbuilt.id, message=None, message_id="<m1@x>", now=later, error="again")
    failed = ledger.get(store, unbuilt.id)
    assert failed is not None and (failed.status, failed.error, failed.built) == (
        "failed", "again", False,
    )  # fmt: skip
    ledger.rebuild(store, unbuilt.id, message=MSG, message_id="<m1@x>", now=later)
    (due,) = ledger.due(store, later)
    assert (due.id, due.status, due.built, due.error) == (unbuilt.id, "pending", True, None)
    # A built row is never rebuilt: its bytes and Message-ID stay.
    ledger.rebuild(
        store,
        unbuilt.id,
        message=MessageParts(b"Subject: y\r\n", b"\r\nother\r\n"),
        message_id="<m2@x>",
        now=later,
    )
    assert ledger.message(store, unbuilt.id) == MSG


def test_release_frees_only_the_dead_holders_leased_rows(store: Store) -> None:
    rows = [_row(store, f"{n}@example.org") for n in "abc"]
    assert ledger.claim(store, rows[0].id, NOW, LEASE, by="job:7") is not None
    assert ledger.claim(store, rows[1].id, NOW, LEASE, by="job:7") is not None
    assert ledger.claim(store, rows[2].id, NOW, LEASE, by="job:8") is not None
    ledger.mark_sending(store, rows[1].id, NOW)  # its final dot may have gone: stays sending
    assert ledger.due_ids(store, NOW + timedelta(seconds=1)) == ()
    assert ledger.release(store, "job:7", NOW + timedelta(seconds=1)) == 1
    assert ledger.due_ids(store, NOW + timedelta(seconds=1)) == (rows[0].id,)
    assert ledger.release(store, "job:7", NOW + timedelta(seconds=2)) == 0
