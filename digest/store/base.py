"""The base the Store's query classes share: one engine, one short transaction per call."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from digest.errors import StoreError


class StoreBase:
    """The database connection: transactions mapped to StoreError, dialect-aware inserts."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

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
