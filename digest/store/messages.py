"""A delivery's stored message: the recipient's own part in its ledger row, the body once.

A row keeps its recipient's header block and unsubscribe token; the period's body (HTML,
text, PDF, EPUB, .ics) is kept once per run in delivery_bodies, shared by every recipient
with the same body. These read and write that split; digest/deliver/message.py joins the
parts into the exact bytes sent.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from digest.models import MessageParts
from digest.store.database import Store
from digest.store.schema import deliveries, delivery_bodies, store_body


def message_values(
    conn: sa.Connection, run_id: int, message: MessageParts | None
) -> dict[str, Any]:
    """Return a row's message columns, keeping the body once per run."""
    if message is None:
        return {"head": None, "body_id": None, "token": None}
    body_id = store_body(conn, run_id, message.body)
    return {"head": message.head, "body_id": body_id, "token": message.token}


def parts(conn: sa.Connection, row_id: int) -> MessageParts | None:
    d = deliveries.c
    found = conn.execute(sa.select(d.head, d.token, d.body_id).where(d.id == row_id)).first()
    if found is None or found.head is None:
        return None
    body = stored_body(conn, found.body_id) if found.body_id is not None else b""
    return MessageParts(head=bytes(found.head), body=body, token=found.token)


# A body never changes once stored (a new body is a new row), so a process sending a
# period's messages reads it once instead of once per recipient; keyed by database too.
_BODIES: dict[tuple[str, int], bytes] = {}
_BODIES_KEPT = 8


def stored_body(conn: sa.Connection, body_id: int) -> bytes:
    key = (conn.engine.url.render_as_string(hide_password=True), int(body_id))
    if key not in _BODIES:
        b = delivery_bodies.c
        data = conn.execute(sa.select(b.body).where(b.id == body_id)).scalar_one()
        if len(_BODIES) >= _BODIES_KEPT:
            _BODIES.pop(next(iter(_BODIES)))
        _BODIES[key] = bytes(data)
    return _BODIES[key]


def message(store: Store, row_id: int) -> MessageParts | None:
    """Return a row's stored message (None when it could not be built)."""
    with store.begin() as conn:
        return parts(conn, row_id)


def stored_bytes(store: Store) -> dict[str, int]:
    """Return the bytes of messages kept: the shared bodies and the rows' own parts."""
    d, b = deliveries.c, delivery_bodies.c
    with store.begin() as conn:
        bodies = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(sa.func.length(b.body)), 0)))
        own = conn.execute(
            sa.select(
                sa.func.coalesce(sa.func.sum(sa.func.length(d.head)), 0)
                + sa.func.coalesce(sa.func.sum(sa.func.length(d.token)), 0),
                sa.func.count(),
            ).select_from(deliveries)
        ).one()
        return {"bodies": int(bodies.scalar_one()), "rows_own": int(own[0]), "rows": int(own[1])}
