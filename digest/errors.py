"""Errors raised by digest, one class per stage, each naming its stage and subject.

    DigestError
    ├── ConfigError      config: FILE: KEY: what was expected
    ├── FetchError       fetch: URL: what happened
    ├── ParseError       parse: URL: what is wrong with the feed
    ├── ExtractError     extract: URL: why no text came out
    ├── StoreError       store: what failed in the database
    ├── RenderError      render: TEMPLATE or pdf: what failed
    ├── DeliveryError    deliver: RECIPIENT or server: what failed
    │   └── PermanentDeliveryError   a 5xx answer: retrying will not help
    ├── LockError        lock: PATH: who holds it
    └── EvalError        eval: FILE: line N: what is wrong

Foreign exceptions are mapped once, where they enter, with `raise XError(...) from exc`.
"""

from __future__ import annotations


class DigestError(Exception):
    """Base of every error digest raises on purpose; str() is one line for the user."""

    stage = "digest"

    def __init__(self, subject: str, message: str) -> None:
        self.subject = subject
        self.message = message
        super().__init__(
            f"{self.stage}: {subject}: {message}" if subject else f"{self.stage}: {message}"
        )


class ConfigError(DigestError):
    stage = "config"


class FetchError(DigestError):
    stage = "fetch"


class ParseError(DigestError):
    stage = "parse"


class ExtractError(DigestError):
    stage = "extract"


class StoreError(DigestError):
    stage = "store"


class RenderError(DigestError):
    stage = "render"


class DeliveryError(DigestError):
    stage = "deliver"


class PermanentDeliveryError(DeliveryError):
    """The server refused for good (5xx): the delivery is recorded failed, not retried."""


class LockError(DigestError):
    stage = "lock"


class EvalError(DigestError):
    stage = "eval"
