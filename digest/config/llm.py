"""The `[llm]` table: an OpenAI-compatible chat-completions endpoint for optional summaries.

The API key is never in the file: `api_key_env` names the environment variable that holds it
(none for a local Ollama or llama.cpp server), and a value that cannot go in an HTTP header
is refused here, at load. Every number is range-checked here so a typo cannot turn into a
hung run or an unbounded bill.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from digest.config.tables import TableReader

_KEY = re.compile(r"[\x21-\x7e]{1,4096}")


@dataclass(frozen=True, slots=True)
class LlmSettings:
    """Where and how to ask a language model for summaries; the key only from the env."""

    base_url: str
    model: str
    api_key_env: str | None = None
    api_key: str | None = field(default=None, repr=False)  # never printed, never stored
    timeout: float = 60.0  # one whole call, the reply's last byte included
    max_tokens: int = 400
    temperature: float = 0.2
    concurrency: int = 2
    daily_token_budget: int = 200_000
    retry_after_cap: float = 10.0  # longest Retry-After a run waits for before falling back
    run_budget: float = 600.0  # seconds a digest run may spend on the model, all calls
    max_consecutive_failures: int = 3  # failed calls in a row, then the run stops asking


def read_llm(
    file: str, table: Mapping[str, Any] | None, env: Mapping[str, str]
) -> LlmSettings | None:
    """Return the checked `[llm]` settings, or None when the table is absent."""
    if table is None:
        return None
    r = TableReader(file, "llm.", table)
    base_url = (r.get("base_url", str) or "").rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise r.fail("base_url", "expected an http(s) URL like http://localhost:11434/v1")
    model = r.get("model", str)
    if not model:
        raise r.fail("model", "required: the model name the endpoint knows")
    if "api_key" in table:
        raise r.fail("api_key", "not allowed in the file; name a variable with api_key_env")
    key_env = r.get("api_key_env", str, None)
    if key_env and not env.get(key_env):
        raise r.fail("api_key_env", f"the environment variable {key_env} is not set")
    if key_env and not _KEY.fullmatch(env[key_env]):
        # Sent in an HTTP header, which holds ASCII only: a pasted "sk-…" or a stray space
        # would fail every call. The key itself is never shown.
        raise r.fail(
            "api_key_env",
            f"the value of {key_env} is not an API key: printable ASCII without spaces expected",
        )
    s = LlmSettings(
        base_url=base_url,
        model=model,
        api_key_env=key_env,
        api_key=env.get(key_env) if key_env else None,
        timeout=_number(r, "timeout", 60.0, 0.1, 3600.0),
        max_tokens=int(_number(r, "max_tokens", 400, 16, 32_000)),
        temperature=_number(r, "temperature", 0.2, 0.0, 2.0),
        concurrency=int(_number(r, "concurrency", 2, 1, 32)),
        daily_token_budget=int(_number(r, "daily_token_budget", 200_000, 0, 10**9)),
        retry_after_cap=_number(r, "retry_after_cap", 10.0, 0.0, 600.0),
        run_budget=_number(r, "run_budget", 600.0, 1.0, 86_400.0),
        max_consecutive_failures=int(_number(r, "max_consecutive_failures", 3, 1, 1000)),
    )
    r.finish()
    return s


def _number(r: TableReader, key: str, default: float, low: float, high: float) -> float:
    value = r.get(key, (int, float), default)
    if not math.isfinite(value) or not low <= value <= high:
        raise r.fail(key, f"expected a number from {low:g} to {high:g}, got {value!r}")
    return float(value)
