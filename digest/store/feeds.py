"""Feed and article queries: feed state and added feeds, stored articles and fingerprints."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from digest.models import Article, FeedSource, FeedState
from digest.store.base import StoreBase
from digest.store.schema import articles, feeds


class FeedQueries(StoreBase):
    """The Store's feed and article queries."""

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
        values = {
            "title": state.title,
            "etag": state.etag,
            "last_modified": state.last_modified,
            "error_count": state.error_count,
            "last_error": state.last_error,
            "last_success_at": state.last_success_at,
            "next_check_at": state.next_check_at,
            "disabled": state.disabled,
        }
        with self.begin() as conn:
            self._upsert_feed(conn, state.url, values)

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
        new: list[Article] = []
        with self.begin() as conn:
            for a in items:
                stmt = self.insert_ignore(articles).values(
                    feed_url=a.feed_url,
                    source=a.source,
                    guid=a.guid,
                    url=a.url,
                    title=a.title,
                    published=a.published,
                    fetched=a.fetched or a.published,
                    text=a.text,
                    language=a.language,
                    fingerprint=a.fingerprint,
                    tags=json.dumps(list(a.tags)),
                    image_url=a.image_url,
                )
                result = conn.execute(stmt)
                if result.rowcount:
                    key = result.inserted_primary_key
                    new.append(_with_id(a, int(key[0]) if key and key[0] is not None else None))
        return tuple(new)

    def has_fingerprint(self, fingerprint: str) -> bool:
        """Return True when an article with this text fingerprint is already stored."""
        with self.begin() as conn:
            return (
                conn.execute(
                    sa.select(articles.c.id).where(articles.c.fingerprint == fingerprint).limit(1)
                ).first()
                is not None
            )

    def stored_guids(self, feed_url: str) -> frozenset[str]:
        """Return the guids already stored for a feed (so known entries are not re-fetched)."""
        with self.begin() as conn:
            rows = conn.execute(sa.select(articles.c.guid).where(articles.c.feed_url == feed_url))
            return frozenset(r[0] for r in rows)

    def recent_fingerprints(self, since: datetime) -> tuple[str, ...]:
        """Return the non-empty text fingerprints of articles fetched since a time."""
        query = sa.select(articles.c.fingerprint).where(
            articles.c.fetched >= since, articles.c.fingerprint != ""
        )
        with self.begin() as conn:
            return tuple(dict.fromkeys(r[0] for r in conn.execute(query.order_by(articles.c.id))))

    def articles_between(
        self, start: datetime, end: datetime, feed_urls: Sequence[str] | None = None
    ) -> tuple[Article, ...]:
        """Return the articles published in [start, end), oldest first (then by URL), by feed.

        Ties go by URL, not by id: ids follow the order concurrent fetches finished in, and
        a digest built from the same articles must come out the same.
        """
        query = sa.select(articles).where(articles.c.published >= start, articles.c.published < end)
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
    )


def _with_id(a: Article, article_id: int | None) -> Article:
    from dataclasses import replace

    return replace(a, id=article_id)
