"""Events: what the period's articles say, grouped into key events and summarized.

`detect_language` and the text helpers (sentences, stems, TF-IDF) serve every step;
`find_events` clusters a period's articles into events across sources and ranks them;
a `Summarizer` (`default_summarizer`) turns each event into an `EventSummary` quoting its
sources, with key facts and dates, or an `LlmSummarizer` whose text the fact guard
(`find_violations`) checks against the sources; `evaluate` is the `digest eval` harness.
"""

from digest.events import evaluate
from digest.events.cluster import find_events, past_event_from
from digest.events.credits import is_credit_or_caption, strip_inline_credits
from digest.events.guard import find_violations
from digest.events.llm import LlmSummarizer, check_endpoint
from digest.events.rules import RulesOutcome, apply_rules
from digest.events.summarize import Summarizer, default_summarizer
from digest.events.text import detect_language

__all__ = [
    "LlmSummarizer",
    "RulesOutcome",
    "Summarizer",
    "apply_rules",
    "check_endpoint",
    "default_summarizer",
    "detect_language",
    "evaluate",
    "find_events",
    "find_violations",
    "is_credit_or_caption",
    "past_event_from",
    "strip_inline_credits",
]
