"""Benchmark: many near-duplicate short items through `digest fetch`'s storage step.

    python bench/neardup.py --items 100000

The items are short stories (the first ~400 characters of the dev corpora's texts), each in
about 50 copies with a small edit (a byline, one changed word, an update time), as a wire's
regional rewrites of one story are. They go through the command's storage step as a fetch
pass sends them: `Storage.write` on feed-sized batches of 100 items, which resolves each
fingerprint against the near-duplicate index and stores the batch in one transaction in a
fresh SQLite file. Fingerprints are computed first and timed apart, in batches of 100 items
as the worker processes compute a feed's items while parsing. Prints one JSON object: the seconds, the number of
distinct fingerprints stored (about the number of stories: the duplicates were grouped, not
skipped) and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from fetch import SHARED  # noqa: E402

from digest.fetch.fingerprint import fingerprints  # noqa: E402
from digest.fetch.storing import FeedWrite, Storage  # noqa: E402
from digest.models import Article, FeedState  # noqa: E402
from digest.store.database import open_store  # noqa: E402

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def stories(count: int) -> list[str]:
    """Return up to count short stories from the dev corpora."""
    out: list[str] = []
    for name in (
        "eval/summarize-bbc.jsonl",
        "ru-news/ru-news.jsonl",
        "eval/events-ecbplus-dev.jsonl",
    ):
        for line in (SHARED / name).read_text(encoding="utf-8").splitlines():
            text = " ".join(json.loads(line).get("text", "").split())
            if len(text) > 400:
                out.append(text[:400].rsplit(" ", 1)[0])
    return out[:count]


def copy_of(rng: random.Random, story: str, n: int) -> str:
    """Return a lightly edited copy of a story."""
    words = story.split()
    words[rng.randrange(len(words))] = rng.choice(("regional", "local", "updated", "latest"))
    byline = rng.choice(("", "By Staff. ", "Agency report. ", "From our correspondent. "))
    return f"{byline}{' '.join(words)} Updated {n % 24:02d}:{n % 60:02d}."


def articles(items: int, per_story: int = 50) -> list[Article]:
    """Return items articles: near-duplicate copies of items / per_story stories."""
    rng = random.Random(11)
    base = stories(max(1, items // per_story))
    out = []
    for n in range(items):
        story = n % len(base)
        text = copy_of(rng, base[story], n)
        out.append(Article(
            feed_url=f"https://feed{n // 100}.example/rss", source="bench", guid=str(n),
            url=f"https://site{n % 97}.example/{n}", title=f"Story {story}", published=NOW,
            text=text, language="en", fetched=NOW,
        ))  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--items", type=int, default=100_000)
    args = ap.parse_args()
    items = articles(args.items)
    started, cpu = time.perf_counter(), time.process_time()
    found = [
        fp
        for i in range(0, len(items), 100)
        for fp in fingerprints([a.text for a in items[i : i + 100]])
    ]
    items = [replace(a, fingerprint=fp) for a, fp in zip(items, found, strict=True)]
    fingerprint_s, fingerprint_cpu_s = time.perf_counter() - started, time.process_time() - cpu
    with tempfile.TemporaryDirectory(prefix="digest-neardup-") as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'db.sqlite3'}")
        storage = Storage(store, NOW)
        started, cpu = time.perf_counter(), time.process_time()
        for i in range(0, len(items), 100):
            batch = items[i : i + 100]
            storage.write([FeedWrite(FeedState(url=batch[0].feed_url), tuple(batch))])
        dedup_s, dedup_cpu_s = time.perf_counter() - started, time.process_time() - cpu
        with store.begin() as conn:
            groups = conn.exec_driver_sql("SELECT COUNT(DISTINCT fingerprint) FROM articles")
            (distinct,) = groups.one()
            stored = store.article_count()
        store.close()
    print(json.dumps({
        "items": args.items, "stored": stored, "stories": max(1, args.items // 50),
        "groups": distinct, "fingerprint_s": fingerprint_s, "fingerprint_cpu_s": fingerprint_cpu_s,
        "dedup_s": dedup_s, "dedup_cpu_s": dedup_cpu_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
