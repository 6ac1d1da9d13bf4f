"""`--explain`: why an event's articles were joined, from the events stage to the CLI and report."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from digest.events.cluster import find_events, find_events_explained
from digest.events.similarity import PARAMS
from digest.models import Article, EventExplanation, MergeStep, RunReport

AS_OF = "2018-10-27T07:00:00Z"
NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
QUAKE = (
    "A magnitude 5.9 earthquake struck Qeshm island off southern Iran on Sunday, killing "
    "seven people in the village of Dargahan, Iranian state media said. Rescue teams from "
    "Bandar Abbas reached the island by ferry. The Hormozgan governor said 40 houses collapsed."
)
LIBRARY = (
    "The Vienna city library reopened its reading rooms on Monday after eight months of roof "
    "repairs costing 2 million euros, mayor Michael Ludwig said."
)


def period() -> list[Article]:
    def art(n: int, title: str, text: str) -> Article:
        return Article(
            feed_url=f"https://s{n}.example/feed",
            source=f"s{n}.example",
            guid=str(n),
            url=f"https://s{n}.example/{n}",
            title=title,
            published=NOW - timedelta(hours=n),
            text=text,
            language="en",
            id=n,
        )

    return [
        art(1, "Quake kills seven on Iran's Qeshm island", QUAKE),
        art(2, "Seven dead in southern Iran earthquake", QUAKE.replace("struck", "hit")),
        art(3, "Iran quake on Qeshm island kills 7", QUAKE[:200]),
        art(4, "Vienna library reopens", LIBRARY),
    ]


def test_each_event_says_which_terms_tie_it_and_how_similar_each_merge_was() -> None:
    found, why = find_events_explained(period(), now=NOW)
    assert [w.key for w in why] == [e.key for e in found]  # same order, same keys
    assert found == find_events(period(), now=NOW)  # explaining changes nothing
    quake = why[0]
    assert quake.articles == 3 and len(quake.merges) == 2  # three articles, two merges
    assert {"qeshm", "iran", "dargahan"} <= set(quake.terms)
    titles = {a.title for a in found[0].articles}
    for step in quake.merges:
        assert {step.left, step.right} <= titles
        assert step.similarity >= PARAMS.threshold
    library = next(w for w in why if w.articles == 1)
    assert library.merges == () and library.terms == ()


def test_without_explain_nothing_is_computed() -> None:
    found, why = find_events_explained(period(), now=NOW, explain=False)
    assert why == () and len(found) == len(find_events(period(), now=NOW))


def test_the_run_report_keeps_the_explanations() -> None:
    step = MergeStep("Quake kills seven", "Seven dead in Iran quake", 0.41)
    why = EventExplanation("k1", "Quake kills seven", 2, ("iran", "qeshm"), (step,))
    report = RunReport("world", "2026-11-25", explanations=(why,))
    kept = json.loads(report.to_json())
    assert kept["explain"][0]["terms"] == ["iran", "qeshm"]
    assert kept["explain"][0]["merges"][0]["similarity"] == 0.41
    assert RunReport.from_json(report.to_json()).explanations == (why,)
    assert "explain" not in json.loads(RunReport("world", "2026-11-25").to_json())


def test_build_explain_prints_terms_and_merge_similarities(tmp_path: Path) -> None:
    data = str(tmp_path / "data")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "digest", *args, "--data-dir", data, "--as-of", AS_OF]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    assert cli("fetch", "-q").returncode == 0
    built = cli("build", "--out", str(tmp_path / "out"), "--explain")
    assert built.returncode == 0, built.stderr
    assert "shared terms: " in built.stdout and "klitschko" in built.stdout
    merges = [line for line in built.stdout.splitlines() if "merged at " in line]
    assert merges and all(float(m.split("merged at ")[1][:5]) > 0 for m in merges)
    plain = cli("build", "--out", str(tmp_path / "out2"))
    assert "merged at " not in plain.stdout
