"""Measure LSH band layouts for near-duplicate lookup on the dev corpora.

    python bench/dedup_bands.py

Fingerprints every text of ../shared/data/ru-news, ../shared/data/eval and the entries of the
feeds in ../shared/data/feeds, compares every pair (numpy), and for each band layout prints the
share of unrelated pairs (estimated Jaccard < 0.3) that share at least one band (each one is a
candidate to compare at every lookup), what that means per lookup at 100,000 known texts, and
the share of true pairs found at Jaccard 0.5-0.8 (simulated: each one-byte value equal with
probability J + (1 - J) / 256). The layout digest uses (digest.fetch.lsh.BANDS) is "used".
Prints one JSON object last.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from fetch import SHARED  # noqa: E402

from digest.fetch.dedup import PERMUTATIONS, fingerprint  # noqa: E402
from digest.fetch.extract import html_to_text  # noqa: E402
from digest.fetch.lsh import BANDS  # noqa: E402
from digest.fetch.parse import parse_feed  # noqa: E402
from digest.models import FeedSource, FetchResult  # noqa: E402


def corpus_texts() -> dict[str, list[str]]:
    """Return the dev corpora's texts by source."""
    out: dict[str, list[str]] = {"ru-news": [], "eval": [], "feeds": []}
    for line in (SHARED / "ru-news" / "ru-news.jsonl").read_text(encoding="utf-8").splitlines():
        out["ru-news"].append(json.loads(line).get("text", ""))
    for path in sorted((SHARED / "eval").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            doc = json.loads(line)
            parts = [doc.get("text", "")] + [doc.get(k, {}).get("text", "") for k in ("a", "b")]
            out["eval"] += [p for p in parts if p]
    now = datetime.now(UTC)
    for path in sorted((SHARED / "feeds").rglob("*")):
        if path.suffix not in (".xml", ".rss", ".atom") or not path.is_file():
            continue
        try:
            feed = parse_feed(FetchResult(url=path.as_uri(), status=200, body=path.read_bytes()),
                              FeedSource(path.as_uri()), now)  # fmt: skip
        except Exception:  # a fixture of broken XML: not a text source
            continue
        for e in feed.entries:
            out["feeds"].append(html_to_text(max(e.content_html, e.summary_html, key=len)))
    return out


def _layout(rows: int, count: int) -> list[list[int]]:
    if rows * count <= PERMUTATIONS:
        return [list(range(i * rows, (i + 1) * rows)) for i in range(count)]
    rng = np.random.default_rng(0)
    out: list[list[int]] = []
    while len(out) < count:
        order = rng.permutation(PERMUTATIONS)
        out += [sorted(order[i * rows : (i + 1) * rows]) for i in range(PERMUTATIONS // rows)]
    return out[:count]


def measure(sigs: npt.NDArray[np.uint8], bands: list[list[int]]) -> dict[str, object]:
    """Return the candidate rate of unrelated pairs and the simulated recall of a layout."""
    n = len(sigs)
    shared_band = np.zeros((n, n), dtype=bool)
    for band in bands:
        keys = np.zeros(n, dtype=np.int64)
        for pos in band:
            keys = keys * 256 + sigs[:, pos]
        shared_band |= keys[:, None] == keys[None, :]
    equal = np.zeros((n, n), dtype=np.uint8)
    for i in range(n):
        equal[i] = (sigs == sigs[i]).sum(axis=1)
    upper = np.triu_indices(n, 1)
    unrelated = equal[upper] / PERMUTATIONS < 0.3
    rate = float(shared_band[upper][unrelated].mean())
    rng = np.random.default_rng(1)
    recall = {}
    for j in (0.5, 0.6, 0.7, 0.8):
        same = rng.random((20_000, PERMUTATIONS)) < j + (1 - j) / 256
        found = np.zeros(20_000, dtype=bool)
        for band in bands:
            found |= same[:, band].all(axis=1)
        recall[str(j)] = round(float(found.mean()), 4)
    return {"bands": len(bands), "bytes": len(bands[0]), "candidate_rate": rate,
            "candidates_at_100k": round(rate * 100_000, 2), "recall": recall,
            "unrelated_pairs": int(unrelated.sum())}  # fmt: skip


def main() -> None:
    texts = corpus_texts()
    every = [t for part in texts.values() for t in part]
    prints = list(dict.fromkeys(fp for t in every if (fp := fingerprint(t))))
    sigs = np.frombuffer(bytes.fromhex("".join(prints)), dtype=np.uint8).reshape(-1, PERMUTATIONS)
    print({k: len(v) for k, v in texts.items()}, f"{len(sigs)} distinct fingerprints", flush=True)
    layouts = {"2x32 (before)": _layout(2, 32), "3x21": _layout(3, 21),
               "3x42 (used)": [list(b) for b in BANDS], "4x32": _layout(4, 32)}  # fmt: skip
    results = {}
    for name, bands in layouts.items():
        results[name] = measure(sigs, bands)
        print(name, json.dumps(results[name]), flush=True)
    print(json.dumps({"texts": len(sigs), **results}))


if __name__ == "__main__":
    main()
