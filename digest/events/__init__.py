"""Events: what the period's articles say, grouped into key events and summarized.

The text toolkit underneath (language, sentences, stems, caps, credits) is `digest.text`;
`find_events` clusters a period's articles into events across sources and ranks them
(`find_events_explained` also says why each event's articles were joined), `news_first`
puts horoscopes, forecasts and adverts after the news;
a `Summarizer` (`default_summarizer`) turns each event into an `EventSummary` quoting its
sources, with key facts and dates, or an `LlmSummarizer` whose text the fact guard
(`find_violations`) checks against the sources. `period_events` and `summarize_period` do
both for one digest's period, as the pipeline calls them. The `digest eval` harness that scores
these steps is `digest.eval`.

Loaded lazily (PEP 562): `from digest.events import find_events` imports only the module
that defines it, so a command that needs one step does not pay for the others (clustering,
summaries, the LLM client) at start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from digest import lazy_exports

if TYPE_CHECKING:
    from digest.events.cluster import (
        cluster_features,
        find_events,
        find_events_explained,
        past_event_from,
    )
    from digest.events.dates import told_as_past
    from digest.events.facts import find_facts
    from digest.events.guard import find_violations
    from digest.events.llm import LlmSummarizer
    from digest.events.llm_http import check_endpoint
    from digest.events.period import (
        as_configured,
        choose_summarizer,
        period_events,
        summarize_period,
    )
    from digest.events.rank import news_first
    from digest.events.rules import RulesOutcome, apply_rules
    from digest.events.similarity import PARAMS, Params, article_features
    from digest.events.summarize import Summarizer, default_summarizer

# Where each public name lives; `__getattr__` imports that module on first use.
_HOMES = {
    "cluster_features": "digest.events.cluster",
    "find_events": "digest.events.cluster",
    "find_events_explained": "digest.events.cluster",
    "past_event_from": "digest.events.cluster",
    "told_as_past": "digest.events.dates",
    "find_facts": "digest.events.facts",
    "find_violations": "digest.events.guard",
    "LlmSummarizer": "digest.events.llm",
    "check_endpoint": "digest.events.llm_http",
    "news_first": "digest.events.rank",
    "RulesOutcome": "digest.events.rules",
    "apply_rules": "digest.events.rules",
    "as_configured": "digest.events.period",
    "choose_summarizer": "digest.events.period",
    "period_events": "digest.events.period",
    "summarize_period": "digest.events.period",
    "PARAMS": "digest.events.similarity",
    "Params": "digest.events.similarity",
    "article_features": "digest.events.similarity",
    "Summarizer": "digest.events.summarize",
    "default_summarizer": "digest.events.summarize",
}

__all__ = [
    "PARAMS",
    "LlmSummarizer",
    "Params",
    "RulesOutcome",
    "Summarizer",
    "apply_rules",
    "article_features",
    "as_configured",
    "check_endpoint",
    "choose_summarizer",
    "cluster_features",
    "default_summarizer",
    "find_events",
    "find_events_explained",
    "find_facts",
    "find_violations",
    "news_first",
    "past_event_from",
    "period_events",
    "summarize_period",
    "told_as_past",
]


__getattr__ = lazy_exports(__name__, _HOMES)
