"""The model's endpoint: one chat-completions call, whole by a deadline, or an LlmError.

Any OpenAI-compatible endpoint (Ollama, llama.cpp's server, vLLM, a hosted API) is asked with
one POST; a 429 with a short Retry-After is tried once more. The reply is read in a thread of
its own so that a server trickling bytes cannot hold the run past the call's deadline, and
no more of it is read than a reply of max_tokens can be. `check_endpoint` is `digest
doctor`'s one tiny call.
"""

from __future__ import annotations

import contextlib
import json
import math
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from digest.config import LlmSettings

# The most of a reply's body read: a chat completion of max_tokens tokens is a few KB;
# escaped Cyrillic takes 6 bytes a character and a token is a few characters.
_BODY_BASE, _BODY_PER_TOKEN = 64 * 1024, 32
# What one token costs at most in bytes of text (a byte-level vocabulary), and the chat
# wrapping around the messages: the ceiling of a reported `usage` that the store keeps.
_USAGE_OVERHEAD = 256


class LlmError(Exception):
    """A call that gave no usable reply: the event falls back to the extractive summary."""

    def __init__(self, reason: str, message: str, *, endpoint: bool = True) -> None:
        super().__init__(message)
        self.reason = reason  # the run report's counter: timeout, http_429, bad_json, ...
        # A failure of the endpoint (no reply, an unusable one) counts towards the breaker;
        # a reply the guard refused, or a budget spent, does not.
        self.endpoint = endpoint


def check_endpoint(settings: LlmSettings, client: httpx.Client) -> tuple[str, bool, str]:
    """Return (step, ok, detail) for one tiny chat-completions call (`digest doctor`)."""
    body = {
        "model": settings.model,
        "messages": [{"role": "user", "content": 'Answer with the JSON object {"ok": true}.'}],
        "max_tokens": 16,
    }
    step = f"llm {settings.base_url} ({settings.model})"
    try:
        data = call(client, settings, body, time.monotonic() + settings.timeout, time.monotonic)
        content(data)
    except LlmError as exc:
        if exc.reason.startswith("http_"):
            return step, False, str(exc)
        if exc.reason in ("http", "timeout"):
            return step, False, f"cannot reach it: {exc}"
        return step, False, "the reply is not a chat completion"
    return step, True, f"answered ({usage(data, '', '', 16)} tokens)"


def chat_body(s: LlmSettings, prompt: str) -> dict[str, Any]:
    """Return the request for a JSON reply to the prompt."""
    return {
        "model": s.model,
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": s.max_tokens,
        "temperature": s.temperature,
        "response_format": {"type": "json_object"},
    }


def call(
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


def content(data: dict[str, Any], missing: str | None = None) -> str:
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


def usage(data: dict[str, Any], prompt: str, content: str, max_tokens: int) -> int:
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
