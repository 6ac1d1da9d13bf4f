"""Benchmark: the CPU `digest fetch`'s storage thread spends per new article.

    python bench/storage.py --feeds 200 --items 50 --per-write 4 --repeat 3

A cold pass: every article is new. Texts are ~1,500 characters made of ru-news sentences;
a fifth of them are lightly edited copies of an earlier one (syndication), some within the
same write. Articles go through the storage step as a pass sends them: writes of --per-write
feeds of --items articles. Three parts are timed apart with time.process_time() (the min of
--repeat runs, the machine being shared): resolving the fingerprints against the
near-duplicate index, `Store.store_feeds` into a fresh SQLite file, and `Storage.write` (both,
as the command runs them). Prints one JSON object with microseconds per article.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from fetch import SHARED  # noqa: E402

from digest.fetch.dedup import fingerprint  # noqa: E402
from digest.fetch.lsh import FingerprintIndex  # noqa: E402
from digest.fetch.storing import FeedWrite, Storage  # noqa: E402
from digest.models import Article, FeedState  # noqa: E402
from digest.store.database import open_store  # noqa: E402

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def sentences() -> list[str]:
    """Return the ru-news corpus's sentences."""
    out: list[str] = []
    for line in (SHARED / "ru-news/ru-news.jsonl").read_text(encoding="utf-8").splitlines():
        text = " ".join(json.loads(line).get("text", "").replace("nn", " ").split())
        out.extend(s.strip() + "." for s in text.split(". ") if len(s) > 40)
    return out


def texts(count: int, rng: random.Random) -> list[str]:
    """Return count texts: four in five new, the rest an edited copy of an earlier one."""
    pool = sentences()
    out: list[str] = []
    for _ in range(count):
        if out and rng.random() < 0.2:
            words = rng.choice(out[-300:]).split()
            words[rng.randrange(len(words))] = "обновлено"
            out.append(" ".join(words))
        else:
            out.append(" ".join(rng.choices(pool, k=12))[:1500])
    return out


def writes(feeds: int, items: int, per_write: int) -> list[list[FeedWrite]]:
    """Return the pass's writes: groups of per_write feeds of items articles each."""
    rng = random.Random(7)
    bodies = texts(feeds * items, rng)
    out: list[FeedWrite] = []
    for f in range(feeds):
        url = f"https://feed{f}.example/rss"
        arts = tuple(_article(f, n, bodies[f * items + n]) for n in range(items))
        out.append(FeedWrite(FeedState(url, title=f"Feed {f}", etag='"x"'), arts))
    return [out[i : i + per_write] for i in range(0, len(out), per_write)]


def _article(f: int, n: int, text: str) -> Article:
    return Article(
        feed_url=f"https://feed{f}.example/rss", source=f"Feed {f}", guid=f"g{f}-{n}",
        url=f"https://site{f % 37}.example/{f}/{n}?id={n}", title=f"Story {f} {n}",
        published=NOW, text=text, language="ru", fingerprint=fingerprint(text), fetched=NOW,
        tags=("news",),
    )  # fmt: skip


def cpu(run: Callable[[], None], repeat: int) -> float:
    """Return the least process time of repeat runs."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--per-write", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    batches = writes(args.feeds, args.items, args.per_write)
    n = args.feeds * args.items
    tmp = Path(tempfile.mkdtemp(prefix="digest-storage-"))
    runs = iter(range(10**6))

    resolver = Storage(open_store("sqlite://"), NOW)

    def resolve() -> None:
        index = FingerprintIndex()
        for batch in batches:  # as Storage.write_feeds: one call per transaction
            resolver.resolve(index, [a for w in batch for a in w.articles])

    def store() -> None:
        db = open_store(f"sqlite:///{tmp / f'store{next(runs)}.sqlite3'}")
        for batch in batches:
            db.store_feeds([(w.state, w.articles) for w in batch])
        db.close()

    def write() -> None:
        storage = Storage(open_store(f"sqlite:///{tmp / f'write{next(runs)}.sqlite3'}"), NOW)
        for batch in batches:
            storage.write(batch)
        storage.store.close()

    write()  # warm: imports, statement caches
    result = {"articles": n, "feeds": args.feeds, "per_write": args.per_write}
    for name, run in (("resolve", resolve), ("store_feeds", store), ("write", write)):
        result[f"{name}_us_per_article"] = round(cpu(run, args.repeat) / n * 1e6, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
