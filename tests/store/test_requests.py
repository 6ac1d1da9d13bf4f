"""Opt-outs and hand-over requests in a real SQLite file, and the migration that adds them."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from digest.store import ALL_DIGESTS
from digest.store.database import open_store

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def test_a_version_2_database_gains_the_new_tables(tmp_path: Path) -> None:
    path = tmp_path / "digest.db"
    open_store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:  # as a database made before this change
        conn.execute("DROP TABLE opt_outs")
        conn.execute("DROP TABLE requests")
        conn.execute("DELETE FROM schema_version WHERE version >= 3")
    store = open_store(f"sqlite:///{path}")
    assert store.opt_out("morning", "Bob@Example.org", "cli", NOW)
    assert store.opted_out("morning") == frozenset({"bob@example.org"})
    store.close()


def test_opt_outs_per_digest_and_for_all(database_url: str) -> None:
    store = open_store(database_url)
    assert store.opt_out("morning", "a@example.org", "one-click", NOW)
    assert not store.opt_out("morning", "A@example.org", "cli", NOW)  # recorded once
    assert store.opt_out(ALL_DIGESTS, "b@example.org", "cli", NOW)
    assert store.opted_out("morning") == {"a@example.org", "b@example.org"}
    assert store.opted_out("evening") == {"b@example.org"}
    assert store.opt_in(ALL_DIGESTS, "b@example.org") and not store.opt_in("x", "b@example.org")
    assert [(o.digest, o.address, o.how) for o in store.opt_outs()] == [
        ("morning", "a@example.org", "one-click")
    ]
    store.close()


def test_a_request_is_taken_once_and_a_taken_one_cannot_be_cancelled(database_url: str) -> None:
    store = open_store(database_url)
    first = store.add_request("run", '{"digests": []}', NOW)
    second = store.add_request("run", "{}", NOW)
    assert store.cancel_request(second, NOW)
    taken = store.take_request(NOW)
    assert taken is not None and taken.id == first and taken.status == "taken"
    assert store.take_request(NOW) is None  # the other was cancelled, this one is taken
    assert not store.cancel_request(first, NOW)
    store.finish_request(first, '{"reports": []}', NOW)
    done = store.get_request(first)
    assert done is not None and done.status == "done" and done.result == '{"reports": []}'
    store.close()
