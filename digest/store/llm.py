"""Queries for the language-model cache and the daily token count (events' LlmCache), and
what the model did in each digest's latest run."""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa

from digest.models import LlmRun
from digest.store.base import StoreBase
from digest.store.schema import llm_replies, llm_runs, llm_usage


class LlmQueries(StoreBase):
    """Cached model replies by event content, and tokens spent per UTC day."""

    def llm_reply(self, key: str) -> str | None:
        """Return the cached reply for key, or None."""
        with self.begin() as conn:
            row = conn.execute(
                sa.select(llm_replies.c.reply).where(llm_replies.c.key == key)
            ).first()
        return None if row is None else str(row.reply)

    def save_llm_reply(self, key: str, reply: str, now: datetime) -> None:
        """Keep a reply that passed the guard (the first one wins on a race)."""
        with self.begin() as conn:
            conn.execute(
                self.insert_ignore(llm_replies).values(key=key, reply=reply, created_at=now)
            )

    def add_llm_tokens(self, day: str, tokens: int) -> None:
        """Count tokens spent on day (YYYY-MM-DD)."""
        with self.begin() as conn:
            conn.execute(self.insert_ignore(llm_usage).values(day=day, tokens=0))
            conn.execute(
                sa.update(llm_usage)
                .where(llm_usage.c.day == day)
                .values(tokens=llm_usage.c.tokens + tokens)
            )

    def llm_tokens_on(self, day: str) -> int:
        """Return the tokens spent on day, 0 when none."""
        with self.begin() as conn:
            value = conn.execute(
                sa.select(llm_usage.c.tokens).where(llm_usage.c.day == day)
            ).scalar()
        return int(value or 0)

    def record_llm_run(self, run: LlmRun) -> None:
        """Keep what the model did in a digest's run, in place of its previous run's."""
        values = {
            "period_key": run.period_key,
            "at": run.at,
            "kind": run.kind,
            "counts": json.dumps(dict(run.counts)),
        }
        with self.begin() as conn:
            conn.execute(self.insert_ignore(llm_runs).values(digest=run.digest, **values))
            conn.execute(sa.update(llm_runs).where(llm_runs.c.digest == run.digest).values(values))

    def last_llm_run(self, digest: str) -> LlmRun | None:
        """Return what the model did in the digest's latest run, or None when it never ran."""
        with self.begin() as conn:
            row = conn.execute(sa.select(llm_runs).where(llm_runs.c.digest == digest)).first()
        if row is None:
            return None
        counts = json.loads(row.counts)
        return LlmRun(
            digest=row.digest,
            period_key=row.period_key,
            at=row.at,
            kind=row.kind,
            counts=tuple((str(k), int(v)) for k, v in counts.items()),
        )
