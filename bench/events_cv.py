"""Choose the clustering settings by K-fold cross-validation over every labelled set.

The same search as `digest eval cv`, on the shared dev sets: ECB+ dev (folds hold out whole
topics), the same-story pairs (folds hold out pairs) and the categories set as articles of
different stories. The last line is one JSON object: the held-out (cross-validated) figures
first, then those of the setting chosen on everything, on the data it was chosen on.

    .venv/bin/python bench/events_cv.py [--data ../shared/data/eval] [--cv 5]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from digest.eval.crossval import Sets, cross_validate
from digest.eval.harness import read_jsonl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "eval"
    parser.add_argument("--data", type=Path, default=default)
    parser.add_argument("--cv", type=int, default=5, help="number of folds")
    args = parser.parse_args()
    sets = Sets(
        read_jsonl(args.data / "events-ecbplus-dev.jsonl", "events"),
        read_jsonl(args.data / "pairs-tgcontest-dev.jsonl", "pairs"),
        read_jsonl(args.data / "categories-tgcontest-dev.jsonl", "background"),
    )
    report = cross_validate(sets, args.cv, progress=_progress)
    for k, chosen in enumerate(report.fold_choices):
        print(f"fold {k + 1}: {chosen}")
    print(json.dumps(report.as_dict() | {"fold_choices": len(report.fold_choices)}))


def _progress(done: int, total: int) -> None:
    if done % 10 == 0 or done == total:
        print(f"  {done}/{total} settings clustered", flush=True)


if __name__ == "__main__":
    main()
