"""Benchmark: articles from the dev corpora through events and summaries, on one core.

Prints seconds and peak RSS for 5,000 articles and the per-article cost at 1k, 2k, 4k and
8k, and the milliseconds that key facts take per event of a 12-event English and a 12-event
Russian digest (ru-news, beside the eval folder; models loaded before timing); the last line
is one JSON object {"seconds_5000", "peak_rss_mb", "cost_growth_8k_vs_1k",
"facts_ms_per_event": {"en", "ru"}}.

    .venv/bin/python bench/events.py [--data ../shared/data/eval]

The dev corpora hold about 2,700 distinct articles; larger runs reuse them as copies
published MAX_GAP_DAYS + 1 days apart, so a copy never meets its original (as a later week
of news would not) while the collection grows as a real archive would.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from digest.events.cluster import MAX_GAP_DAYS, find_events
from digest.events.summarize import event_facts, summarize_event
from digest.models import Article

FILES = ("summarize-bbc.jsonl", "events-ecbplus-dev.jsonl", "summarize-newsroom.jsonl")
START = datetime(2024, 3, 1, tzinfo=UTC)


def load_texts(data: Path) -> list[tuple[str, str]]:
    """Return (title, text) of every dev article, in a fixed shuffled order."""
    texts: list[tuple[str, str]] = []
    for name in FILES:
        for line in (data / name).read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            texts.append((item.get("title") or "", item["text"]))
    random.Random(7).shuffle(texts)
    return texts


def make_articles(texts: list[tuple[str, str]], count: int) -> list[Article]:
    """Return `count` articles spread over a day per copy of the corpus."""
    gap = timedelta(days=MAX_GAP_DAYS + 1)
    out = []
    for i in range(count):
        copy, k = divmod(i, len(texts))
        title, text = texts[k]
        published = START + copy * gap + timedelta(seconds=86400 * k / len(texts))
        out.append(
            Article(
                feed_url=f"feed{k % 40}",
                source=f"source{k % 40}",
                guid=str(i),
                url=f"https://example.org/{i}",
                title=title,
                published=published,
                text=text,
                language="en",
                id=i,
            )
        )
    return out


def run(articles: list[Article]) -> float:
    """Return the CPU seconds that events and a summary of every event take.

    CPU time, not wall time: the work is single-threaded, and on a shared machine other
    processes' load would otherwise be counted as ours.
    """
    now = max(a.published for a in articles)
    started, wall = time.process_time(), time.perf_counter()
    for event in find_events(articles, now=now):
        summarize_event(event, sentences=3, now=now)
    seconds = time.process_time() - started
    print(f"  ({len(articles)} articles: {time.perf_counter() - wall:.2f} s wall clock)")
    return seconds


DIGEST_EVENTS = 12


def facts_ms_per_event(articles: list[Article]) -> float:
    """Return the CPU milliseconds of key facts per event for a digest's top 12 events."""
    now = max(a.published for a in articles)
    shown = find_events(articles, now=now)[:DIGEST_EVENTS]
    event_facts(shown[0])  # load the language's models once, as a running service has
    started = time.process_time()
    for event in shown:
        event_facts(event)
    return (time.process_time() - started) * 1000 / len(shown)


def russian_articles(path: Path) -> list[Article]:
    """Return the ru-news articles, published over one day."""
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [
        Article(
            feed_url=str(item.get("source") or "ru"),
            source=str(item.get("source") or "ru"),
            guid=str(i),
            url=str(item.get("url") or f"https://example.org/ru/{i}"),
            title=str(item.get("title") or ""),
            published=START + timedelta(seconds=86400 * i / len(items)),
            text=str(item["text"]),
            language="ru",
            id=i,
        )
        for i, item in enumerate(items)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "eval"
    parser.add_argument("--data", type=Path, default=default)
    parser.add_argument("--ru-news", type=Path, default=None, help="ru-news JSON Lines file")
    args = parser.parse_args()
    args.ru_news = args.ru_news or args.data.parent / "ru-news" / "ru-news.jsonl"
    texts = load_texts(args.data)
    seconds_5000 = run(make_articles(texts, 5000))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before larger runs
    print(f" 5000 articles: {seconds_5000:6.2f} s, peak RSS {peak:.0f} MB")
    per_article = {}
    for n in (1000, 2000, 4000, 8000):
        seconds = run(make_articles(texts, n))
        per_article[n] = seconds / n
        print(f"{n:>5} articles: {seconds:6.2f} s, {1000 * seconds / n:.3f} ms per article")
    facts_ms = {
        "en": round(facts_ms_per_event(make_articles(texts, 1000)), 1),
        "ru": round(facts_ms_per_event(russian_articles(args.ru_news)), 1),
    }
    print(f"key facts: {facts_ms['en']} ms per event (en), {facts_ms['ru']} ms (ru)")
    print(
        json.dumps(
            {
                "seconds_5000": round(seconds_5000, 2),
                "peak_rss_mb": round(peak, 1),
                "cost_growth_8k_vs_1k": round(per_article[8000] / per_article[1000], 3),
                "facts_ms_per_event": facts_ms,
            }
        )
    )


if __name__ == "__main__":
    main()
