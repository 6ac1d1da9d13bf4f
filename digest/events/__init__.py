"""Events: what the period's articles say, grouped into key events and summarized.

`detect_language` and the text helpers (sentences, stems, TF-IDF) serve every step;
`shorten` and the MAX_*_CHARS caps bound what is stored and quoted;
`find_events` clusters a period's articles into events across sources and ranks them
(`find_events_explained` also says why each event's articles were joined);
a `Summarizer` (`default_summarizer`) turns each event into an `EventSummary` quoting its
sources, with key facts and dates, or an `LlmSummarizer` whose text the fact guard
(`find_violations`) checks against the sources; `evaluate` is the `digest eval` harness.

Loaded lazily (PEP 562): `from digest.events import shorten` imports only the module that
defines it, so `digest fetch`, which needs the text helpers, does not pay for clustering,
summaries and the LLM client at start (issue 11: a warm pass is mostly start-up).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from digest import lazy_exports

# Imported now, not lazily: they are light, and `shorten` is also a submodule's name, which
# the import system would bind to the package (over the function) when it loads the module.
from digest.events.credits import is_credit_or_caption, strip_inline_credits
from digest.events.shorten import MAX_SOURCE_CHARS, MAX_TEXT_CHARS, MAX_TITLE_CHARS, shorten

if TYPE_CHECKING:
    from digest.events import evaluate
    from digest.events.cluster import find_events, find_events_explained, past_event_from
    from digest.events.guard import find_violations
    from digest.events.llm import LlmSummarizer, check_endpoint
    from digest.events.rules import RulesOutcome, apply_rules
    from digest.events.summarize import Summarizer, default_summarizer
    from digest.events.text import detect_language

# Where each public name lives; `__getattr__` imports that module on first use.
_HOMES = {
    "evaluate": "digest.events.evaluate",
    "find_events": "digest.events.cluster",
    "find_events_explained": "digest.events.cluster",
    "past_event_from": "digest.events.cluster",
    "find_violations": "digest.events.guard",
    "LlmSummarizer": "digest.events.llm",
    "check_endpoint": "digest.events.llm",
    "RulesOutcome": "digest.events.rules",
    "apply_rules": "digest.events.rules",
    "Summarizer": "digest.events.summarize",
    "default_summarizer": "digest.events.summarize",
    "detect_language": "digest.events.text",
}

__all__ = [
    "MAX_SOURCE_CHARS",
    "MAX_TEXT_CHARS",
    "MAX_TITLE_CHARS",
    "LlmSummarizer",
    "RulesOutcome",
    "Summarizer",
    "apply_rules",
    "check_endpoint",
    "default_summarizer",
    "detect_language",
    "evaluate",
    "find_events",
    "find_events_explained",
    "find_violations",
    "is_credit_or_caption",
    "past_event_from",
    "shorten",
    "strip_inline_credits",
]


__getattr__ = lazy_exports(__name__, _HOMES)
