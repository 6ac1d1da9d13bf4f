"""Optional summaries by a language model, checked against the sources, extractive fallback.

`LlmSummarizer` asks any OpenAI-compatible chat-completions endpoint (Ollama, llama.cpp's
server, vLLM, a hosted API) for a headline and a short summary of one event, as JSON. The
fact guard (guard.py) checks every number, date and name against the event's texts; a
violation gets one retry that names it, a second one falls back to the extractive summary.
A timeout, 429, 5xx, bad JSON or an exhausted daily token budget also falls back, for that
event only. Replies are cached by the event's content, so a re-run makes no new calls.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import httpx
import jinja2
from jinja2.sandbox import SandboxedEnvironment

from digest.config import LlmSettings
from digest.events.guard import find_violations
from digest.events.summarize import Summarizer, summarize_event
from digest.models import Event, EventSummary, SummarySentence
from digest.text import tokenize

PROMPT_VERSION = "1"  # part of the cache key: a changed prompt asks again
_TEXT_PER_ARTICLE = 2500  # characters of each article the prompt quotes
_ARTICLES = 6
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


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


class LlmError(Exception):
    """A call that gave no usable reply: the event falls back to the extractive summary."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # the run report's counter: timeout, http_429, bad_json, ...


@dataclass(frozen=True)
class Reply:
    """What the model said for one event, and what it cost."""

    headline: str
    sentences: tuple[str, ...]
    tokens: int


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
    ) -> None:
        self.settings, self.client, self.cache = settings, client, cache
        self.language = language
        self.fallback = fallback
        self.env = SandboxedEnvironment(  # prompts are user data, never code
            loader=jinja2.FileSystemLoader([str(d) for d in template_dirs]),
            autoescape=False,
            undefined=jinja2.StrictUndefined,
        )
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

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
            return base
        return replace(
            base,
            headline=reply.headline or base.headline,
            sentences=_attribute(reply.sentences, event),
            generated_by=self.settings.model,
        )

    def _count(self, name: str) -> None:
        with self._lock:
            self.counts[name] += 1

    def _reply(self, event: Event, sentences: int, now: datetime) -> Reply:
        key = self._key(event, sentences)
        cached = self.cache.llm_reply(key)
        if cached is not None:
            self._count("llm_cached")
            return _parse(cached, 0)
        sources = [f"{a.title}\n{a.text}" for a in event.articles]
        published = max(a.published for a in event.articles)
        violations: tuple[str, ...] = ()
        for attempt in range(2):
            reply, raw = self._ask(event, sentences, now, violations)
            text = "\n".join((reply.headline, *reply.sentences))
            violations = find_violations(text, sources, event.articles[0].language, published)
            if not violations:
                self.cache.save_llm_reply(key, raw, now)
                self._count("llm_generated" if attempt == 0 else "llm_retried_then_kept")
                return reply
        raise LlmError("guard", "; ".join(violations))

    def _ask(
        self, event: Event, sentences: int, now: datetime, violations: Sequence[str]
    ) -> tuple[Reply, str]:
        day = now.strftime("%Y-%m-%d")
        if self.cache.llm_tokens_on(day) >= self.settings.daily_token_budget:
            raise LlmError(
                "budget", f"daily token budget of {self.settings.daily_token_budget} spent"
            )
        prompt = self._prompt(event, sentences, violations)
        data = self._post(prompt)
        tokens = _tokens(data)
        try:
            raw = str(data["choices"][0]["message"]["content"])
        except (KeyError, IndexError, TypeError) as exc:
            raise LlmError("bad_json", "no choices[0].message.content in the reply") from exc
        if tokens:  # counted before the guard looks: a rejected reply costs as much
            self.cache.add_llm_tokens(day, tokens)
        return _parse(raw, tokens), raw

    def _prompt(self, event: Event, sentences: int, violations: Sequence[str]) -> str:
        # A language without its own prompt gets the English one (it says which to write).
        names = [f"llm-summary.{self.language}.j2", "llm-summary.en.j2"]
        template = self.env.select_template(names)
        articles = [
            {"source": a.source, "title": a.title, "text": a.text[:_TEXT_PER_ARTICLE]}
            for a in event.articles[:_ARTICLES]
        ]
        return template.render(articles=articles, sentences=sentences, violations=violations)

    def _post(self, prompt: str) -> dict[str, Any]:
        s = self.settings
        body = {
            "model": s.model,
            "messages": [{"role": "user", "content": prompt}],
            "max_tokens": s.max_tokens,
            "temperature": s.temperature,
            "response_format": {"type": "json_object"},
        }
        headers = {"Authorization": f"Bearer {s.api_key}"} if s.api_key else {}
        for attempt in range(2):
            try:
                response = self.client.post(
                    f"{s.base_url}/chat/completions", json=body, headers=headers, timeout=s.timeout
                )
            except httpx.TimeoutException as exc:
                raise LlmError("timeout", f"no reply within {s.timeout:g} s") from exc
            except httpx.HTTPError as exc:
                raise LlmError("http", type(exc).__name__) from exc
            wait = _retry_after(response, s.retry_after_cap)
            if response.status_code == 429 and attempt == 0 and wait is not None:
                time.sleep(wait)
                continue
            if response.status_code != 200:
                raise LlmError(f"http_{response.status_code}", f"HTTP {response.status_code}")
            try:
                data = response.json()
            except ValueError as exc:
                raise LlmError("bad_json", "the reply is not JSON") from exc
            if not isinstance(data, dict):
                raise LlmError("bad_json", "the reply is not a JSON object")
            return data
        raise LlmError("http_429", "HTTP 429 twice")

    def _key(self, event: Event, sentences: int) -> str:
        h = hashlib.sha256()
        for part in (PROMPT_VERSION, self.settings.model, self.language, str(sentences)):
            h.update(part.encode() + b"\0")
        for a in sorted(event.articles, key=lambda a: a.url):
            h.update(f"{a.url}\0{a.title}\0{a.text}\0".encode())
        return h.hexdigest()


def check_endpoint(settings: LlmSettings, client: httpx.Client) -> tuple[str, bool, str]:
    """Return (step, ok, detail) for one tiny chat-completions call (`digest doctor`)."""
    body = {
        "model": settings.model,
        "messages": [{"role": "user", "content": 'Answer with the JSON object {"ok": true}.'}],
        "max_tokens": 16,
    }
    headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
    step = f"llm {settings.base_url} ({settings.model})"
    try:
        response = client.post(
            f"{settings.base_url}/chat/completions",
            json=body,
            headers=headers,
            timeout=settings.timeout,
        )
        data = response.json() if response.status_code == 200 else None
        content = data["choices"][0]["message"]["content"] if isinstance(data, dict) else None
    except httpx.HTTPError as exc:
        return step, False, f"cannot reach it: {type(exc).__name__}"
    except (ValueError, KeyError, IndexError, TypeError):
        return step, False, "the reply is not a chat completion"
    if response.status_code != 200:
        return step, False, f"HTTP {response.status_code}"
    if not isinstance(content, str):
        return step, False, "the reply is not a chat completion"
    return step, True, f"answered ({_tokens(data or {})} tokens)"


def _retry_after(response: httpx.Response, cap: float) -> float | None:
    """Return the seconds a 429 asks to wait, when a run may wait that long."""
    value = response.headers.get("retry-after", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds <= cap else None


def _tokens(data: dict[str, Any]) -> int:
    usage = data.get("usage")
    if isinstance(usage, dict):
        total = usage.get("total_tokens")
        if isinstance(total, int) and total >= 0:
            return total
    return 0


def _parse(raw: str, tokens: int) -> Reply:
    """Return the reply's headline and sentences; LlmError when it is not the JSON asked for."""
    try:
        data = json.loads(_FENCE.sub("", raw.strip()))
    except ValueError as exc:
        raise LlmError("bad_json", "the model's text is not JSON") from exc
    if not isinstance(data, dict):
        raise LlmError("bad_json", "the model's JSON is not an object")
    summary = data.get("summary")
    if isinstance(summary, str):
        summary = [summary]
    if not isinstance(summary, list) or not summary or not all(isinstance(s, str) for s in summary):
        raise LlmError("bad_json", 'no "summary" list of sentences')
    headline = data.get("headline", "")
    sentences = tuple(" ".join(s.split()) for s in summary if s.strip())
    return Reply(" ".join(str(headline).split()), sentences, tokens)


def _attribute(sentences: Sequence[str], event: Event) -> tuple[SummarySentence, ...]:
    """Link each generated sentence to the article it shares most words with."""
    language = event.articles[0].language
    bags = [set(tokenize(f"{a.title} {a.text[:3000]}", language)) for a in event.articles]
    out = []
    for sentence in sentences:
        words = set(tokenize(sentence, language))
        best = max(range(len(bags)), key=lambda i: len(words & bags[i]))
        a = event.articles[best]
        out.append(SummarySentence(sentence, a.source, a.url, a.id))
    return tuple(out)
