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
makes no new call.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import httpx
import jinja2
from jinja2.sandbox import SandboxedEnvironment

from digest.config import LlmSettings
from digest.errors import StoreError
from digest.events.guard import Guard, without_orders
from digest.events.summarize import Summarizer, summarize_event
from digest.models import Event, EventSummary, SummarySentence
from digest.text import (
    MAX_SENTENCE_CHARS,
    MAX_TITLE_CHARS,
    STOP_WORDS,
    script_counts,
    shorten,
    tokenize,
)

log = logging.getLogger(__name__)

PROMPT_VERSION = "2"  # part of the cache key, with the rendered prompt itself
_TEXT_PER_ARTICLE = 2500  # characters of each article the prompt quotes
_ARTICLES = 6
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")
# A retry names at most this many of the guard's findings, each cut to a line: a reply
# with 5,000 invented numbers must not make a 200 KB prompt.
_RETRY_VIOLATIONS = 8
_VIOLATION_CHARS = 200
# The most of a reply's body read: a chat completion of max_tokens tokens is a few KB;
# escaped Cyrillic takes 6 bytes a character and a token is a few characters.
_BODY_BASE, _BODY_PER_TOKEN = 64 * 1024, 32
# What one token costs at most in bytes of text (a byte-level vocabulary), and the chat
# wrapping around the messages: the ceiling of a reported `usage` that the store keeps.
_USAGE_OVERHEAD = 256
_CYRILLIC_LANGUAGES = frozenset({"ru", "uk", "be", "bg", "sr", "mk", "kk"})


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

    def __init__(self, reason: str, message: str, *, endpoint: bool = True) -> None:
        super().__init__(message)
        self.reason = reason  # the run report's counter: timeout, http_429, bad_json, ...
        # A failure of the endpoint (no reply, an unusable one) counts towards the breaker;
        # a reply the guard refused, or a budget spent, does not.
        self.endpoint = endpoint


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
            sentences=_attribute(reply.sentences, event),
            generated_by=self.settings.model,
        )

    def _count(self, name: str) -> None:
        with self._lock:
            self.counts[name] += 1

    def _reply(self, event: Event, sentences: int, now: datetime) -> Reply:
        fence = _fence(event)
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
                if not guard.violations(_text(reply)):
                    self._count("llm_cached")
                    return reply
            except LlmError:
                pass
        violations: tuple[str, ...] = ()
        for attempt in range(2):
            prompt = self._prompt(event, sentences, violations, fence)
            reply, raw = self._ask(prompt, sentences, now)
            violations = guard.violations(_text(reply))
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
                data = _call(self.client, s, _body(s, prompt), deadline, self.clock)
            except LlmError as exc:
                if exc.reason == "timeout" and by_budget:  # the run's time, not the endpoint
                    raise LlmError("run_budget", str(exc), endpoint=False) from exc
                raise
            tokens = _usage(data, prompt, _content(data, missing=""), s.max_tokens)
            # Counted before the reply is judged: a refused reply costs as much.
            self.cache.add_llm_tokens(day, tokens)
            raw = _content(data)
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
        reply = _parse(raw, tokens, sentences)
        if not _in_language(_text(reply), self.language):
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
                "title": _quoted(a.title, fence),
                "text": _quoted(without_orders(a.text, a.language)[:_TEXT_PER_ARTICLE], fence),
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
            language_name=_language_name(self.language),
        )

    def _key(self, event: Event, sentences: int, prompt: str) -> str:
        h = hashlib.sha256()
        for part in (PROMPT_VERSION, self.settings.model, self.language, str(sentences), prompt):
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
    step = f"llm {settings.base_url} ({settings.model})"
    try:
        data = _call(client, settings, body, time.monotonic() + settings.timeout, time.monotonic)
        _content(data)
    except LlmError as exc:
        if exc.reason.startswith("http_"):
            return step, False, str(exc)
        if exc.reason in ("http", "timeout"):
            return step, False, f"cannot reach it: {exc}"
        return step, False, "the reply is not a chat completion"
    return step, True, f"answered ({_usage(data, '', '', 16)} tokens)"


# -- the HTTP exchange ---------------------------------------------------------------------


def _body(s: LlmSettings, prompt: str) -> dict[str, Any]:
    return {
        "model": s.model,
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": s.max_tokens,
        "temperature": s.temperature,
        "response_format": {"type": "json_object"},
    }


def _call(
    client: httpx.Client,
    s: LlmSettings,
    body: dict[str, Any],
    deadline: float,
    clock: Callable[[], float],
) -> dict[str, Any]:
    """Return the endpoint's JSON reply, whole, by the deadline; LlmError otherwise."""
    headers = {"Authorization": f"Bearer {s.api_key}"} if s.api_key else {}
    cap = _BODY_BASE + _BODY_PER_TOKEN * s.max_tokens
    url = f"{s.base_url}/chat/completions"
    request = _Request(client, url, body, headers, deadline, cap, clock)
    for attempt in range(2):
        status, retry_after, content = _exchange(request)
        wait = _retry_after(retry_after, s.retry_after_cap)
        if status == 429 and attempt == 0 and wait is not None and clock() + wait < deadline:
            time.sleep(wait)
            continue
        if status != 200:
            raise LlmError(f"http_{status}", f"HTTP {status}")
        try:
            data = json.loads(content)
        except ValueError as exc:
            raise LlmError("bad_json", "the reply is not JSON") from exc
        if not isinstance(data, dict):
            raise LlmError("bad_json", "the reply is not a JSON object")
        return data
    raise LlmError("http_429", "HTTP 429 twice")


class _Exchange:
    """One request run in its own thread, so that the caller can give up on it at a deadline.

    httpx's timeout bounds each read, not the whole reply: a server that sends a byte every
    tenth of a second would hold a call, and the run, for as long as it likes. At the
    deadline the caller stops waiting and shuts the request's socket, which ends the thread.
    """

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: tuple[int, str, bytes] | BaseException | None = None
        self.sockets: list[socket.socket] = []
        self.closed = False
        self.lock = threading.Lock()

    def trace(self, name: str, info: dict[str, Any]) -> None:
        """Keep the socket of each connection made for this request (httpcore's trace hook)."""
        if name.endswith((".connect_tcp.complete", ".start_tls.complete")):
            self._keep(info.get("return_value"))

    def _keep(self, stream: Any) -> None:
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            with self.lock:
                self.sockets.append(sock)
                closed = self.closed
            if closed:
                _shut(sock)

    def response(self, response: httpx.Response) -> None:
        """Keep the socket a reused connection answers on, known once the headers are in."""
        self._keep(response.extensions.get("network_stream"))

    def abort(self) -> None:
        """Shut every socket of this request: a read blocked on one returns at once."""
        with self.lock:
            self.closed = True
            sockets = list(self.sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


@dataclass(frozen=True)
class _Request:
    """One POST to the endpoint: where, what, and by when its reply must be whole."""

    client: httpx.Client
    url: str
    body: dict[str, Any]
    headers: dict[str, str]
    deadline: float  # on `clock`
    cap: int  # the most bytes of reply read
    clock: Callable[[], float]


def _exchange(request: _Request) -> tuple[int, str, bytes]:
    """Return (status, Retry-After, body) of one POST, whole by the deadline; else LlmError."""
    call = _Exchange()

    def run() -> None:
        try:
            call.result = _post(request, call)
        except BaseException as exc:  # handed to the caller's thread, which raises it
            call.result = exc
        finally:
            call.done.set()

    seconds = request.deadline - request.clock()
    threading.Thread(target=run, name="digest-llm-call", daemon=True).start()
    if not call.done.wait(max(0.0, seconds)):
        call.abort()
        raise LlmError("timeout", f"no whole reply within {seconds:.3g} s")
    result = call.result
    if isinstance(result, BaseException):
        raise result
    if result is None:  # done is set only after a result: cannot happen
        raise LlmError("error", "the call ended without a result")
    return result


def _post(request: _Request, call: _Exchange) -> tuple[int, str, bytes]:
    deadline, cap, clock = request.deadline, request.cap, request.clock
    left = max(0.01, deadline - clock())
    try:
        with request.client.stream(
            "POST",
            request.url,
            json=request.body,
            headers=request.headers,
            timeout=httpx.Timeout(left),
            extensions={"trace": call.trace},
        ) as response:
            call.response(response)
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > cap:
                    raise LlmError("too_long", f"the reply is over {cap // 1024} KB")
                if clock() > deadline:
                    raise LlmError("timeout", "the reply did not end in time")
                chunks.append(chunk)
            return response.status_code, response.headers.get("retry-after", ""), b"".join(chunks)
    except httpx.TimeoutException as exc:
        raise LlmError("timeout", f"no reply within {left:.3g} s") from exc
    except httpx.HTTPError as exc:
        if call.closed:
            raise LlmError("timeout", "the reply did not end in time") from exc
        raise LlmError("http", type(exc).__name__) from exc


def _retry_after(value: str, cap: float) -> float | None:
    """Return the seconds a 429 asks to wait, when a run may wait that long."""
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds <= cap else None


# -- the reply -----------------------------------------------------------------------------


def _content(data: dict[str, Any], missing: str | None = None) -> str:
    """Return the model's text; LlmError when there is none (or `missing`, when given)."""
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        if missing is not None:
            return missing
        raise LlmError("bad_json", "no choices[0].message.content in the reply") from exc
    if not isinstance(content, str):
        if missing is not None:
            return missing
        raise LlmError("bad_json", "choices[0].message.content is not text")
    return content


def _usage(data: dict[str, Any], prompt: str, content: str, max_tokens: int) -> int:
    """Return the tokens a call cost: the reported total, or an estimate when there is none.

    A reported total is believed up to what the prompt and the reply could have cost at one
    token a byte (plus max_tokens for reasoning kept out of the reply); 2**64 is no count.
    An absent one is estimated at a token for every three characters, which overcounts English.
    """
    ceiling = len(prompt.encode()) + len(content.encode()) + max_tokens + _USAGE_OVERHEAD
    usage = data.get("usage")
    total = usage.get("total_tokens") if isinstance(usage, dict) else None
    if isinstance(total, float) and math.isfinite(total):
        total = int(total)
    if isinstance(total, int) and not isinstance(total, bool) and total > 0:
        return min(total, ceiling)
    return min(ceiling, math.ceil((len(prompt) + len(content)) / 3))


def _parse(raw: str, tokens: int, sentences: int) -> Reply:
    """Return the reply's headline and sentences; LlmError when it is not the JSON asked for,
    or its text is empty or longer than an extractive summary's would be."""
    try:
        data = json.loads(_FENCE.sub("", raw.strip()))
    except ValueError as exc:
        raise LlmError("bad_json", "the model's text is not JSON") from exc
    if not isinstance(data, dict):
        raise LlmError("bad_json", "the model's JSON is not an object")
    summary, headline = data.get("summary"), data.get("headline")
    if isinstance(summary, str):
        summary = [summary]
    if not isinstance(summary, list) or not all(isinstance(s, str) for s in summary):
        raise LlmError("bad_reply", '"summary" is not a list of sentences')
    if not isinstance(headline, str):
        raise LlmError("bad_reply", '"headline" is not text')
    headline = " ".join(headline.split())
    lines = [" ".join(s.split()) for s in summary]
    lines = [s for s in lines if s]
    if not headline or not lines:
        raise LlmError("bad_reply", "the headline or the summary is empty")
    lines = lines[:sentences]  # each sentence stands alone: the ones asked for are kept
    if len(headline) > MAX_TITLE_CHARS or any(len(s) > MAX_SENTENCE_CHARS for s in lines):
        raise LlmError(
            "too_long",
            f"a headline over {MAX_TITLE_CHARS} or a sentence over {MAX_SENTENCE_CHARS} characters",
        )
    return Reply(headline, tuple(lines), tokens)


def _text(reply: Reply) -> str:
    return "\n".join((reply.headline, *reply.sentences))


def _in_language(text: str, language: str) -> bool:
    """Tell whether text is in the language: its script, and no other language's function
    words where the language's own are missing. A language we cannot tell passes."""
    cyrillic, latin = script_counts(text)
    if language in _CYRILLIC_LANGUAGES:
        return cyrillic > latin
    if language not in STOP_WORDS:
        return True
    if cyrillic > latin:
        return False
    words = [w.lower() for w in re.findall(r"[^\W\d_]+", text)]
    own = sum(w in STOP_WORDS[language] for w in words)
    other = max(
        (sum(w in STOP_WORDS[lang] for w in words) for lang in STOP_WORDS if lang != language),
        default=0,
    )
    return not (other >= 4 and other > 2 * own + 1)


def _language_name(code: str) -> str:
    """Return the language's English name for the prompt ("Russian"), or the code."""
    from babel import Locale, UnknownLocaleError

    try:
        return str(Locale.parse(code).get_display_name("en"))
    except (ValueError, UnknownLocaleError):
        return code


def _fence(event: Event) -> str:
    """Return the marker that opens and closes each quoted article in the prompt.

    Made from the event's own text: an article cannot forge its own hash, so it cannot
    close the fence early and write instructions after it.
    """
    h = hashlib.sha256()
    for a in event.articles:
        h.update(f"{a.title}\0{a.text}\0".encode())
    return f"ARTICLE-{h.hexdigest()[:12].upper()}"


def _quoted(text: str, fence: str) -> str:
    return text.replace(fence, "")


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
