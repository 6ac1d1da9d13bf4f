"""The base the Store's query classes share: one engine, one short transaction per call."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from digest.errors import StoreError

MARKER_SUFFIX = ".has-runs"


class StoreBase:
    """The database connection: transactions mapped to StoreError, dialect-aware inserts."""

    def __init__(self, engine: Engine, marker: Path | None = None) -> None:
        self.engine = engine
        # Beside an SQLite file: written once a run is recorded, so that a lost or emptied
        # file is refused instead of being recreated empty (which would send every
        # recipient the current period again). None for other databases.
        self.marker = marker

    def note_runs_recorded(self) -> None:
        """Write the marker saying runs were recorded in this database, if not there yet."""
        if self.marker is None or self.marker.exists():
            return
        text = (
            f"digest recorded runs in {self.marker.name.removesuffix(MARKER_SUFFIX)}.\n"
            "If that file is missing or empty, restore it from a backup. Delete this marker\n"
            "only to start a new database on purpose: every recipient would get the current\n"
            "period again.\n"
        )
        try:
            self.marker.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise StoreError(str(self.marker), f"cannot write the marker: {exc}") from exc

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
