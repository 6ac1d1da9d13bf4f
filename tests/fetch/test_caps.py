"""Unbounded text: a 1 MB title and a 400 KB run-on sentence, served by a loopback
feed, are stored capped and quoted cut at a word with an ellipsis; the digest stays a page."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from httpserver import LoopbackServer, Reply, rss
from pypdf import PdfReader

from digest.config.settings import DigestSettings, FetchSettings, Settings
from digest.events import find_events
from digest.events.summarize import summarize_event
from digest.fetch.ingest import fetch_and_store
from digest.models import FeedSource
from digest.render.compose import compose_digest
from digest.render.outputs import render_digest
from digest.store.database import open_store

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
# The caps README's "Reliability" promises (digest/text/shorten.py).
MAX_TITLE_CHARS, MAX_TEXT_CHARS, MAX_SENTENCE_CHARS = 300, 100_000, 600
WORDS = ("council", "bridge", "river", "budget", "mayor", "vote", "tonight", "plan")


def _run_on(chars: int, offset: int = 0) -> str:
    """Return one 'sentence' of about chars characters: words and no full stop."""
    return " ".join(WORDS[(i + offset) % len(WORDS)] for i in range(chars // 6))


def test_huge_title_and_run_on_sentence_are_capped_from_feed_to_pdf(tmp_path: Path) -> None:
    title, body = _run_on(1_000_000, 3), _run_on(400_000)
    long_one = f"The mayor spoke. {_run_on(50_000, 5)}. The vote is on Friday."
    with LoopbackServer() as server:
        items = [
            (title, server.url("/a"), body),
            ("Mayor speaks at length", server.url("/b"), long_one),
        ]
        server.routes["/feed"] = Reply(200, rss(items, title="Flood " * 100_000))
        source = FeedSource(server.url("/feed"), full_text="never")
        d = DigestSettings(name="t", title="T", feeds=(source,), timezone="UTC")
        settings = Settings(
            config_path=None,
            data_dir=tmp_path,
            storage_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
            outbox_dir=tmp_path / "outbox",
            digests=(d,),
            fetch=replace(
                FetchSettings(timeout=5.0, allow_private=("127.0.0.0/8",)),
                max_bytes=4 * 1024 * 1024,
            ),
        )
        store = open_store(settings.storage_url)
        report = fetch_and_store(settings, store, [source], NOW)
    assert report.new_articles == 2, report.failures
    stored = store.articles_between(NOW - timedelta(days=2), NOW)
    (huge,) = [a for a in stored if a.url.endswith("/a")]
    assert len(huge.title) <= MAX_TITLE_CHARS and huge.title.endswith("…")
    assert title.startswith(huge.title.removesuffix("…"))
    assert title[len(huge.title) - 1] == " "  # cut at a word boundary
    assert len(huge.text) <= MAX_TEXT_CHARS and huge.text.endswith("…")
    assert all(len(a.source) <= 200 for a in stored)

    summaries = [summarize_event(e, sentences=3, now=NOW) for e in find_events(stored, now=NOW)]
    quotes = [q.text for s in summaries for q in s.sentences]
    assert quotes and all(len(q) <= MAX_SENTENCE_CHARS for q in quotes)
    (cut,) = [q for q in quotes if q.endswith("…")]
    assert long_one.startswith(cut.removesuffix("…") + " ")  # cut at a word boundary
    digest = compose_digest(d, summaries, period_start=NOW, period_end=NOW, now=NOW)
    rendered = render_digest(digest, d, formats=("pdf", "html"))
    assert rendered.pdf is not None
    assert len(PdfReader(io.BytesIO(rendered.pdf)).pages) <= 2  # was 122 pages
    assert len(rendered.html) < 50_000  # the email was 1.2 MB
