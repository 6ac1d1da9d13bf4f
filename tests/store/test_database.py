from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from digest.errors import StoreError
from digest.models import Article, FeedSource, FeedState, PastEvent, RunReport
from digest.store.database import open_store
from digest.store.schema import MIGRATIONS

NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


def article(n: int, **kw: object) -> Article:
    base = Article(
        feed_url="https://a.example/rss",
        source="A",
        guid=f"g{n}",
        url=f"https://a.example/{n}",
        title=f"Title {n}",
        published=NOW - timedelta(hours=n),
        text=f"Text {n}.",
        language="en",
        tags=("world",),
        fetched=NOW,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def test_sqlite_file_is_wal_and_migrated(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "d.sqlite3"
    store = open_store(f"sqlite:///{db}")
    store.close()
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT max(version) FROM schema_version").fetchone()[0] == len(MIGRATIONS)
    con.close()
    open_store(f"sqlite:///{db}").close()  # reopening applies nothing twice


def test_articles_deduplicated_by_guid_and_url(database_url: str) -> None:
    store = open_store(database_url)
    first = store.add_articles([article(1), article(2)])
    assert [a.title for a in first] == ["Title 1", "Title 2"] and all(a.id for a in first)
    again = store.add_articles(
        [
            article(1),
            article(3, url="https://a.example/2"),
            article(4, guid="g1", feed_url="https://b.example/rss"),
        ]
    )
    assert [a.guid for a in again] == ["g1"]  # same guid in another feed with a new URL is new
    assert store.article_count() == 3
    store.close()


def test_articles_between_returns_aware_times_in_order(database_url: str) -> None:
    store = open_store(database_url)
    store.add_articles([article(n) for n in range(1, 6)])
    got = store.articles_between(NOW - timedelta(hours=3, minutes=30), NOW)
    assert [a.guid for a in got] == ["g3", "g2", "g1"]
    assert got[0].published.tzinfo is not None and got[0].tags == ("world",)
    assert store.articles_between(NOW - timedelta(days=1), NOW, ["https://b.example/rss"]) == ()
    store.close()


def test_feed_state_round_trip(database_url: str) -> None:
    store = open_store(database_url)
    assert store.feed_state("https://x/rss") == FeedState(url="https://x/rss")
    state = FeedState(
        url="https://x/rss",
        etag='"abc"',
        error_count=2,
        last_error="HTTP 500",
        next_check_at=NOW,
        disabled=False,
    )
    store.save_feed_state(state)
    store.save_feed_state(replace(state, error_count=3))
    assert store.feed_state("https://x/rss") == replace(state, error_count=3)
    store.add_feed(FeedSource(url="https://y/rss", name="Y", tags=("tech",)))
    assert store.added_feeds() == (FeedSource(url="https://y/rss", name="Y", tags=("tech",)),)
    assert store.remove_feed("https://y/rss") and not store.remove_feed("https://y/rss")
    store.close()


def test_runs_are_unique_per_period(database_url: str) -> None:
    store = open_store(database_url)
    run = store.claim_run("morning", "2026-11-25T07:00+0000", NOW)
    assert store.claim_run("morning", "2026-11-25T07:00+0000", NOW).id == run.id
    store.finish_run(run.id, RunReport("morning", "2026-11-25T07:00+0000"), NOW)
    assert store.get_run("morning", "2026-11-25T07:00+0000").status == "done"  # type: ignore[union-attr]
    assert store.get_run("morning", "other") is None
    store.record_events(run.id, "morning", NOW, [PastEvent("k", "H", NOW, ("https://u",))])
    past = store.past_events("morning", NOW - timedelta(days=1), NOW + timedelta(seconds=1))
    assert past == (PastEvent("k", "H", NOW, ("https://u",)),)
    store.close()


def test_naive_datetimes_are_refused(database_url: str) -> None:
    store = open_store(database_url)
    with pytest.raises(StoreError, match="naive datetime"):
        store.add_articles([article(1, published=datetime(2026, 1, 1))])
    store.close()


def test_unwritable_data_dir_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create data directory"):
        open_store(f"sqlite:///{blocker / 'db' / 'd.sqlite3'}")


def test_prune_forgets_old_articles_and_sent_messages_but_keeps_the_ledger(
    database_url: str,
) -> None:
    from digest.models import MessageParts
    from digest.store import ledger

    store = open_store(database_url)
    old = NOW - timedelta(days=100)
    store.add_articles([article(1, published=old, fetched=old), article(2)])
    runs = [store.claim_run("m", key, old) for key in ("old", "older")]
    store.record_events(runs[0].id, "m", old, [PastEvent("k", "H", old, ("https://u",))])
    made = [
        ledger.create(
            store, run.id, who, message=MessageParts(b"To: " + who.encode() + b"\r\n", b"\r\nMIME"),
            message_id="<m@x>", now=old,
        )
        for run, who in ((runs[0], "a@x.org"), (runs[0], "b@x.org"), (runs[1], "c@x.org"))
    ]  # fmt: skip
    ledger.mark_done(store, made[0].id, "sent", old)
    ledger.mark_done(store, made[2].id, "sent", old)
    assert ledger.stored_bytes(store)["bodies"] == 2 * len(b"\r\nMIME")
    assert store.prune(NOW - timedelta(days=90)) == {
        "articles": 1,
        "events": 1,
        "messages": 2,
        "llm_replies": 0,
    }
    assert [a.guid for a in store.articles_between(old, NOW + timedelta(1))] == ["g2"]
    kept = [(r.recipient, r.status, ledger.message(store, r.id)) for r in ledger.listing(store)]
    assert sorted(kept, key=lambda k: k[0]) == [
        ("a@x.org", "sent", None),
        ("b@x.org", "pending", MessageParts(b"To: b@x.org\r\n", b"\r\nMIME")),
        ("c@x.org", "sent", None),
    ]
    # The body of the run whose every message went is gone; the other's still serves b.
    assert ledger.stored_bytes(store)["bodies"] == len(b"\r\nMIME")
    store.close()


def test_the_marker_is_written_with_the_first_run_and_guards_the_file(tmp_path: Path) -> None:
    db = tmp_path / "d.sqlite3"
    marker = tmp_path / "d.sqlite3.has-runs"
    store = open_store(f"sqlite:///{db}")
    assert not marker.exists()  # a new, empty database may be recreated freely
    store.claim_run("morning", "2026-11-25T07:00+0000", NOW)
    store.close()
    assert "restore it from a backup" in marker.read_text(encoding="utf-8")
    for wal in tmp_path.glob("d.sqlite3-*"):
        wal.unlink()
    db.write_bytes(b"")
    with pytest.raises(StoreError, match=r"the database is empty \(0 bytes\), but .*has-runs"):
        open_store(f"sqlite:///{db}")
    db.unlink()
    with pytest.raises(StoreError, match=r"the database is missing, but "):
        open_store(f"sqlite:///{db}")
    assert not db.exists()  # refused, not recreated
    marker.unlink()  # the operator starts afresh on purpose
    open_store(f"sqlite:///{db}").close()
    assert db.stat().st_size > 0


def test_a_database_with_runs_from_before_markers_gets_one_when_opened(tmp_path: Path) -> None:
    db = tmp_path / "d.sqlite3"
    store = open_store(f"sqlite:///{db}")
    store.claim_run("morning", "2026-11-25T07:00+0000", NOW)
    store.close()
    marker = tmp_path / "d.sqlite3.has-runs"
    marker.unlink()
    open_store(f"sqlite:///{db}").close()
    assert marker.is_file()


def test_a_database_from_before_pending_pages_gets_the_columns(tmp_path: Path) -> None:
    db = tmp_path / "d.sqlite3"
    store = open_store(f"sqlite:///{db}")
    store.add_articles([article(1)])
    store.close()
    # Back to the v3 schema: the articles table as it was before migration v4.
    con = sqlite3.connect(db)
    con.execute("DROP INDEX ix_articles_page_pending")
    con.execute("ALTER TABLE articles DROP COLUMN page_pending")
    con.execute("ALTER TABLE articles DROP COLUMN page_attempts")
    con.execute("DELETE FROM schema_version WHERE version >= 4")
    con.commit()
    con.close()
    store = open_store(f"sqlite:///{db}")
    store.add_articles([article(2, page_pending=True)])
    (old,) = store.articles_between(NOW - timedelta(hours=1, minutes=1), NOW)
    assert old.guid == "g1" and not old.page_pending
    assert [a.guid for a in store.pending_pages(["https://a.example/rss"], 5)] == ["g2"]
    store.close()
    con = sqlite3.connect(db)
    assert con.execute("SELECT max(version) FROM schema_version").fetchone()[0] == len(MIGRATIONS)
    con.close()


def test_a_database_migrated_by_a_newer_digest_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.sqlite3'}"
    open_store(url).close()
    with sqlite3.connect(tmp_path / "d.sqlite3") as conn:
        conn.execute(
            "INSERT INTO schema_version (version, applied_at) VALUES (?, '2030-01-01')",
            (len(MIGRATIONS) + 1,),
        )
    conn.close()
    with pytest.raises(StoreError, match="newer than this digest's"):
        open_store(url)
