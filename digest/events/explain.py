"""Why articles were joined: the terms an event's articles share and each merge's similarity.

Built from the merges the clustering records, so it shows what really decided, not a
recomputation; `digest build --explain` prints it and the run report keeps it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from digest.events.text import identity_terms, title_terms
from digest.models import Article, EventExplanation, MergeStep

SHOWN_TERMS = 10


def shared_terms(articles: Sequence[Article], limit: int = SHOWN_TERMS) -> tuple[str, ...]:
    """Return the identity and title terms that most of the event's articles share (>= 2)."""
    counts: Counter[str] = Counter()
    for a in articles:
        terms = identity_terms(a.title, a.text, a.language) + title_terms(
            a.title, a.text, a.language
        )
        counts.update({t.removeprefix("t:") for t in terms})
    shared = [t for t, n in counts.items() if n >= 2]
    return tuple(sorted(shared, key=lambda t: (-counts[t], t))[:limit])


def _meanings(merges: Sequence[tuple[int, int, float]], meaning: np.ndarray) -> list[float | None]:
    """Return, per merge, the mean meaning cosine of its two sides as they were then.

    The merges are replayed in order: each names the cluster of each side by one member,
    and the right side's members join the left's.
    """
    members: dict[int, list[int]] = {}
    out: list[float | None] = []
    for left, right, _ in merges:
        a, b = members.setdefault(left, [left]), members.pop(right, [right])
        block = meaning[a] @ meaning[b].T
        known = bool(meaning[a].any() and meaning[b].any())
        out.append(round(float(block.mean()), 3) if known else None)
        a.extend(b)
    return out


def explain_groups(
    articles: Sequence[Article],
    groups: Sequence[Sequence[int]],
    merges: Sequence[tuple[int, int, float]],
    keys: Sequence[str],
    meaning: np.ndarray | None = None,
) -> list[EventExplanation]:
    """Return one explanation per group: its shared terms and the merges inside it, in order.

    `meaning` holds the articles' meaning vectors (digest.events.meaning), one row each.
    """
    group_of = {i: g for g, members in enumerate(groups) for i in members}
    steps: list[list[MergeStep]] = [[] for _ in groups]
    meanings = _meanings(merges, meaning) if meaning is not None else [None] * len(merges)
    for (left, right, similarity), sense in zip(merges, meanings, strict=True):
        step = MergeStep(articles[left].title, articles[right].title, round(similarity, 3), sense)
        steps[group_of[left]].append(step)
    out = []
    for g, members in enumerate(groups):
        chosen = [articles[i] for i in members]
        out.append(
            EventExplanation(
                key=keys[g],
                headline=chosen[0].title,
                articles=len(chosen),
                terms=shared_terms(chosen) if len(chosen) > 1 else (),
                merges=tuple(steps[g]),
            )
        )
    return out
