"""The base the Store's query classes share: one engine, one short transaction per call."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from digest.errors import StoreError
from digest.store.schema import DATABASE_ID, store_meta

MARKER_SUFFIX = ".has-runs"
# The marker's line naming the database it vouches for (store_meta's database_id).
MARKER_ID = re.compile(r"^database-id: ([0-9a-f]{32})$", re.M)


def marker_id(marker: Path) -> str | None:
    """Return the database id a has-runs marker names (None for a marker without one)."""
    try:
        found = MARKER_ID.search(marker.read_text(encoding="utf-8", errors="replace"))
    except OSError as exc:
        raise StoreError(str(marker), f"cannot read the marker: {exc}") from exc
    return found.group(1) if found else None


class StoreBase:
    """The database connection: transactions mapped to StoreError, dialect-aware inserts."""

    def __init__(self, engine: Engine, marker: Path | None = None) -> None:
        self.engine = engine
        # Beside an SQLite file: written once a run is recorded, so that a lost or emptied
        # file is refused instead of being recreated empty (which would send every
        # recipient the current period again). None for other databases.
        self.marker = marker
        self._marked = False  # the marker names this database (checked or written once)

    def database_id(self) -> str | None:
        """Return the database's own id (store_meta), None when it has none (not ours)."""
        with self.begin() as conn:
            if not sa.inspect(conn).has_table(store_meta.name):
                return None
            query = sa.select(store_meta.c.value).where(store_meta.c.key == DATABASE_ID)
            value = conn.execute(query).scalar()
        return None if value is None else str(value)

    def note_runs_recorded(self) -> None:
        """Write the marker saying runs were recorded in this database, naming its id."""
        if self.marker is None or self._marked:
            return
        identity = self.database_id()
        if self.marker.exists() and marker_id(self.marker) == identity:
            self._marked = True
            return
        text = (
            f"digest recorded runs in {self.marker.name.removesuffix(MARKER_SUFFIX)}.\n"
            "If that file is missing, empty or another database, restore it from a backup.\n"
            "Delete this marker only to start a new database on purpose: every recipient\n"
            "would get the current period again.\n"
            f"database-id: {identity}\n"
        )
        try:
            self.marker.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise StoreError(str(self.marker), f"cannot write the marker: {exc}") from exc
        self._marked = True

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """Yield a connection inside one transaction, mapping database errors to StoreError."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError(
                self.engine.url.render_as_string(hide_password=True), str(exc).splitlines()[0]
            ) from exc

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()

    def insert_ignore(self, table: sa.Table) -> Any:
        """Return an INSERT into table that skips rows breaking a unique constraint."""
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table).on_conflict_do_nothing()
        return sqlite.insert(table).on_conflict_do_nothing()
