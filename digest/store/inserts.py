"""Insert articles not stored yet (by feed+guid or URL) and return the new rows' ids.

Any database: one multi-row INSERT ... ON CONFLICT DO NOTHING RETURNING per call (a
statement per article cost more than parsing it). SQLAlchemy processes every value of
every row of it in Python: ~30 us a row, most of the storage thread's insert CPU in a fetch
pass on SQLite. So on SQLite each row is a tuple bound as it is, with the column
types' own bind processors run once per distinct value (a pass's fetch time, its few tag
lists), and the DB-API cursor's executemany inserts them.

executemany returns no rows, so the new ids are read back: SQLite gives a new row the
largest id plus one (no AUTOINCREMENT), and the INSERT holds the database's write lock until
the transaction ends, so the n rows inserted are the n highest ids. That is checked: rows
read back that are not this call's raise a StoreError (and the transaction is rolled back).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from digest.errors import StoreError
from digest.models import Article
from digest.store.schema import articles

Key = tuple[str, str, str]  # feed URL, guid, URL
_COLUMNS = (
    "feed_url", "source", "guid", "url", "title", "published", "fetched", "text", "language",
    "fingerprint", "tags", "image_url", "page_pending", "outlet",
)  # fmt: skip
_INSERT = (
    f"INSERT INTO articles ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
    "ON CONFLICT DO NOTHING"
)
_NEWEST = "SELECT id, feed_url, guid, url FROM articles ORDER BY id DESC LIMIT ?"


def key_of(a: Article) -> Key:
    """Return the key an article's new id is returned by."""
    return (a.feed_url, a.guid, a.url)


def insert_articles(
    conn: Connection, items: Sequence[Article], insert_ignore: Any
) -> dict[Key, int]:
    """Insert the items not stored yet; return the new rows' ids by key (insert_ignore: the
    dialect's INSERT INTO articles ... ON CONFLICT DO NOTHING, for other dialects than SQLite)."""
    unique = first_of_each(items)
    if not unique:
        return {}
    if conn.dialect.name == "sqlite":
        return insert_many(conn, unique)
    return insert_returning(conn, unique, insert_ignore)


def first_of_each(items: Sequence[Article]) -> list[Article]:
    """Return items without those repeating an earlier one's feed+guid or URL."""
    # Within one statement a repeated feed+guid or URL would be skipped by the database but
    # still match its key in RETURNING: keep the first, as inserting one by one would.
    keys: set[tuple[str, str]] = set()
    urls: set[str] = set()
    kept: list[Article] = []
    for a in items:
        if (a.feed_url, a.guid) not in keys and a.url not in urls:
            keys.add((a.feed_url, a.guid))
            urls.add(a.url)
            kept.append(a)
    return kept


def insert_returning(
    conn: Connection, unique: Sequence[Article], insert_ignore: Any
) -> dict[Key, int]:
    """Insert with one INSERT ... RETURNING (any dialect); return the new rows' ids by key."""
    # RETURNING names the rows really inserted (a conflict inserts nothing and returns
    # nothing), matched back by feed, guid and URL.
    key = (articles.c.feed_url, articles.c.guid, articles.c.url)
    stmt = insert_ignore.returning(articles.c.id, *key)
    rows = conn.execute(stmt, [_article_row(a) for a in unique]).all()
    return {(r.feed_url, r.guid, r.url): int(r.id) for r in rows}


def insert_many(conn: Connection, unique: Sequence[Article]) -> dict[Key, int]:
    """Insert with one executemany (SQLite); return the new rows' ids by key, in id order."""
    dialect = conn.dialect
    time, flag = (
        _Memo(articles.c[name].type.dialect_impl(dialect).bind_processor(dialect))
        for name in ("published", "page_pending")
    )
    tags = _Memo(lambda t: json.dumps(list(t)))
    rows = [
        (
            a.feed_url,
            a.source,
            a.guid,
            a.url,
            a.title,
            time(a.published),
            time(a.fetched or a.published),
            a.text,
            a.language,
            a.fingerprint,
            tags(a.tags),
            a.image_url,
            flag(a.page_pending),
            a.outlet,
        )
        for a in unique
    ]
    inserted = conn.exec_driver_sql(_INSERT, rows).rowcount
    if not inserted:
        return {}
    newest = conn.exec_driver_sql(_NEWEST, (inserted,)).all()
    new = {(r[1], r[2], r[3]): int(r[0]) for r in reversed(newest)}
    if len(new) != inserted or not new.keys() <= {key_of(a) for a in unique}:
        raise StoreError("articles", "the new rows are not the ones with the highest ids")
    return new


class _Memo:
    """A column's bind processor, run once per distinct value."""

    def __init__(self, process: Callable[[Any], Any] | None) -> None:
        self.process = process or (lambda value: value)
        self.done: dict[Hashable, Any] = {}

    def __call__(self, value: Hashable) -> Any:
        try:
            return self.done[value]
        except KeyError:
            out = self.done[value] = self.process(value)
            return out


def _article_row(a: Article) -> dict[str, Any]:
    return {
        "feed_url": a.feed_url,
        "source": a.source,
        "guid": a.guid,
        "url": a.url,
        "title": a.title,
        "published": a.published,
        "fetched": a.fetched or a.published,
        "text": a.text,
        "language": a.language,
        "fingerprint": a.fingerprint,
        "tags": json.dumps(list(a.tags)),
        "image_url": a.image_url,
        "page_pending": a.page_pending,
        "outlet": a.outlet,
    }
