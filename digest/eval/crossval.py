"""Choose clustering settings by K-fold cross-validation over every labelled set at once.

Three kinds of labels, each scored as the events stage is used, in one period:

- events (ECB+): documents with a gold event; folds hold out whole topics (a topic is two
  events of one kind), scored by B-cubed F1 inside the clustering of all documents;
- pairs: same story or not; folds hold out pairs. The pairs are clustered together with
- negatives: articles of different stories (the categories set), each two of which must
  stay apart: a pair of them put in one event counts as a false merge of the pairs' score.

Fold k's setting is the one with the best mean of the two F1 figures (events, and pairs
with the negatives' false merges) on the other folds; it is then scored on fold k. The
cross-validated figures pool every held-out item; the figures of the setting chosen on
everything are the in-sample (dev) ones, and say nothing about new news on their own.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from digest.eval.harness import article_from, pair_articles
from digest.events import PARAMS, Params, article_features, cluster_features
from digest.models import Article

# Each list runs from the side of not merging to the other, so that ties go to not merging.
GRID: dict[str, list[float]] = {
    "threshold": [0.3, 0.28, 0.26, 0.24, 0.22, 0.2, 0.18],
    "name_weight": [0.5, 0.7],
    "title_weight": [0.1, 0.2],
    "meaning_weight": [0.0, 0.05, 0.1],
}


@dataclass(frozen=True)
class Counts:
    """Pair decisions: true and false merges and missed merges."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    def figures(self) -> dict[str, float]:
        """Return precision, recall and F1 rounded to 4 places."""
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


@dataclass(frozen=True)
class _Bcubed:
    precision: float = 0.0  # summed over items
    recall: float = 0.0
    items: int = 0

    def __add__(self, other: _Bcubed) -> _Bcubed:
        return _Bcubed(
            self.precision + other.precision, self.recall + other.recall, self.items + other.items
        )

    def f1(self) -> float:
        p, r = self.precision / max(1, self.items), self.recall / max(1, self.items)
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class Run:
    """One setting's clusterings of the events set and of the pairs period."""

    events: Sequence[int]
    pairs: Sequence[int]


class Sets:
    """The labelled sets, turned into articles once; `run` clusters both for a setting."""

    def __init__(
        self,
        events: Sequence[Mapping[str, Any]],
        pairs: Sequence[Mapping[str, Any]],
        negatives: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self.event_articles = [article_from(dict(item), i) for i, item in enumerate(events)]
        self.gold = [str(item["event"]) for item in events]
        self.topics = [str(item.get("topic") or _topic(str(item["event"]))) for item in events]
        self.pairs = [bool(item["same_event"]) for item in pairs]
        self.pair_languages = [str(item.get("language") or "en") for item in pairs]
        paired = pair_articles([dict(item) for item in pairs])
        self.negatives = [
            article_from(dict(item) | {"language": item.get("language") or "en"}, len(paired) + i)
            for i, item in enumerate(negatives)
        ]
        self.period: list[Article] = paired + self.negatives
        self._event_features = article_features(self.event_articles) if events else None
        self._period_features = article_features(self.period) if self.period else None

    def run(self, params: Params) -> Run:
        """Return the labels of both clusterings with `params`."""
        events = (
            cluster_features(self.event_articles, self._event_features, params)
            if self._event_features is not None
            else []
        )
        pairs = (
            cluster_features(self.period, self._period_features, params)
            if self._period_features is not None
            else []
        )
        return Run(events, pairs)


def _topic(event: str) -> str:
    """Return the topic of an ECB+ event id ("12b" -> "12"): the event less its letter."""
    return re.sub(r"[a-z]+$", "", event) or event


@dataclass(frozen=True)
class Folds:
    """Which fold holds each event document, each pair and each negative pair."""

    k: int
    events: Sequence[int]
    pairs: Sequence[int]
    negatives: Sequence[tuple[int, int, int]]  # (fold, i, j) over the period's negatives


def make_folds(sets: Sets, k: int) -> Folds:
    """Return K folds: whole topics of the events set, single pairs, and negative pairs."""
    topics = sorted(set(sets.topics), key=lambda t: (len(t), t))
    topic_fold = {t: n % k for n, t in enumerate(topics)}
    first = len(sets.period) - len(sets.negatives)
    negatives = [
        ((i + j) % k, first + i, first + j)
        for i, j in itertools.combinations(range(len(sets.negatives)), 2)
        if sets.negatives[i].language == sets.negatives[j].language
    ]
    return Folds(
        k,
        [topic_fold[t] for t in sets.topics],
        [n % k for n in range(len(sets.pairs))],
        negatives,
    )


def _bcubed(labels: Sequence[int], gold: Sequence[str], keep: Callable[[int], bool]) -> _Bcubed:
    """Return B-cubed sums over the kept items; clusters count members from every fold."""
    size = Counter(labels)
    gold_size = Counter(gold)
    both = Counter(zip(labels, gold, strict=True))
    kept = [(lab, g) for n, (lab, g) in enumerate(zip(labels, gold, strict=True)) if keep(n)]
    return _Bcubed(
        sum(both[lab, g] / size[lab] for lab, g in kept),
        sum(both[lab, g] / gold_size[g] for lab, g in kept),
        len(kept),
    )


def _pair_counts(
    run: Run,
    sets: Sets,
    folds: Folds,
    keep: Callable[[int], bool],
    negatives: bool,
    language: str | None = None,
) -> Counts:
    """Return the pair decisions of the kept folds, with the negatives' false merges."""
    tp = fp = fn = 0
    for n, gold in enumerate(sets.pairs):
        if keep(folds.pairs[n]) and language in (None, sets.pair_languages[n]):
            same = run.pairs[2 * n] == run.pairs[2 * n + 1]
            tp += same and gold
            fp += same and not gold
            fn += gold and not same
    if negatives:
        fp += sum(1 for f, i, j in folds.negatives if keep(f) and run.pairs[i] == run.pairs[j])
    return Counts(tp, fp, fn)


def _objective(run: Run, sets: Sets, folds: Folds, keep: Callable[[int], bool]) -> float:
    """Return the mean of events B-cubed F1 and pairs F1 (negatives included) on kept folds."""
    scores = []
    if sets.gold:
        scores.append(_bcubed(run.events, sets.gold, lambda n: keep(folds.events[n])).f1())
    if sets.pairs or sets.negatives:
        scores.append(_pair_counts(run, sets, folds, keep, True).figures()["f1"])
    return statistics.mean(scores) if scores else 0.0


def settings(grid: Mapping[str, Sequence[float]], base: Params = PARAMS) -> list[Params]:
    """Return every grid point whose block weights leave the lead a share."""
    keys = list(grid)
    out = []
    for values in itertools.product(*(grid[k] for k in keys)):
        p = replace(base, **dict(zip(keys, values, strict=True)))
        if p.name_weight + p.title_weight < 1.0:
            out.append(p)
    return out


def choose(grid: Sequence[Params], scores: Sequence[float]) -> int:
    """Return the index of the setting whose score, averaged with its threshold neighbours', is best.

    A setting on a plateau generalises; one on a spike (a single threshold where two
    stories happen to part) does not. Ties go to the earlier grid point (not merging).
    """
    index = {p: i for i, p in enumerate(grid)}
    steps = sorted({p.threshold for p in grid}, reverse=True)

    def smoothed(i: int) -> float:
        k = steps.index(grid[i].threshold)
        near = [replace(grid[i], threshold=t) for t in steps[max(0, k - 1) : k + 2]]
        return statistics.mean(scores[index[p]] for p in near if p in index)

    return max(range(len(grid)), key=lambda i: (round(smoothed(i), 6), -i))


@dataclass(frozen=True)
class Report:
    """Cross-validated and in-sample figures, and the settings chosen."""

    folds: int
    cv_events_f1: float  # pooled B-cubed F1 of held-out topics
    cv_pairs: dict[str, float]  # held-out pairs alone
    cv_pairs_by_language: dict[str, dict[str, float]]
    cv_pairs_negatives: dict[str, float]  # held-out pairs with held-out negative pairs
    cv_false_merges: int  # held-out negative pairs merged
    chosen: Params  # on all folds: the settings to ship
    dev_events_f1: float
    dev_pairs: dict[str, float]
    dev_false_merges: int
    fold_choices: tuple[Params, ...]
    baseline: dict[str, Any] | None  # the same in-sample figures of `base`

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready values."""
        out = asdict(self)
        out["chosen"] = asdict(self.chosen)
        out["fold_choices"] = [asdict(p) for p in self.fold_choices]
        return out


def _in(fold: int) -> Callable[[int], bool]:
    return lambda f: f == fold


def _out(fold: int) -> Callable[[int], bool]:
    return lambda f: f != fold


def _topics_in(folds: Folds, fold: int) -> Callable[[int], bool]:
    """Return a test of whether event document n is held out in `fold`."""
    return lambda n: folds.events[n] == fold


def _everything(_: int) -> bool:
    return True


def _summary(run: Run, sets: Sets, folds: Folds) -> dict[str, Any]:
    """Return a run's figures on all data: events F1, pairs, and negatives merged."""
    events = _bcubed(run.events, sets.gold, _everything).f1() if sets.gold else 0.0
    alone = _pair_counts(run, sets, folds, _everything, False)
    mixed = _pair_counts(run, sets, folds, _everything, True)
    return {
        "events_f1": round(events, 4),
        "pairs": alone.figures(),
        "false_merges": mixed.fp - alone.fp,
    }


def cross_validate(
    sets: Sets,
    k: int = 5,
    grid: Mapping[str, Sequence[float]] = GRID,
    base: Params = PARAMS,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Return the K-fold figures of choosing from `grid`, and the setting chosen on all."""
    points = settings(grid, base)
    folds = make_folds(sets, k)
    runs = []
    for n, p in enumerate(points):
        runs.append(sets.run(p))
        if progress is not None:
            progress(n + 1, len(points))
    choices = []
    events_sums, pair_counts, with_negatives = _Bcubed(), Counts(), Counts()
    languages = sorted(set(sets.pair_languages))
    by_language = dict.fromkeys(languages, Counts())
    for fold in range(k):
        best = choose(points, [_objective(r, sets, folds, _out(fold)) for r in runs])
        choices.append(points[best])
        held = runs[best]
        if sets.gold:
            events_sums += _bcubed(held.events, sets.gold, _topics_in(folds, fold))
        pair_counts += _pair_counts(held, sets, folds, _in(fold), False)
        with_negatives += _pair_counts(held, sets, folds, _in(fold), True)
        for lang in languages:
            by_language[lang] += _pair_counts(held, sets, folds, _in(fold), False, lang)
    best = choose(points, [_objective(r, sets, folds, _everything) for r in runs])
    dev = _summary(runs[best], sets, folds)
    baseline = _summary(runs[points.index(base)] if base in points else sets.run(base), sets, folds)
    return Report(
        folds=k,
        cv_events_f1=round(events_sums.f1(), 4),
        cv_pairs=pair_counts.figures(),
        cv_pairs_by_language={lang: c.figures() for lang, c in by_language.items()},
        cv_pairs_negatives=with_negatives.figures(),
        cv_false_merges=with_negatives.fp - pair_counts.fp,
        chosen=points[best],
        dev_events_f1=dev["events_f1"],
        dev_pairs=dev["pairs"],
        dev_false_merges=dev["false_merges"],
        fold_choices=tuple(choices),
        baseline=baseline,
    )
