"""Typed values that flow between the pipeline's stages.

These frozen dataclasses are the only types shared across modules: each stage takes and
returns them, never dicts. Times are timezone-aware and in UTC unless a field says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal
from urllib.parse import urlsplit

# The run report's types live beside their JSON (digest/report.py); re-exported here, where
# every stage finds the types it shares.
from digest.report import Delivery as Delivery
from digest.report import DeliveryOutcome as DeliveryOutcome
from digest.report import DeliveryStatus as DeliveryStatus
from digest.report import EventExplanation as EventExplanation
from digest.report import Failure as Failure
from digest.report import FeedHealth as FeedHealth
from digest.report import IngestReport as IngestReport
from digest.report import MergeStep as MergeStep
from digest.report import RunCounts as RunCounts
from digest.report import RunReport as RunReport

FullTextPolicy = Literal["auto", "always", "never"]


def _site(url: str) -> str:
    host = (urlsplit(url).hostname or "").casefold()
    return host.removeprefix("www.").removeprefix("m.")


def _same_domain(host: str, other: str) -> bool:
    """Tell "lenta.ru" and "rss.lenta.ru" (one site's hosts) from two sites."""
    return host.endswith("." + other) or other.endswith("." + host)


# A stage's running commentary, one line per step: a spinner on a terminal, log lines otherwise.
Progress = Callable[[str], None]
# What really happens now (mail Date headers, ledger times, retry deadlines). A run's `now`
# may be a past period's time (catch-up, --as-of); a clock is never that.
Clock = Callable[[], datetime]


def wall_clock() -> datetime:
    """Return the time now, aware, in UTC: the one wall clock digest reads."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class FeedSource:
    """One configured feed: where it is, what to call it and how to treat it."""

    url: str
    name: str = ""
    tags: tuple[str, ...] = ()
    full_text: FullTextPolicy = "auto"
    weight: float = 1.0
    language: str | None = None
    # Keyword rules (see digest/events/rules.py): words, phrases or /regex/.
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """Return the name to show for this feed (its URL when it has no name)."""
        return self.name or self.url


@dataclass(frozen=True, slots=True)
class FeedState:
    """What the store remembers about a feed between fetches."""

    url: str
    title: str = ""
    etag: str | None = None
    last_modified: str | None = None
    error_count: int = 0
    last_error: str | None = None
    last_success_at: datetime | None = None
    next_check_at: datetime | None = None
    disabled: bool = False
    # What the feed's fetch depended on when last tried ([fetch] and its own entry, hashed):
    # a feed backing off is tried at once when these settings have changed since.
    settings_key: str = ""


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The outcome of one HTTP (or file) fetch; `body` is None on 304 or on error."""

    url: str
    status: int
    body: bytes | None = None
    final_url: str = ""
    content_type: str | None = None
    content_location: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    retry_after: float | None = None
    permanent_redirect: str | None = None
    error: str | None = None
    elapsed: float = 0.0
    # Not fetched for lack of time (a timeout, the page budget) or over the per-feed page
    # cap: worth trying again in a later pass, unlike an HTTP error or a refused address.
    deferred: bool = False

    @property
    def ok(self) -> bool:
        """Return True when the fetch produced a body or a 304."""
        return self.error is None and (self.status == 304 or self.body is not None)

    @property
    def not_modified(self) -> bool:
        """Return True for a 304 answer to a conditional GET."""
        return self.status == 304


@dataclass(frozen=True, slots=True)
class Entry:
    """One item of a parsed feed, before text extraction."""

    feed_url: str
    guid: str
    url: str
    title: str
    published: datetime | None
    summary_html: str = ""
    content_html: str = ""
    author: str = ""
    image_url: str | None = None
    language: str | None = None
    # The outlet the item names in its `<source>` (an aggregator's item): "" when none.
    outlet: str = ""


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed's metadata and entries as parsed from bytes."""

    url: str
    title: str
    link: str
    entries: tuple[Entry, ...]
    language: str | None = None
    bozo: str | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """An entry with its clean text: what the store keeps and the events stage groups."""

    feed_url: str
    source: str
    guid: str
    url: str
    title: str
    published: datetime
    text: str
    language: str
    fingerprint: str = ""
    fetched: datetime | None = None
    tags: tuple[str, ...] = ()
    image_url: str | None = None
    id: int | None = None
    weight: float = 1.0
    page_pending: bool = False  # its page was deferred: feed text for now, retried next pass
    # The outlet the item itself names (an aggregator's `<source>`), "" when the feed is it.
    outlet: str = ""

    @property
    def site(self) -> str:
        """Return the host the article's link is on, without "www." or "m."."""
        return _site(self.url)

    @property
    def outlet_key(self) -> str:
        """Return what tells the article's outlet from others: its item's `<source>`, else the
        site its link is on (one site's topic feeds are one outlet), else its feed's name."""
        if self.outlet:
            return "source:" + self.outlet.casefold()
        return self.site or "feed:" + self.source

    @property
    def outlet_name(self) -> str:
        """Return the outlet's name a reader sees: the item's `<source>`; the feed's name when
        the link is on the feed's own site (or has none); else the link's site."""
        if self.outlet:
            return self.outlet
        here, feed = self.site, _site(self.feed_url)
        if not here or not feed or here == feed or _same_domain(here, feed):
            return self.source
        return here


@dataclass(frozen=True, slots=True)
class PastEvent:
    """An event shown in an earlier digest, used to mark continuing stories as developing."""

    key: str
    headline: str
    first_seen: datetime
    article_urls: tuple[str, ...]
    terms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Event:
    """One story told by one or more articles, possibly from several sources."""

    key: str
    articles: tuple[Article, ...]
    score: float = 0.0
    developing_since: datetime | None = None
    continues: str | None = None
    new_article_ids: tuple[int, ...] = ()
    # A horoscope, a forecast, an advert, a how-to page: listed after the news (events.rank).
    not_news: bool = False

    @property
    def sources(self) -> tuple[str, ...]:
        """Return the names of its distinct outlets, in order of first appearance.

        Outlets, not feeds: an aggregator's items from three outlets are three sources, and
        one site's topic feeds are one.
        """
        names: dict[str, str] = {}
        for a in self.articles:
            names.setdefault(a.outlet_key, a.outlet_name)
        return tuple(dict.fromkeys(names.values()))

    @property
    def first_seen(self) -> datetime:
        """Return the earliest publish time among the event's articles."""
        return min(a.published for a in self.articles)

    @property
    def last_seen(self) -> datetime:
        """Return the latest publish time among the event's articles."""
        return max(a.published for a in self.articles)

    @property
    def tags(self) -> tuple[str, ...]:
        """Return the feed tags of the event's articles, most common first."""
        counts: dict[str, int] = {}
        for article in self.articles:
            for tag in article.tags:
                counts[tag] = counts.get(tag, 0) + 1
        return tuple(sorted(counts, key=lambda t: (-counts[t], t)))


@dataclass(frozen=True, slots=True)
class SummarySentence:
    """A sentence quoted exactly from one source article."""

    text: str
    source: str
    url: str
    article_id: int | None = None


DatePart = Literal["", "early", "mid", "late", "month"]


@dataclass(frozen=True, slots=True)
class DatedItem:
    """A date mentioned in the text, resolved against the article's publish date.

    `part` says how much of the date the text gives: "" a day ("6 November"); "early",
    "mid" or "late" a part of `when`'s month ("mid-February", «в конце ноября»); "month"
    the month only ("in July this year"). A vague date keeps a day in `when` for sorting
    and is never shown as that day.
    """

    when: date
    label: str
    text: str
    source: str = ""
    url: str = ""
    approximate: bool = False
    part: DatePart = ""


@dataclass(frozen=True, slots=True)
class KeyFacts:
    """Who and where: names found in an event's articles, most mentioned first."""

    people: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()
    places: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EventSummary:
    """An event ready for a reader: headline, quoted sentences, facts and dates."""

    event: Event
    headline: str
    sentences: tuple[SummarySentence, ...]
    facts: KeyFacts = field(default_factory=KeyFacts)
    dates: tuple[DatedItem, ...] = ()
    image_url: str | None = None
    # The model that wrote headline and sentences (checked against the sources by the fact
    # guard); None for the extractive summary, whose sentences are quoted exactly.
    generated_by: str | None = None

    @property
    def shown(self) -> tuple[Article, ...]:
        """Return the articles a reader is shown, in the event's order: every one a sentence
        quotes, and the first of each outlet that no sentence quotes. Each is linked, and
        key facts are read from these only."""
        quoted = {s.url for s in self.sentences}
        outlets = {a.outlet_key for a in self.event.articles if a.url in quoted}
        out: list[Article] = []
        for a in self.event.articles:
            if a.url in quoted or a.outlet_key not in outlets:
                out.append(a)
                outlets.add(a.outlet_key)
        return tuple(out)


@dataclass(frozen=True, slots=True)
class Section:
    """A titled group of events in a digest (by feed tag)."""

    title: str
    events: tuple[EventSummary, ...]


@dataclass(frozen=True, slots=True)
class Digest:
    """A whole digest: what render and pdf turn into documents."""

    name: str
    title: str
    language: str
    timezone: str
    period_start: datetime
    period_end: datetime
    generated_at: datetime
    sections: tuple[Section, ...]
    coming_up: tuple[DatedItem, ...] = ()
    feed_health: tuple[FeedHealth, ...] = ()
    period: datetime | None = None  # the scheduled time that names the period (subject, files)

    @property
    def events(self) -> tuple[EventSummary, ...]:
        """Return every event summary in reading order."""
        return tuple(e for s in self.sections for e in s.events)

    @property
    def source_count(self) -> int:
        """Return the number of distinct sources across all events."""
        return len({src for e in self.events for src in e.event.sources})

    @property
    def issue_date(self) -> datetime:
        """Return the time that names this issue: its period's scheduled time, else its end."""
        return self.period or self.period_end

    @property
    def failed_feeds(self) -> tuple[FeedHealth, ...]:
        """Return the feeds that failed in this run."""
        return tuple(f for f in self.feed_health if not f.ok)


@dataclass(frozen=True, slots=True)
class Rendered:
    """A digest rendered into the documents that are written and mailed."""

    subject: str
    html: str
    text: str
    pdf: bytes | None
    pdf_note: str | None = None
    epub: bytes | None = None
    ics: bytes | None = None


@dataclass(frozen=True, slots=True)
class MessageParts:
    """One recipient's message as the ledger keeps it: what differs, and the period's body.

    `head` is the recipient's header block (To, Date, Message-ID, List-Unsubscribe, ...,
    ending in CRLF); `body` (from the blank line on) is shared by every recipient of the
    period who asked for the same formats, with each place their unsubscribe token goes
    marked; `token` fills those places. digest/deliver/message.py joins them into the exact
    bytes sent, the same on every retry.
    """

    head: bytes
    body: bytes
    token: str | None = None


@dataclass(frozen=True, slots=True)
class LlmRun:
    """What the language model did in a digest's latest run (`digest status` shows it).

    Kept for every run that asked it, `digest build` and `run --no-send` included, which
    leave no row in the runs table.
    """

    digest: str
    period_key: str
    at: datetime  # the wall clock when the summaries were done
    kind: str  # "run", "run --no-send" or "build"
    counts: tuple[tuple[str, int], ...]  # llm_generated, llm_fallback_timeout, ...


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A row of the runs table: one digest period and how far it got."""

    id: int
    digest: str
    period_key: str
    status: str
    started_at: datetime
    finished_at: datetime | None = None
    report: RunReport | None = None  # None until the run finished
