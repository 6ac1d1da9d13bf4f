"""Typed settings: what a config file says, as frozen dataclasses every stage reads.

`load.py` reads them from a TOML file plus DIGEST_* environment overrides, with clear errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal

from digest import __version__
from digest.config.feedlists import union_feeds
from digest.config.llm import LlmSettings
from digest.errors import ConfigError
from digest.models import FeedSource

Security = Literal["starttls", "tls", "none"]
CatchUp = Literal["latest", "none", "all"]
FORMATS = ("pdf", "html")
# Formats a digest or recipient may also ask for: an EPUB and a calendar of "Coming up".
EXTRA_FORMATS = ("epub", "ics")
LANGUAGES = ("en", "ru")
PACKAGE_DIR = Path(__file__).resolve().parents[1]
SAMPLES_DIR = PACKAGE_DIR / "feeds" / "samples"
DEFAULT_USER_AGENT = f"digest/{__version__} (+https://github.com/digest-news/digest)"
MAX_TIMEOUT = 86400.0  # seconds: longer is a typo, and sockets refuse far larger values
MAX_GRACE = timedelta(days=31)  # catch-up walks every missed slot in it at start-up


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """How feeds and pages are fetched."""

    concurrency: int = 16
    per_host: int = 2
    connect_timeout: float = 10.0
    timeout: float = 30.0
    max_bytes: int = 15 * 1024 * 1024
    max_redirects: int = 5
    max_errors: int = 10
    # Networks whose (otherwise refused) private addresses may be fetched: tests, intranets.
    allow_private: tuple[str, ...] = ()
    page_budget: float = 120.0  # seconds for all article pages of one fetch pass
    pages_per_feed: int = 50  # article pages fetched per feed per pass
    user_agent: str = DEFAULT_USER_AGENT
    full_text_min_chars: int = 600


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """The SMTP server digests are sent through."""

    host: str
    port: int = 587
    security: Security = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    from_addr: str = "digest@localhost"
    reply_to: str | None = None
    ca_file: str | None = None
    verify: bool = True
    retry_deadline: timedelta = timedelta(hours=6)
    # Permanent failures (5xx) in a row, across periods, after which an address is
    # suspended until `digest subscribers resume`; 0 never suspends.
    suspend_after: int = 3


@dataclass(frozen=True, slots=True)
class Recipient:
    """One address a digest goes to, with the formats and language it wants."""

    address: str
    name: str = ""
    formats: tuple[str, ...] = FORMATS
    language: str | None = None


@dataclass(frozen=True, slots=True)
class DigestSettings:
    """One `[[digest]]` table: what goes into a digest, when, and to whom."""

    name: str
    title: str
    feeds: tuple[FeedSource, ...]
    schedule: str = "0 7 * * *"
    timezone: str = "UTC"
    window: timedelta = timedelta(hours=24)
    max_events: int = 12
    recipients: tuple[Recipient, ...] = ()
    language: str = "en"
    formats: tuple[str, ...] = FORMATS
    templates_dir: Path | None = None
    catch_up: CatchUp = "latest"
    catch_up_grace: timedelta = timedelta(hours=12)
    summary_sentences: int = 3
    page_size: Literal["A4", "Letter"] = "A4"
    columns: int = 1
    images: bool = False
    attachment_limit: int = 10 * 1024 * 1024
    tag_weights: tuple[tuple[str, float], ...] = ()
    unsubscribe: str | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    summarizer: Literal["extractive", "llm"] = "extractive"
    # Horoscopes, forecasts, adverts, how-to pages: after the news, left out, or in rank.
    not_news: Literal["last", "drop", "keep"] = "last"
    send_empty: bool = False  # mail a period with no stories (default: skip it)
    report_to: str | None = None  # the operator's address for a run's failures, named


@dataclass(frozen=True, slots=True)
class Settings:
    """All of digest's settings, as loaded from one config file and the environment."""

    config_path: Path | None
    data_dir: Path
    storage_url: str
    outbox_dir: Path
    digests: tuple[DigestSettings, ...]
    fetch: FetchSettings = FetchSettings()
    smtp: SmtpSettings | None = None
    fetch_every: timedelta = timedelta(minutes=30)
    maildir: Path | None = None
    keep: timedelta = timedelta(days=90)
    llm: LlmSettings | None = None
    # From DIGEST_UNSUBSCRIBE_SECRET: signs the per-recipient {token} of unsubscribe URLs.
    unsubscribe_secret: str | None = field(default=None, repr=False)

    def digest(self, name: str | None) -> DigestSettings:
        """Return the named digest, or the first one when name is None."""
        if name is None:
            return self.digests[0]
        for d in self.digests:
            if d.name == name:
                return d
        known = ", ".join(d.name for d in self.digests)
        raise ConfigError(
            str(self.config_path or "settings"), f"no digest named {name!r} (known: {known})"
        )

    @property
    def all_feeds(self) -> tuple[FeedSource, ...]:
        """Return every configured feed once, across digests."""
        return union_feeds(*(d.feeds for d in self.digests))
