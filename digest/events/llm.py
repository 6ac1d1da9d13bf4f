"""Optional summaries by a language model, checked against the sources, extractive fallback.

`LlmSummarizer` asks any OpenAI-compatible chat-completions endpoint (Ollama, llama.cpp's
server, vLLM, a hosted API) for a headline and a short summary of one event, as JSON. The
prompt fences the articles as data. The reply must be that JSON, of sensible length, in the
digest's language; then the fact guard (guard.py) checks every number, date, name and
sentence against the event's texts. A violation gets one retry that names it (a bounded
list), a second one falls back to the extractive summary.

Whatever goes wrong with one event falls back for that event only, and is counted by reason
(`llm_fallback_<reason>`). A run cannot be held up: each call has a whole-call deadline
(`timeout`, the reply's last byte included), the run's calls share a time budget
(`run_budget`), and after `max_consecutive_failures` failed calls in a row the run stops
asking. Replies are cached by the rendered prompt and the event's content, so a re-run
makes no new call. The HTTP call is `llm_http.py`; reading and checking the reply,
`llm_reply.py`.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Protocol

import httpx
import jinja2
from jinja2.sandbox import SandboxedEnvironment

from digest.config import LlmSettings
from digest.errors import StoreError
from digest.events.guard import Guard, without_orders
from digest.events.llm_http import LlmError, call, chat_body, content, usage
from digest.events.llm_http import check_endpoint as check_endpoint
from digest.events.llm_reply import (
    Reply,
    attribute,
    fence_for,
    in_language,
    language_name,
    parse_reply,
    quoted,
    reply_text,
)
from digest.events.summarize import Summarizer, summarize_event
from digest.models import Event, EventSummary
from digest.text import shorten

log = logging.getLogger(__name__)

PROMPT_VERSION = "2"  # part of the cache key, with the rendered prompt itself
_TEXT_PER_ARTICLE = 2500  # characters of each article the prompt quotes
_ARTICLES = 6
# A retry names at most this many of the guard's findings, each cut to a line: a reply
# with 5,000 invented numbers must not make a 200 KB prompt.
_RETRY_VIOLATIONS = 8
_VIOLATION_CHARS = 200


class LlmCache(Protocol):
    """Where replies and the day's token use are kept (the Store implements it)."""

    def llm_reply(self, key: str) -> str | None:
        """Return the cached reply for key, or None."""
        ...

    def save_llm_reply(self, key: str, reply: str, now: datetime) -> None:
        """Keep a reply that passed the guard."""
        ...

    def add_llm_tokens(self, day: str, tokens: int) -> None:
        """Count tokens spent on day (YYYY-MM-DD), kept or not."""
        ...

    def llm_tokens_on(self, day: str) -> int:
        """Return the tokens spent on day (YYYY-MM-DD, UTC)."""
        ...


class LlmSummarizer:
    """A Summarizer that asks a model and keeps only what the guard passes."""

    def __init__(
        self,
        settings: LlmSettings,
        client: httpx.Client,
        cache: LlmCache,
        template_dirs: Sequence[Path],
        language: str,
        fallback: Summarizer | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings, self.client, self.cache = settings, client, cache
        self.language = language
        self.fallback = fallback
        self.clock = clock
        self.env = SandboxedEnvironment(  # prompts are user data, never code
            loader=jinja2.FileSystemLoader([str(d) for d in template_dirs]),
            autoescape=False,
            undefined=jinja2.StrictUndefined,
        )
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._budget_ends: float | None = None  # the run's budget starts with its first call
        self._failures = 0  # endpoint failures in a row

    def summarize(self, event: Event, *, sentences: int, now: datetime) -> EventSummary:
        """Return the model's checked summary, or the extractive one when it cannot be had."""
        base = (
            self.fallback.summarize(event, sentences=sentences, now=now)
            if self.fallback
            else summarize_event(event, sentences=sentences, now=now)
        )
        try:
            reply = self._reply(event, sentences, now)
        except LlmError as exc:
            self._count(f"llm_fallback_{exc.reason}")
            log.info("llm: event %s: extractive summary: %s: %s", event.key, exc.reason, exc)
            return base
        except StoreError:
            raise  # the database, not this event: the run stops (exit 2)
        except Exception as exc:  # one event's surprise must not drop it from the digest
            self._count("llm_fallback_error")
            log.warning("llm: event %s: extractive summary: %s", event.key, type(exc).__name__)
            return base
        return replace(
            base,
            headline=reply.headline,
            sentences=attribute(reply.sentences, event),
            generated_by=self.settings.model,
        )

    def _count(self, name: str) -> None:
        with self._lock:
            self.counts[name] += 1

    def _reply(self, event: Event, sentences: int, now: datetime) -> Reply:
        fence = fence_for(event)
        key = self._key(event, sentences, self._prompt(event, sentences, (), fence))
        guard = Guard(
            [f"{a.title}\n{a.text}" for a in event.articles],
            event.articles[0].language,
            max(a.published for a in event.articles),
        )
        cached = self.cache.llm_reply(key)
        if cached is not None:
            try:  # checked again: a reply kept by an older guard may not pass this one
                reply = self._check(cached, 0, sentences)
                if not guard.violations(reply_text(reply)):
                    self._count("llm_cached")
                    return reply
            except LlmError:
                pass
        violations: tuple[str, ...] = ()
        for attempt in range(2):
            prompt = self._prompt(event, sentences, violations, fence)
            reply, raw = self._ask(prompt, sentences, now)
            violations = guard.violations(reply_text(reply))
            if not violations:
                self.cache.save_llm_reply(key, raw, now)
                self._count("llm_generated" if attempt == 0 else "llm_retried_then_kept")
                return reply
        raise LlmError("guard", "; ".join(violations), endpoint=False)

    def _ask(self, prompt: str, sentences: int, now: datetime) -> tuple[Reply, str]:
        """Return the checked reply to one prompt and its raw text; LlmError when none."""
        day = now.strftime("%Y-%m-%d")
        s = self.settings
        if self.cache.llm_tokens_on(day) >= s.daily_token_budget:
            raise LlmError(
                "budget", f"daily token budget of {s.daily_token_budget} spent", endpoint=False
            )
        deadline, by_budget = self._deadline()
        try:
            try:
                data = call(self.client, s, chat_body(s, prompt), deadline, self.clock)
            except LlmError as exc:
                if exc.reason == "timeout" and by_budget:  # the run's time, not the endpoint
                    raise LlmError("run_budget", str(exc), endpoint=False) from exc
                raise
            tokens = usage(data, prompt, content(data, missing=""), s.max_tokens)
            # Counted before the reply is judged: a refused reply costs as much.
            self.cache.add_llm_tokens(day, tokens)
            raw = content(data)
            reply = self._check(raw, tokens, sentences)
        except LlmError as exc:
            if exc.endpoint:
                self._failed()
            raise
        with self._lock:
            self._failures = 0
        return reply, raw

    def _deadline(self) -> tuple[float, bool]:
        """Return when this call must be over (the call's timeout, within the run's budget),
        and whether the budget set it; LlmError when the run must not call at all."""
        s = self.settings
        with self._lock:
            now = self.clock()
            if self._failures >= s.max_consecutive_failures:
                raise LlmError(
                    "breaker",
                    f"{self._failures} calls in a row failed: not asking again in this run",
                    endpoint=False,
                )
            if self._budget_ends is None:
                self._budget_ends = now + s.run_budget
            left = self._budget_ends - now
        if left <= 0:
            raise LlmError(
                "run_budget",
                f"the run's {s.run_budget:g} s for the model are spent",
                endpoint=False,
            )
        return now + min(s.timeout, left), left < s.timeout

    def _failed(self) -> None:
        with self._lock:
            self._failures += 1

    def _check(self, raw: str, tokens: int, sentences: int) -> Reply:
        reply = parse_reply(raw, tokens, sentences)
        if not in_language(reply_text(reply), self.language):
            raise LlmError(
                "language", f"the reply is not in the digest's language ({self.language})"
            )
        return reply

    def _prompt(self, event: Event, sentences: int, violations: Sequence[str], fence: str) -> str:
        # A language without its own prompt gets the English one, which names the language.
        names = [f"llm-summary.{self.language}.j2", "llm-summary.en.j2"]
        template = self.env.select_template(names)
        articles = [
            {
                "source": a.source,
                "title": quoted(a.title, fence),
                "text": quoted(without_orders(a.text, a.language)[:_TEXT_PER_ARTICLE], fence),
            }
            for a in event.articles[:_ARTICLES]
        ]
        shown = [shorten(" ".join(v.split()), _VIOLATION_CHARS) for v in violations]
        if len(shown) > _RETRY_VIOLATIONS:
            more = len(shown) - _RETRY_VIOLATIONS + 1
            shown = [*shown[: _RETRY_VIOLATIONS - 1], f"and {more} more like these"]
        return template.render(
            articles=articles,
            sentences=sentences,
            violations=shown,
            fence=fence,
            language=self.language,
            language_name=language_name(self.language),
        )

    def _key(self, event: Event, sentences: int, prompt: str) -> str:
        h = hashlib.sha256()
        for part in (PROMPT_VERSION, self.settings.model, self.language, str(sentences), prompt):
            h.update(part.encode() + b"\0")
        for a in sorted(event.articles, key=lambda a: a.url):
            h.update(f"{a.url}\0{a.title}\0{a.text}\0".encode())
        return h.hexdigest()
