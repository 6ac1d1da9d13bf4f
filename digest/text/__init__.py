"""The text toolkit every stage that reads article text shares: fetch and events alike.

Language and words (`detect_language`, `tokenize`, `stem_words`, `STOP_WORDS`), sentences
(`split_sentences`), length caps (`shorten` and the MAX_*_CHARS bounds on what is stored and
quoted), photo credits and captions (`is_credit_or_caption`, `strip_inline_credits`),
scripts (`script_counts`), days known by name (`named_days`), agency and site furniture
(`strip_wire`: datelines, bylines, counters, promotion tails) and the characters no reader
should get (`strip_controls`: controls and bidi overrides). It sits at the bottom of the
layers, above only `config` and `models`: fetch cleans and caps text with it before storing,
and events reads the stored text with the same rules.
"""

from __future__ import annotations

from digest.text.controls import strip_controls
from digest.text.credits import is_credit_or_caption, strip_inline_credits
from digest.text.language import STOP_WORDS, WORD, detect_language, stem_words, stemmer, tokenize
from digest.text.named_days import named_days
from digest.text.scripts import CYRILLIC, LATIN, script_counts
from digest.text.sentences import split_sentences
from digest.text.shorten import (
    MAX_SENTENCE_CHARS,
    MAX_SOURCE_CHARS,
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
    shorten,
)
from digest.text.wire import strip_wire

__all__ = [
    "CYRILLIC",
    "LATIN",
    "MAX_SENTENCE_CHARS",
    "MAX_SOURCE_CHARS",
    "MAX_TEXT_CHARS",
    "MAX_TITLE_CHARS",
    "STOP_WORDS",
    "WORD",
    "detect_language",
    "is_credit_or_caption",
    "named_days",
    "script_counts",
    "shorten",
    "split_sentences",
    "stem_words",
    "stemmer",
    "strip_controls",
    "strip_inline_credits",
    "strip_wire",
    "tokenize",
]
