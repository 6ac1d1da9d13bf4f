"""Evaluation: `digest eval` scores the stages on labelled JSON Lines sets.

`harness` reads the evaluation formats (see docs/evaluation.md) and scores summaries
(ROUGE), events (B-cubed), same-story pairs (P/R/F1) and key facts beside built-in baselines,
in one run so figures are always comparable; `crossval` chooses the clustering settings by
K-fold cross-validation over every labelled set (`digest eval cv`). It sits above the stages it measures and below
the command line: nothing in the product imports it.
"""

from __future__ import annotations

from digest.eval import harness

__all__ = ["harness"]
