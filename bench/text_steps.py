"""Benchmark: CPU per 50-item feed of the text steps `digest fetch` runs in worker processes.

    python bench/text_steps.py [ROOT] [FEEDS]   # ROOT: a checkout to measure (default: this one)

Feeds are bench/fetch.py's (items of ~3,000 characters of real article text from
../shared/data, `<language>en</language>`), written once to a temporary folder and parsed
before timing. Each step is timed with time.process_time(), the minimum of 3 runs, per
feed: html_to_text, clean_text (clean_html without html_to_text where it exists), the
fingerprints (one batch per feed where `fingerprints` exists), the rest of drafting
(shorten, canonical_url, the Article), prepare_feed without parse_feed, the same without the
feed's language (detect_language then runs on every item), and pickling the result both
ways. Give ROOT to measure another checkout (a worktree of an older commit) the same way.
"""

from __future__ import annotations

import pickle
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else HERE.parent
FEEDS = int(sys.argv[2]) if len(sys.argv) > 2 else 8
sys.path[:0] = [str(ROOT), str(HERE)]

import fetch as bench_fetch  # noqa: E402  (bench/fetch.py: the feed generator)

from digest.fetch import articles, extract, fingerprint  # noqa: E402
from digest.fetch.parse import parse_feed  # noqa: E402
from digest.models import FeedSource, FetchResult  # noqa: E402

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def _best(work: Callable[[], object]) -> float:
    runs = []
    for _ in range(3):
        start = time.process_time()
        work()
        runs.append(time.process_time() - start)
    return min(runs) / FEEDS * 1000


def main() -> None:
    """Print each step's ms per feed."""
    folder = Path(tempfile.mkdtemp(prefix="text-steps-"))
    bench_fetch.build_corpus(folder, FEEDS, 50)
    feeds = []
    for i in range(FEEDS):
        source = FeedSource(url=f"http://x/feed{i}.xml")
        body = (folder / f"feed{i}.xml").read_bytes()
        result = FetchResult(url=source.url, status=200, body=body)
        feeds.append((source, result, parse_feed(result, source, NOW)))
    entries = [e for _, _, feed in feeds for e in feed.entries]
    htmls = [max(e.content_html, e.summary_html, key=len) for e in entries]
    titles = [e.title for e in entries]
    texts = [extract.html_to_text(h) for h in htmls]
    clean = [extract.clean_text(t, title) for t, title in zip(texts, titles, strict=True)]
    out: dict[str, float] = {"html_to_text": _best(lambda: list(map(extract.html_to_text, htmls)))}
    new: Any = extract  # the batched text functions, when ROOT has them
    if hasattr(new, "clean_html"):
        both = _best(lambda: list(map(new.clean_html, htmls, titles)))
        out["clean_text"] = both - out["html_to_text"]
    else:
        out["clean_text"] = _best(lambda: list(map(extract.clean_text, texts, titles)))
    new = fingerprint
    if hasattr(new, "fingerprints"):
        out["fingerprint"] = _best(
            lambda: [new.fingerprints(clean[i : i + 50]) for i in range(0, len(clean), 50)]
        )
    else:
        out["fingerprint"] = _best(lambda: list(map(fingerprint.fingerprint, clean)))
    new = articles
    if hasattr(new, "draft_articles"):
        drafts = _best(lambda: [new.draft_articles(s, f, f.entries, NOW) for s, _, f in feeds])
    else:
        drafts = _best(
            lambda: [articles.draft_article(s, f, e, NOW) for s, _, f in feeds for e in f.entries]
        )
    out["rest of drafting"] = drafts - out["html_to_text"] - out["clean_text"] - out["fingerprint"]
    parse = _best(lambda: [parse_feed(r, s, NOW) for s, r, _ in feeds])
    prepare = _best(lambda: [articles.prepare_feed(r, s, NOW, frozenset()) for s, r, _ in feeds])
    out["prepare_feed - parse_feed"] = prepare - parse
    assert all(r.body for _, r, _ in feeds)
    bare = [
        (s, FetchResult(s.url, 200, (r.body or b"").replace(b"<language>en</language>", b"")))
        for s, r, _ in feeds
    ]
    out["the same, no language"] = (
        _best(lambda: [articles.prepare_feed(r, s, NOW, frozenset()) for s, r in bare]) - parse
    )
    prepared = [articles.prepare_feed(r, s, NOW, frozenset()) for s, r, _ in feeds]
    out["pickle + unpickle"] = _best(lambda: [pickle.loads(pickle.dumps(p)) for p in prepared])
    code = Path(articles.__file__).parents[2]  # the checkout whose digest was imported
    print(f"{code}: {FEEDS} feeds x 50 items; parse_feed {parse:.2f} ms/feed (not counted below)")
    for name, ms in out.items():
        print(f"{name:28s} {ms:6.2f} ms/feed")
    size = sum(len(pickle.dumps(p)) for p in prepared) / FEEDS / 1024
    print(f"{'pickled Prepared':28s} {size:6.1f} KB/feed")


if __name__ == "__main__":
    main()
