"""Count the titles of the dev data whose headline the outlet rule changes, and show them.

    .venv/bin/python bench/headlines.py [--data ../shared/data] [--show N]

Reads every feed under feeds/ (the feed's title is its outlet; its other titles give the
shared suffix), ru-news/ru-news.jsonl and eval/pairs-tgcontest-dev.jsonl (URL's site name).
Prints, per set, how many titles the old rule (cut at any dash) and the outlet rule change;
the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import feedparser

from digest.events.headlines import clean_headline, shared_suffixes, site_name


def old_rule(title: str) -> str:
    """Return the title as the old rule cleaned it (any dash cut)."""
    title = re.sub(r"\s+", " ", title).strip()
    return re.sub(r"\s+[|–—-]\s+[^|–—-]{2,40}$", "", title).rstrip(".").strip()


def feed_titles(root: Path) -> list[tuple[str, list[str]]]:
    """Return (title, outlets) for every entry of every feed file under `root`."""
    out = []
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".xml", ".rss", ".atom", ".json") or "serde" in path.name:
            continue
        parsed = feedparser.parse(path.read_bytes())
        titles = [str(e.get("title") or "") for e in parsed.entries]
        shared = shared_suffixes(titles)
        name = str(parsed.feed.get("title") or "")
        for entry, title in zip(parsed.entries, titles, strict=True):
            link = str(entry.get("link") or "")
            out.append((title, [name, site_name(link), *shared]))
    return out


def jsonl_titles(path: Path, pairs: bool) -> list[tuple[str, list[str]]]:
    """Return (title, outlets) of a JSON Lines set; pairs give both sides' titles."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        for side in (item["a"], item["b"]) if pairs else (item,):
            url = str(side.get("url") or "")
            out.append((str(side.get("title") or ""), [site_name(url)]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    parser.add_argument("--show", type=int, default=20)
    args = parser.parse_args()
    sets = {
        "feeds": feed_titles(args.data / "feeds"),
        "ru-news": jsonl_titles(args.data / "ru-news" / "ru-news.jsonl", pairs=False),
        "pairs": jsonl_titles(args.data / "eval" / "pairs-tgcontest-dev.jsonl", pairs=True),
    }
    figures = {}
    for name, titles in sets.items():
        norm = [re.sub(r"\s+", " ", t).strip().rstrip(".").strip() for t, _ in titles]
        old = sum(old_rule(t) != n for (t, _), n in zip(titles, norm, strict=True))
        changed = [
            (t, clean_headline(t, o))
            for (t, o), n in zip(titles, norm, strict=True)
            if clean_headline(t, o) != n
        ]
        figures[name] = {
            "titles": len(titles),
            "old_rule_changes": old,
            "outlet_rule_changes": len(changed),
        }
        print(
            f"{name}: {len(titles)} titles, old rule changes {old}, outlet rule changes {len(changed)}"
        )
        for title, cleaned in changed[: args.show]:
            print(f"   {title!r} -> {cleaned!r}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
