"""Read a day of real news as the digest would: which articles become one event, and why.

Every article of a JSON Lines file (`{"title", "text", "url"}` per line, e.g.
../shared/data/ru-news/ru-news.jsonl) is published within one day and clustered by
`find_events_explained`, the code path of `digest build --explain`. Prints each event of two
or more articles with its merges (similarity, and meaning similarity) for reading by eye;
an outlet is a URL's host. The last line is one JSON object.

    .venv/bin/python bench/events_day.py [--file ../shared/data/ru-news/ru-news.jsonl]
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from digest.eval.harness import read_jsonl
from digest.events.cluster import find_events_explained
from digest.models import Article
from digest.text import detect_language

DAY = datetime(2019, 11, 18, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "ru-news" / "ru-news.jsonl"
    parser.add_argument("--file", type=Path, default=default)
    args = parser.parse_args()
    items = read_jsonl(args.file, "background")
    articles = []
    for i, item in enumerate(items):
        url = str(item.get("url") or f"https://example.org/{i}")
        title, text = str(item.get("title") or ""), str(item["text"])
        articles.append(
            Article(
                feed_url=url,
                source=urlsplit(url).hostname or "?",
                guid=str(i),
                url=url,
                title=title,
                published=DAY + timedelta(seconds=86400 * i / len(items)),
                text=text,
                language=str(item.get("language") or detect_language(f"{title}\n{text}")),
                id=i,
            )
        )
    events, why = find_events_explained(articles, now=DAY + timedelta(days=1))
    joined = [(e, w) for e, w in zip(events, why, strict=True) if len(e.articles) > 1]
    for event, explanation in joined:
        outlets = sorted({a.source for a in event.articles})
        print(f"{len(event.articles)} articles, {len(outlets)} outlets: {', '.join(outlets)}")
        for step in explanation.merges:
            meaning = "-" if step.meaning is None else f"{step.meaning:.2f}"
            print(f"  {step.similarity:.3f} (meaning {meaning}): {step.left} + {step.right}")
    print(
        json.dumps(
            {
                "articles": len(articles),
                "events": len(events),
                "events_of_two_or_more": len(joined),
                "events_of_two_or_more_outlets": sum(
                    1 for e, _ in joined if len({a.source for a in e.articles}) > 1
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
