"""inserts: SQLite's executemany stores the rows and returns the ids RETURNING would."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.dialects import sqlite

from digest.errors import StoreError
from digest.models import Article, FeedState
from digest.store import inserts
from digest.store.database import open_store
from digest.store.schema import articles

NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


def _article(n: int, feed: int = 0, **kw: Any) -> Article:
    base = Article(
        feed_url=f"https://f{feed}.example/rss", source=f"F{feed}", guid=f"g{n}",
        url=f"https://e.example/{n}", title=f"Title {n}",
        # Other zones and microseconds: stored as UTC, as SQLAlchemy's processors do.
        published=(NOW - timedelta(minutes=n, microseconds=n)).astimezone(
            timezone(timedelta(hours=n % 5))
        ),
        text=f"Текст {n}.", language="ru", fingerprint=f"{n:0128x}", fetched=NOW,
        tags=("world", "n") if n % 2 else (), image_url=f"https://i.example/{n}" if n % 3 else None,
        page_pending=n % 4 == 0,
    )  # fmt: skip
    return replace(base, **kw)


def _passes() -> list[list[tuple[FeedState, list[Article]]]]:
    """Return three transactions of feeds, with repeats within a feed, across feeds of one
    transaction, and of rows stored by an earlier one."""
    first = [_article(n) for n in range(6)]
    first += [
        replace(_article(1), url="https://e.example/other"),  # the feed repeats a guid
        replace(_article(2), guid="new guid"),  # the same URL under another guid
        _article(6, fetched=None),  # fetched falls back to published
    ]
    second = [_article(n, feed=1) for n in (3, 7, 8)]  # URL 3 is feed 0's already
    third = [_article(n) for n in (0, 9, 5, 10)] + [_article(11, feed=1)]
    return [
        [(FeedState("f0"), first), (FeedState("f1"), second)],
        [(FeedState("f0"), third[:4]), (FeedState("f1"), third[4:])],
        [(FeedState("f0"), first[:3])],  # nothing new
    ]


def _rows(db: Path) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT * FROM articles ORDER BY id").fetchall()
    finally:
        con.close()


def _returning(conn: Any, unique: Any) -> dict[inserts.Key, int]:
    return inserts.insert_returning(conn, unique, sqlite.insert(articles).on_conflict_do_nothing())


def test_executemany_stores_and_returns_what_returning_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = []
    for name in ("many", "returning"):
        if name == "returning":  # the multi-row INSERT ... RETURNING other databases get
            monkeypatch.setattr(inserts, "insert_many", _returning)
        store = open_store(f"sqlite:///{tmp_path / name}.sqlite3")
        results.append([store.store_feeds(p) for p in _passes()])
        store.close()
    assert results[0] == results[1]
    assert _rows(tmp_path / "many.sqlite3") == _rows(tmp_path / "returning.sqlite3")
    # Ids of the new rows only, in order, per feed: 7 of feed 0's 9 and 2 of feed 1's 3,
    # then 2 and 1 (0 and 5 were stored), then nothing.
    assert results[0] == [((1, 2, 3, 4, 5, 6, 7), (8, 9)), ((10, 11), (12,)), ((),)]
    stored = _rows(tmp_path / "many.sqlite3")
    assert [(r[0], r[3]) for r in stored][:3] == [(1, "g0"), (2, "g1"), (3, "g2")]
    assert stored[6][6] == stored[6][7]  # fetched = published when not given
    assert stored[0][6] == "2026-11-25 07:00:00.000000"  # as SQLAlchemy's DATETIME writes it


def test_rows_another_writer_added_are_never_taken_for_new_ones(database_url: str) -> None:
    url = database_url
    store, other = open_store(url), open_store(url)
    mine = [a.id for a in store.add_articles([_article(n) for n in range(3)])]
    theirs = [a.id for a in other.add_articles([_article(n) for n in range(2, 5)])]
    assert len(mine) == 3 and len(theirs) == 2  # g2 was stored already
    new = store.add_articles([_article(n) for n in (4, 5, 1, 6)])
    assert [a.guid for a in new] == ["g5", "g6"]
    ids = [a.id for a in new]
    assert len(set(mine + theirs + ids)) == 7 and min(ids) > max(mine + theirs)
    if url.startswith("sqlite"):  # SQLite gives the largest id plus one (PostgreSQL a sequence)
        assert ids == [6, 7]
    store.close()
    other.close()


def test_a_new_row_that_is_not_the_newest_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # If SQLite ever gave a new row a lower id than the newest (its ids exhausted), the ids
    # read back would name other rows: refused, and nothing is stored.
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    store.add_articles([_article(1)])
    monkeypatch.setattr(inserts, "_NEWEST", "SELECT id, feed_url, guid, url FROM articles LIMIT ?")
    with pytest.raises(StoreError, match="highest ids"):
        store.add_articles([_article(2)])
    assert store.article_count() == 1
