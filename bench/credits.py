"""Count photo credits and captions in the dev data before and after cleaning.

    .venv/bin/python bench/credits.py --data ../shared/data [--show N]

ru-news articles (their paragraph breaks are stored as a literal "n"/"nn") and the goose3
pages (trafilatura's text, before `clean_text`) are split into paragraphs; a paragraph counts
when `is_credit_or_caption` says so (credits anywhere, captions before the lead) or it holds an
inline credit such as "(AP Photo/…)". "after" counts the same in `clean_text`'s output. With
`--detector FILE`, the detector comes from that credits.py while `clean_text` is whatever
`digest` imports: run from a checkout of main to count what the old cleaning left.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trafilatura

from digest.fetch.extract import clean_text

_BREAK = re.compile(r"\n+|n{1,2}(?=[А-ЯЁA-Z«\"(—–-])")  # ru-news lost its backslashes


def load_detector(path: Path | None) -> Any:
    """Return the credits module (this checkout's, or the one at `path`)."""
    if path is None:
        from digest.text import credits

        return credits
    spec = importlib.util.spec_from_file_location("credits_under_test", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def count(text: str, detector: Any, split: Callable[[str], list[str]]) -> list[str]:
    """Return the paragraphs of `text` that are credits or captions."""
    found: list[str] = []
    story = False
    for paragraph in (p.strip() for p in split(text)):
        if not paragraph:
            continue
        inline = detector.strip_inline_credits(paragraph) != paragraph
        if detector.is_credit_or_caption(paragraph, leading=not story) or inline:
            found.append(paragraph)
        else:
            story = True
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--detector", type=Path, default=None)
    parser.add_argument("--show", type=int, default=10)
    args = parser.parse_args()
    detector = load_detector(args.detector)
    figures: dict[str, dict[str, int]] = {}
    ru = [json.loads(line) for line in (args.data / "ru-news" / "ru-news.jsonl").open()]
    pages = sorted((args.data / "pages" / "goose3").glob("*.html"))
    sets: dict[str, list[tuple[str, str, Callable[[str], list[str]]]]] = {
        "ru-news": [],
        "goose3": [],
    }
    for item in ru:
        sets["ru-news"].append((item["text"], item.get("title") or "", _BREAK.split))
    for page in pages:
        text = trafilatura.extract(page.read_bytes(), favor_precision=True) or ""
        sets["goose3"].append((text, "", lambda t: t.split("\n")))
    for name, texts in sets.items():
        before: list[str] = []
        after: list[str] = []
        for text, title, split in texts:
            before += count(text, detector, split)
            cleaned = clean_text("\n\n".join(split(text)), title)
            after += count(cleaned, detector, lambda t: t.split("\n\n"))
        figures[name] = {"texts": len(texts), "before": len(before), "after": len(after)}
        print(
            f"{name}: {len(texts)} texts, credits/captions before {len(before)}, after {len(after)}"
        )
        for line in before[: args.show]:
            print(f"   before: {line[:110]!r}")
        for line in after[: args.show]:
            print(f"   after:  {line[:110]!r}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
