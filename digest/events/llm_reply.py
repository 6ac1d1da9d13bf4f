"""The model's reply: the JSON asked for, in the digest's language, linked to its sources.

The prompt quotes each article inside a fence made from the event's own text
(`fence_for`, `quoted`); the reply must be a JSON object with a headline and a summary of
sensible length (`parse_reply`) in the digest's language (`in_language`); each of its
sentences is then linked to the article it shares most words with (`attribute`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from digest.events.llm_http import LlmError
from digest.models import Event, SummarySentence
from digest.text import MAX_SENTENCE_CHARS, MAX_TITLE_CHARS, STOP_WORDS, script_counts, tokenize

_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")
_CYRILLIC_LANGUAGES = frozenset({"ru", "uk", "be", "bg", "sr", "mk", "kk"})


@dataclass(frozen=True)
class Reply:
    """What the model said for one event, and what it cost."""

    headline: str
    sentences: tuple[str, ...]
    tokens: int


def parse_reply(raw: str, tokens: int, sentences: int) -> Reply:
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


def reply_text(reply: Reply) -> str:
    """Return the reply as the guard and the language check read it."""
    return "\n".join((reply.headline, *reply.sentences))


def in_language(text: str, language: str) -> bool:
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


def language_name(code: str) -> str:
    """Return the language's English name for the prompt ("Russian"), or the code."""
    from babel import Locale, UnknownLocaleError

    try:
        return str(Locale.parse(code).get_display_name("en"))
    except (ValueError, UnknownLocaleError):
        return code


def fence_for(event: Event) -> str:
    """Return the marker that opens and closes each quoted article in the prompt.

    Made from the event's own text: an article cannot forge its own hash, so it cannot
    close the fence early and write instructions after it.
    """
    h = hashlib.sha256()
    for a in event.articles:
        h.update(f"{a.title}\0{a.text}\0".encode())
    return f"ARTICLE-{h.hexdigest()[:12].upper()}"


def quoted(text: str, fence: str) -> str:
    """Return an article's text without the fence, which it must not close."""
    return text.replace(fence, "")


def attribute(sentences: Sequence[str], event: Event) -> tuple[SummarySentence, ...]:
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
