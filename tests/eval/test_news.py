"""`digest eval news`: not-news pages told from news on a labelled set, per language."""

from __future__ import annotations

import json
from pathlib import Path

from digestcli import cli

from digest.eval import harness

DATA = Path(__file__).parent.parent / "data" / "eval" / "news-or-not-tgcontest.jsonl"


def test_score_news_counts_against_the_not_news_label() -> None:
    items = harness.read_jsonl(DATA, "news")
    found = harness.score_news(items)["title+lead"]
    figures = found["figures"]["all"]
    assert figures["pages"] == 2  # the two pages labelled not_news
    assert figures["recall"] == 1.0
    # the horoscopes and the forecast are labelled "other" in the set: listed apart
    assert figures["precision"] == 0.4
    assert len(found["flagged_news"]) == 3
    assert all("[other]" in page for page in found["flagged_news"])


def test_cli_news_prints_each_method_and_json() -> None:
    result = cli("eval", "news", str(DATA), "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(figures) == {"title", "title+lead"}
    assert figures["title+lead"]["ru"]["recall"] == 1.0
    assert "flagged, labelled otherwise" in result.stdout
