"""Events: what the period's articles say, grouped into key events and summarized.

`detect_language` and the text helpers (sentences, stems, TF-IDF) serve every step;
`find_events` clusters a period's articles into events across sources and ranks them
(`find_events_explained` also says why each event's articles were joined);
a `Summarizer` (`default_summarizer`) turns each event into an `EventSummary` quoting its
sources, with key facts and dates; `evaluate` is the `digest eval` harness.
"""

from digest.events import evaluate
from digest.events.cluster import find_events, find_events_explained, past_event_from
from digest.events.summarize import Summarizer, default_summarizer
from digest.events.text import detect_language

__all__ = [
    "Summarizer",
    "default_summarizer",
    "detect_language",
    "evaluate",
    "find_events",
    "find_events_explained",
    "past_event_from",
]
