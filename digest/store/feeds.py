"""Feed and article queries: feed state and added feeds, stored articles and fingerprints.

A fetch pass stores with `store_feeds`: several feeds' articles and states in one transaction,
each feed's articles in one statement (digest/store/inserts.py), states in one upsert.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from digest.models import Article, FeedSource, FeedState
from digest.store.base import StoreBase
from digest.store.inserts import Key, insert_articles, key_of
from digest.store.schema import STALE_FINGERPRINT, articles, feeds

_STATE = (
    "title", "etag", "last_modified", "error_count", "last_error", "last_success_at",
    "next_check_at", "disabled", "settings_key",
)  # fmt: skip


class FeedQueries(StoreBase):
    """The Store's feed and article queries."""

    # Kept here by the fetch stage between passes of one process (the service): its
    # near-duplicate index, so it is read from the database once, then only extended.
    fingerprint_cache: object | None = None

    # -- feeds -----------------------------------------------------------------------------

    def feed_state(self, url: str) -> FeedState:
        """Return the stored state of a feed (a blank state for a feed never fetched)."""
        with self.begin() as conn:
            row = conn.execute(sa.select(feeds).where(feeds.c.url == url)).mappings().first()
        return _feed_state(row) if row else FeedState(url=url)

    def feed_states(self) -> tuple[FeedState, ...]:
        """Return the state of every feed the store knows, by URL."""
        with self.begin() as conn:
            rows = conn.execute(sa.select(feeds).order_by(feeds.c.url)).mappings().all()
        return tuple(_feed_state(r) for r in rows)

    def save_feed_state(self, state: FeedState) -> None:
        """Insert or update a feed's state."""
        with self.begin() as conn:
            self._upsert_feed(conn, state.url, _state_values(state))

    def store_feeds(
        self, writes: Sequence[tuple[FeedState, Sequence[Article]]]
    ) -> tuple[tuple[int, ...], ...]:
        """Store feeds' articles and states in one transaction; return each one's new rows' ids.

        Articles already stored (by feed+guid or URL) are skipped, as in add_articles.
        """
        with self.begin() as conn:
            new = tuple(tuple(self._insert_rows(conn, items).values()) for _, items in writes)
            self._upsert_states(conn, [state for state, _ in writes])
        return new

    def _upsert_states(self, conn: Connection, states: Sequence[FeedState]) -> None:
        if not states:
            return
        latest = {s.url: s for s in states}  # one row per URL: the last state given wins
        insert = (postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert)(
            feeds
        )
        stmt = insert.on_conflict_do_update(
            index_elements=[feeds.c.url], set_={c: insert.excluded[c] for c in _STATE}
        )
        conn.execute(stmt, [{"url": s.url, **_state_values(s)} for s in latest.values()])

    def _upsert_feed(self, conn: Connection, url: str, values: dict[str, Any]) -> None:
        updated = conn.execute(sa.update(feeds).where(feeds.c.url == url).values(**values))
        if updated.rowcount == 0:
            conn.execute(sa.insert(feeds).values(url=url, **values))

    def added_feeds(self) -> tuple[FeedSource, ...]:
        """Return the feeds added with `digest feeds add` (beside the configured ones)."""
        with self.begin() as conn:
            rows = conn.execute(sa.select(feeds).where(feeds.c.added)).mappings().all()
        return tuple(
            FeedSource(url=r["url"], name=r["name"], tags=tuple(json.loads(r["tags"])))
            for r in rows
        )

    def add_feed(self, source: FeedSource) -> None:
        """Remember a feed added from the command line."""
        with self.begin() as conn:
            self._upsert_feed(
                conn,
                source.url,
                {"added": True, "name": source.name, "tags": json.dumps(list(source.tags))},
            )

    def remove_feed(self, url: str) -> bool:
        """Forget a feed's state (its articles stay); return whether it was known."""
        with self.begin() as conn:
            return conn.execute(sa.delete(feeds).where(feeds.c.url == url)).rowcount > 0

    # -- articles --------------------------------------------------------------------------

    def add_articles(self, items: Iterable[Article]) -> tuple[Article, ...]:
        """Insert articles, skipping any already stored by feed+guid or URL; return the new ones."""
        with self.begin() as conn:
            ids = self._insert_rows(conn, items := list(items))
        return tuple(replace(a, id=ids[k]) for a in items if (k := key_of(a)) in ids)

    def _insert_rows(self, conn: Connection, items: Sequence[Article]) -> dict[Key, int]:
        """Insert the articles not stored yet; return the new rows' ids by feed, guid and URL."""
        return insert_articles(conn, items, self.insert_ignore(articles))

    def pending_pages(self, feed_urls: Sequence[str], limit: int) -> tuple[Article, ...]:
        """Return up to limit articles of these feeds whose page is pending, oldest first."""
        query = (
            sa.select(articles)
            .where(articles.c.page_pending, articles.c.feed_url.in_(list(feed_urls)))
            .order_by(articles.c.fetched, articles.c.id)
            .limit(limit)
        )
        with self.begin() as conn:
            return tuple(_article(r) for r in conn.execute(query).mappings())

    def save_pages(self, fetched: Sequence[Article], failed: Sequence[int], attempts: int) -> None:
        """Store the text of pending pages now fetched (by id) and count an attempt for each
        failed one, which is given up (feed text kept) at its attempts-th failure."""
        with self.begin() as conn:
            if fetched:
                stmt = (
                    sa.update(articles)
                    .where(articles.c.id == sa.bindparam("_id"))
                    .values(
                        text=sa.bindparam("_text"),
                        fingerprint=sa.bindparam("_fingerprint"),
                        language=sa.bindparam("_language"),
                        image_url=sa.bindparam("_image_url"),
                        page_pending=False,
                    )
                )
                conn.execute(stmt, [_page_row(a) for a in fetched])
            if failed:
                tried = articles.c.page_attempts + 1
                conn.execute(
                    sa.update(articles)
                    .where(articles.c.id.in_(list(failed)))
                    .values(page_attempts=tried, page_pending=tried < attempts)
                )

    def has_fingerprint(self, fingerprint: str) -> bool:
        """Return True when an article with this text fingerprint is already stored."""
        with self.begin() as conn:
            return (
                conn.execute(
                    sa.select(articles.c.id).where(articles.c.fingerprint == fingerprint).limit(1)
                ).first()
                is not None
            )

    def refresh_fingerprints(self, compute: Callable[[str], str]) -> int:
        """Recompute fingerprints marked stale by schema v5; return how many groups changed.

        A stored fingerprint names a group of near duplicates (each copy has its first
        copy's), so each group gets compute() of its first article's text (or title): the
        groups stay as they were, and new copies of stored texts are still recognised.
        """
        c = articles.c
        marked = c.fingerprint.startswith(STALE_FINGERPRINT, autoescape=True)
        with self.begin() as conn:
            firsts = sa.select(sa.func.min(c.id)).where(marked).group_by(c.fingerprint)
            ids = list(conn.execute(firsts).scalars())
            renamed: dict[str, str] = {}
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                query = sa.select(c.fingerprint, c.text, c.title).where(c.id.in_(chunk))
                renamed.update(
                    (old, compute(text or title)) for old, text, title in conn.execute(query)
                )
            rows = conn.execute(sa.select(c.id, c.fingerprint).where(marked))
            updates = [{"_id": i, "_fp": renamed[old]} for i, old in rows]
            if updates:
                update = sa.update(articles).where(c.id == sa.bindparam("_id"))
                conn.execute(update.values(fingerprint=sa.bindparam("_fp")), updates)
        return len(renamed)

    def stored_guids(self, feed_url: str) -> frozenset[str]:
        """Return the guids already stored for a feed (so known entries are not re-fetched)."""
        with self.begin() as conn:
            rows = conn.execute(sa.select(articles.c.guid).where(articles.c.feed_url == feed_url))
            return frozenset(r[0] for r in rows)

    def fingerprints_since(
        self, since: datetime, after_id: int = 0
    ) -> tuple[tuple[int, str, datetime], ...]:
        """Return (id, fingerprint, fetched) of articles fetched since a time with id > after_id."""
        query = sa.select(articles.c.id, articles.c.fingerprint, articles.c.fetched).where(
            articles.c.fetched >= since, articles.c.fingerprint != "", articles.c.id > after_id
        )
        with self.begin() as conn:
            return tuple((r[0], r[1], r[2]) for r in conn.execute(query.order_by(articles.c.id)))

    def articles_between(
        self,
        start: datetime,
        end: datetime,
        feed_urls: Sequence[str] | None = None,
        *,
        period: bool = False,
    ) -> tuple[Article, ...]:
        """Return the articles published in [start, end) (a digest period: in (start, end]),
        oldest first (then by URL), by feed.

        A period includes its end: an item its run's own fetch stored without a date (or
        dated ahead, clamped) is dated that very end, and belongs to this period, not the
        next. Ties go by URL, not by id: ids follow the order concurrent fetches finished in,
        and a digest built from the same articles must come out the same.
        """
        published = articles.c.published
        within = (
            (published > start, published <= end)
            if period
            else (published >= start, published < end)
        )
        query = sa.select(articles).where(*within)
        if feed_urls is not None:
            query = query.where(articles.c.feed_url.in_(list(feed_urls)))
        with self.begin() as conn:
            rows = conn.execute(query.order_by(articles.c.published, articles.c.url)).mappings()
            return tuple(_article(r) for r in rows)

    def article_count(self) -> int:
        """Return how many articles are stored."""
        with self.begin() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(articles)).scalar_one())


def _feed_state(r: Any) -> FeedState:
    return FeedState(
        url=r["url"],
        title=r["title"] or "",
        etag=r["etag"],
        last_modified=r["last_modified"],
        error_count=r["error_count"] or 0,
        last_error=r["last_error"],
        last_success_at=r["last_success_at"],
        next_check_at=r["next_check_at"],
        disabled=bool(r["disabled"]),
        settings_key=r["settings_key"] or "",
    )


def _article(r: Any) -> Article:
    return Article(
        id=r["id"],
        feed_url=r["feed_url"],
        source=r["source"],
        guid=r["guid"],
        url=r["url"],
        title=r["title"],
        published=r["published"],
        fetched=r["fetched"],
        text=r["text"],
        language=r["language"],
        fingerprint=r["fingerprint"],
        tags=tuple(json.loads(r["tags"])),
        image_url=r["image_url"],
        page_pending=bool(r["page_pending"]),
        outlet=r["outlet"] or "",
    )


def _state_values(state: FeedState) -> dict[str, Any]:
    return {c: getattr(state, c) for c in _STATE}


def _page_row(a: Article) -> dict[str, Any]:
    return {
        "_id": a.id,
        "_text": a.text,
        "_fingerprint": a.fingerprint,
        "_language": a.language,
        "_image_url": a.image_url,
    }
